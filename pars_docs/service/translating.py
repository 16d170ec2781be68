"""What ``pars-docs translate`` and ``list`` need of the translation workflow and review
status, through the front door (see the package's docstring)."""

from __future__ import annotations

from ..compose.dry_run import check_set
from ..load.library import Library
from ..load.site import load_site
from ..load.translations import review_of
from ..translate.files import _write as write_whole
from ..translate.files import export, import_catalog, stamp

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
