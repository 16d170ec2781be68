"""`--version`, `--help` and `list` start in an instant: they import nothing heavy.

Checked in a fresh interpreter, as a user runs them; the cache of checked sets is warmed
first, as any run after the first finds it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("reportlab", "jinja2", "babel", "jsonschema", "yaml", "multiprocessing", "PIL")


def imported(*args: str, cwd: Path | None = None) -> set[str]:
    """The top-level packages ``pars-docs ARGS`` imports (from ``-X importtime``)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pars_docs", *args],
        capture_output=True,
        cwd=cwd,
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
    assert {"reportlab", "jinja2"} <= found


def _version_in(cache, code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", f"from pars_docs._version import version; {code}"],
        capture_output=True,
        text=True,
        env={**os.environ, "PARS_DOCS_CACHE": str(cache)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_version_is_remembered_until_the_import_path_changes(tmp_path):
    from importlib.metadata import version as installed

    assert _version_in(tmp_path, "print(version())") == installed("pars-docs")
    (record,) = tmp_path.glob("version-*")
    name = record.name.partition("-")[2]
    reading = f"from pars_docs import startup_cache; print(startup_cache.load('version', {name!r}))"
    kept = eval(_version_in(tmp_path, reading))
    assert kept["version"] == installed("pars-docs")

    def keep(value):
        code = (
            "from pars_docs import startup_cache; "
            f"startup_cache.keep('version', {name!r}, {value!r})"
        )
        _version_in(tmp_path, code)

    # A record whose folders' times still match is believed, without the metadata...
    keep({**kept, "version": "9.9.9"})
    assert _version_in(tmp_path, "print(version())") == "9.9.9"
    # ...and one made before an install (a folder's time differs) is not.
    stale = [[entry, (mtime or 0) - 1] for entry, mtime in kept["stamp"]]
    keep({"stamp": stale, "version": "9.9.9"})
    assert _version_in(tmp_path, "print(version())") == installed("pars-docs")
    keep("not a record")
    assert _version_in(tmp_path, "print(version())") == installed("pars-docs")
    # Nor is one written by anyone without the cache's key.
    keep({**kept, "version": "9.9.9"})
    record.write_bytes(record.read_bytes()[:-1] + b"!")
    assert _version_in(tmp_path, "print(version())") == installed("pars-docs")


def test_a_second_make_needs_neither_the_metadata_nor_babel(tmp_path):
    args = ["make", "pars-defect-injection", "--patient", "Ana Díaz", "--date", "2026-12-03"]
    args += ["--time", "8:00 AM", "--clinician", "Dr. Lee"]
    imported(*args, "-o", str(tmp_path / "first.pdf"))
    # A handout written into the working folder (`python -m` puts it first on the import
    # path) changes the folder's time, and the version is still remembered.
    imported(*args, "-o", "second.pdf", cwd=tmp_path)
    found = imported(*args, "-o", "third.pdf", cwd=tmp_path)
    assert "email" not in found  # importlib.metadata imports it
    assert "babel" not in found  # the month and day names are kept (compose/dates.py)
