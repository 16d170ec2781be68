"""`--version`, `--help` and `list` start in an instant: they import nothing heavy.

Checked in a fresh interpreter, as a user runs them; the cache of checked sets is warmed
first, as any run after the first finds it.
"""

import os
import subprocess
import sys

import pytest

HEAVY = ("reportlab", "jinja2", "babel", "jsonschema", "yaml", "multiprocessing", "PIL")


def imported(*args: str) -> set[str]:
    """The top-level packages ``pars-docs ARGS`` imports (from ``-X importtime``)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pars_docs", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return {
        line.split("|")[2].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "self [us]" not in line
    }


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["list"], ["list", "--json"]])
def test_quick_commands_import_nothing_heavy(args):
    imported("list")  # the first run checks the built-in sets and remembers them
    assert not imported(*args) & set(HEAVY)


def test_the_heavy_check_is_a_real_one(tmp_path):
    # `make` does need ReportLab and Jinja: the check above would see them.
    found = imported(
        "make", "pars-defect-injection", "--patient", "Ana Díaz", "--date", "2026-12-03",
        "--time", "8:00 AM", "--clinician", "Dr. Lee", "-o", str(tmp_path / "h.pdf"),
    )  # fmt: skip
    assert {"reportlab", "jinja2", "babel"} <= found
