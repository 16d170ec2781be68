"""pars-docs: personalised, printable patient handouts for pars defect procedures.

The Python API::

    from pars_docs import make_handout
    handout = make_handout("pars-defect-injection", "Ana Díaz", "2026-12-03", "8:00 AM",
                           "Dr. Lee", site="clinic.yaml")
    open("handout.pdf", "wb").write(handout.pdf())
"""

from ._version import __version__
from .errors import ParsDocsError
from .handout import Engine, Handout, make_handout
from .site import Site, load_site
from .visit import Visit, make_visit

__all__ = [
    "Engine",
    "Handout",
    "ParsDocsError",
    "Site",
    "Visit",
    "__version__",
    "load_site",
    "make_handout",
    "make_visit",
]
