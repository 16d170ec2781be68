"""What ``pars-docs translate`` and ``list`` need of the translation workflow and review
status, through the front door (see the package's docstring)."""

from __future__ import annotations

from typing import Any

from ..load.library import Library
from ..load.site import load_site
from ..load.translations import review_of

# The dry run (Jinja) and the PO files (polib) load only when a command uses them, so that
# `--help` and `list` stay light (tests/test_start.py).


def check_set(*args: Any, **kwargs: Any) -> Any:
    from ..compose.dry_run import check_set as check

    return check(*args, **kwargs)


def export(*args: Any, **kwargs: Any) -> Any:
    from ..translate.files import export as export_catalog

    return export_catalog(*args, **kwargs)


def import_catalog(*args: Any, **kwargs: Any) -> Any:
    from ..translate.files import import_catalog as read_catalog

    return read_catalog(*args, **kwargs)


def stamp(*args: Any, **kwargs: Any) -> Any:
    from ..translate.files import stamp as stamp_file

    return stamp_file(*args, **kwargs)


def write_whole(*args: Any, **kwargs: Any) -> Any:
    from ..translate.files import _write

    return _write(*args, **kwargs)


__all__ = [
    "Library",
    "check_set",
    "export",
    "import_catalog",
    "load_site",
    "review_of",
    "stamp",
    "write_whole",
]
