"""Reading the appointment feeds of record systems: FHIR (JSON or XML) and HL7 v2 SIU.

They give the same :class:`~pars_docs.rows.Row`, :class:`~pars_docs.rows.Skipped` and
:class:`~pars_docs.rows.BadRow` results as a CSV (see :mod:`pars_docs.rows`).
"""

from __future__ import annotations

from collections.abc import Iterator

from . import fhir, hl7v2
from .ehr import Feed
from .rows import RowResult, Source, check_pages


def read_appointments(
    source: Source, feed: Feed, pages: tuple[Source, ...] = ()
) -> Iterator[RowResult]:
    """The appointments of a FHIR or HL7 v2 input. ``pages`` are more FHIR files read with
    ``source``: the later pages of a search. The files are read now, so a broken one stops
    the run before any work."""
    check_pages(source, pages)
    if source.format == "fhir":
        data = []
        for each in (source, *pages):
            data.append((fhir.read_resource(each.read_whole(), each.label), each.label))
        return fhir.appointment_rows(data, feed)
    if source.format == "hl7":
        return hl7v2.appointment_rows(source.read_whole(), source.label, feed)
    raise ValueError(f"{source.format} is not a feed; read it with pars_docs.rows.read_rows")
