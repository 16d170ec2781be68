"""pars-docs: personalised, printable patient handouts for pars defect procedures.

The Python API::

    from pars_docs import make_handout
    handout = make_handout("pars-defect-injection", "Ana Díaz", "2026-12-03", "8:00 AM",
                           "Dr. Lee", site="clinic.yaml")
    open("handout.pdf", "wb").write(handout.pdf())
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _localzone  # noqa: F401 - first: a broken TZ is dropped before Babel reads it
from .errors import ParsDocsError

if TYPE_CHECKING:
    from .handout import Engine, Handout, make_handout
    from .load.site import Site, load_site
    from .read.rows import Row
    from .read.visit import Visit, make_visit, visit_from_row

# The API is imported when first used, so that `pars-docs --version` and `--help` (which
# import this package) do not load ReportLab, Jinja and Babel.
_LAZY = {
    "Engine": "handout",
    "Handout": "handout",
    "make_handout": "handout",
    "Site": "load.site",
    "load_site": "load.site",
    "Visit": "read.visit",
    "make_visit": "read.visit",
    "visit_from_row": "read.visit",
    "Row": "read.rows",
}


def __getattr__(name: str):
    if name == "__version__":
        from ._version import version

        return version()
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Engine",
    "Handout",
    "ParsDocsError",
    "Row",
    "Site",
    "Visit",
    "__version__",
    "load_site",
    "make_handout",
    "make_visit",
    "visit_from_row",
]
