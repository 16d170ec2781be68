"""Reading the appointment feeds of record systems: FHIR (JSON or XML) and HL7 v2 SIU.

They give the same :class:`~pars_docs.read.rows.Row`, :class:`~pars_docs.read.rows.Skipped` and
:class:`~pars_docs.read.rows.BadRow` results as a CSV (see :mod:`pars_docs.read.rows`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from . import fhir, hl7v2
from .ehr import Feed
from .rows import BadRow, RowResult, Source, check_pages


def read_appointments(
    source: Source, feed: Feed, pages: tuple[Source, ...] = ()
) -> Iterator[RowResult]:
    """The appointments of a FHIR or HL7 v2 input. ``pages`` are more FHIR files read with
    ``source``: the later pages of a search, or more HL7 v2 files, whose messages are
    numbered on from the first file's. The files are read now, so a broken one stops
    the run before any work."""
    check_pages(source, pages)
    if source.format == "fhir":
        data = []
        for each in (source, *pages):
            data.append((fhir.read_resource(each.read_whole(), each.label), each.label))
        return fhir.appointment_rows(data, feed)
    if source.format == "hl7":
        texts = [(each.read_whole(), each.label) for each in (source, *pages)]
        return _hl7_files(texts, feed)
    raise ValueError(f"{source.format} is not a feed; read it with pars_docs.read.rows.read_rows")


def _hl7_files(texts: list[tuple[str, str]], feed: Feed) -> Iterator[RowResult]:
    """The messages of every HL7 v2 file in turn, numbered on across files."""
    offset = 0
    for text, label in texts:
        last = 0
        for result in hl7v2.appointment_rows(text, label, feed):
            last = result.number
            shifted = dataclasses.replace(result, number=result.number + offset)
            if isinstance(shifted, BadRow):
                shifted.error.row = shifted.number
            yield shifted
        offset += last
