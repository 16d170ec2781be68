"""pars-docs: personalised, printable patient handouts for pars defect procedures.

The Python API::

    from pars_docs import make_handout
    handout = make_handout("pars-defect-injection", "Ana Díaz", "2026-12-03", "8:00 AM",
                           "Dr. Lee", site="clinic.yaml")
    open("handout.pdf", "wb").write(handout.pdf())
"""

__version__ = "0.1.0"

from .errors import ParsDocsError  # noqa: E402
from .handout import Engine, Handout, make_handout  # noqa: E402
from .site import Site, load_site  # noqa: E402
from .visit import Visit, make_visit  # noqa: E402

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
