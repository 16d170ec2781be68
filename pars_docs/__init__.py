"""pars-docs: personalised, printable patient handouts for pars defect procedures.

The Python API::

    from pars_docs import make_handout
    handout = make_handout("pars-defect-injection", "Ana Díaz", "2026-12-03", "8:00 AM",
                           "Dr. Lee", site="clinic.yaml")
    open("handout.pdf", "wb").write(handout.pdf())
"""

from . import _localzone  # noqa: F401 - first: a broken TZ is dropped before Babel reads it
from ._version import __version__
from .errors import ParsDocsError
from .handout import Engine, Handout, make_handout
from .rows import Row
from .site import Site, load_site
from .visit import Visit, make_visit, visit_from_row

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
