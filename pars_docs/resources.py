"""Where the built-in instruction sets, templates and fonts live.

Installed, they sit inside the package (``pars_docs/instructions``); in a source checkout they
are the top-level ``instructions/`` and ``templates/`` folders beside the package.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    for candidate in (PACKAGE / name, PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"pars-docs is missing its {name}/ folder; reinstall the package")


def instructions_dir() -> Path:
    return _data_dir("instructions")


def templates_dir() -> Path:
    return _data_dir("templates")


def fonts_dir() -> Path:
    return PACKAGE / "fonts"
