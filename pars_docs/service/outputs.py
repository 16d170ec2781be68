"""The front door's outputs: the engine that makes a site's handouts, and how each handout is
named, filed (FHIR) and written."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..clock import build_time
from ..load.site import Site
from ..schemas import SCHEMA_VERSION
from ..write.fhir_out import bundle_of, document_identifier, filing_problem
from ..write.names import DEFAULT_NAME, FILE_SUFFIXES, default_filename
from ..write.output import Inputs, write_atomic, write_output

if TYPE_CHECKING:
    from ..handout import Engine, Handout  # noqa: F401 - the types a front end names
    from ..write.fhir_post import ServerWriter, VendorProfile

__all__ = [
    "DEFAULT_NAME",
    "FILE_SUFFIXES",
    "SCHEMA_VERSION",
    "Inputs",
    "build_time",
    "bundle_of",
    "default_filename",
    "document_identifier",
    "engine",
    "filing_problem",
    "print_pdf",
    "server_writer",
    "shaped",
    "write_atomic",
    "write_output",
]


def engine(site: Site, as_of: datetime | None = None, include_past: bool = False) -> Engine:
    """The engine that makes ``site``'s handouts (see :class:`~pars_docs.handout.Engine`).
    ReportLab, Jinja and Babel are imported here, only when a handout is to be made."""
    from ..handout import Engine

    return Engine(site, as_of, include_past)


def server_writer(
    url: str,
    token_file: str | None,
    vendor: str | None,
    mode: str | None,
    site: Site | None = None,
) -> ServerWriter:
    """The writer that files DocumentReferences on a FHIR server (``--fhir-server``; see
    :func:`pars_docs.write.fhir_post.server_writer`), checked before any work."""
    from ..write.fhir_post import server_writer as writer

    return writer(url, token_file, vendor, mode, site)


def shaped(resource: dict, profile: VendorProfile) -> dict:
    """``resource`` as ``profile``'s server takes it (see
    :func:`pars_docs.write.fhir_post.shaped`)."""
    from ..write.fhir_post import shaped as shape

    return shape(resource, profile)


def print_pdf(pdf: bytes, queue: str, *, title: str, duplex: bool = False) -> str:
    """Queue ``pdf`` on the CUPS printer queue ``queue``; the print job's id (see
    :func:`pars_docs.write.printer.send_to_printer`)."""
    from ..write.printer import send_to_printer

    return send_to_printer(pdf, queue, title=title, duplex=duplex)
