"""Every module of the package imports on its own, in a fresh interpreter: an import cycle, or a
module that works only because another was imported first, fails here (as in click's own
tests)."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import pars_docs

PACKAGE = Path(pars_docs.__file__).parent
# Importing __main__ runs the command line; tests/test_install.py runs it as `python -m`.
NOT_IMPORTED = {"pars_docs.__main__"}


def modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return [name for name in names if name not in NOT_IMPORTED]


MODULES = modules()


def test_every_module_is_found():
    assert {"pars_docs", "pars_docs.cli", "pars_docs.cli.batch", "pars_docs.batch"} <= set(MODULES)


def import_alone(module: str) -> str | None:
    """The error importing ``module`` in a fresh interpreter, or None."""
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
    )
    return None if result.returncode == 0 else f"{module}:\n{result.stderr}"


@pytest.mark.slow  # about 50 interpreters: CI runs it; `pytest -m "not slow"` skips it
def test_every_module_imports_alone():
    # One interpreter per module, as many at once as there are cores.
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        failures = [error for error in pool.map(import_alone, MODULES) if error]
    assert not failures, "\n".join(failures)


def test_a_module_that_fails_to_import_is_reported():
    assert "ModuleNotFoundError" in (import_alone("pars_docs.no_such_module") or "")
