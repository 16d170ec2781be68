"""The front door's inputs: the site adjusted for one run, rows from any input (FHIR and
HL7 v2 included) with the code map, one appointment from a feed, and the newest revision of
each booking. Also the names a front end needs to open an input (:class:`Source`, the
formats, a column map) and to read "now" (:func:`parse_as_of`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..errors import DataError, ParsDocsError, UsageError
from ..load.site import ENV_VAR, Site, check_zone, load_site
from ..read.rows import (
    FEEDS,
    FORMATS,
    BadRow,
    Row,
    RowResult,
    Skipped,
    Source,
    check_pages,
    read_mapping,
    read_rows,
)
from ..read.visit import check_date_format, parse_as_of

if TYPE_CHECKING:
    from ..load.library import Library
    from ..read.codes import CodeMap
    from ..read.ehr import Feed

__all__ = [
    "ENV_VAR",
    "FEEDS",
    "FORMATS",
    "BadRow",
    "Skipped",
    "hl7_appointments",
    "Row",
    "RowResult",
    "Site",
    "Source",
    "check_date_format",
    "check_pages",
    "check_zone",
    "code_map",
    "feed_for",
    "fhir_schedule",
    "input_rows",
    "load_site",
    "newest_revisions",
    "one_appointment",
    "parse_as_of",
    "read_mapping",
    "site_for_run",
]

Warn = Callable[[str], None]


def feed_zone_needed(feed: str, site: Site) -> UsageError:
    """The command line's words for a feed on the built-in site with no time zone given."""
    return UsageError(
        f"{feed}: its times are instants, and without a site profile the handout would "
        f"print them on this computer's clock ({site.timezone}); give the clinic's time "
        "zone with --timezone (e.g. America/Chicago) or a site profile (--site)",
        field="timezone",
    )


def site_for_run(
    site: Site,
    *,
    zone: str | ZoneInfo | None = None,
    feed: str | None = None,
    pdfa: bool = False,
    large_print: bool = False,
    zone_option: bool = True,
    zone_needed: Callable[[str, Site], UsageError] = feed_zone_needed,
) -> Site:
    """``site`` for one run: asked for PDF/A when ``pdfa`` and for large print when
    ``large_print``, on ``zone``'s clock if given.

    ``feed`` names input whose times are instants (FHIR, HL7 v2): the built-in profile's
    clock is this computer's, which would print the wrong clock time, so without ``zone``
    it is refused for them (in the words ``zone_needed`` gives). Without ``zone``, a profile
    on this computer's clock is refused when that clock names no place (UTC, ``Etc/*``,
    unknown). ``zone_option`` is False for a front end that offers no --timezone."""
    if pdfa:
        site = dataclasses.replace(site, pdfa=True)
    if large_print:
        site = dataclasses.replace(site, large_print=True)
    if isinstance(zone, ZoneInfo):
        return dataclasses.replace(site, tz=zone, zone_from_machine=False)
    if zone:
        try:
            return dataclasses.replace(site, tz=check_zone(zone), zone_from_machine=False)
        except ParsDocsError as e:
            raise UsageError(f"--timezone: {e.message.split(': ', 1)[1]}", field="timezone") from e
    if feed and site.is_default:
        raise zone_needed(feed, site)
    if site.unchosen_zone:
        # UTC on most servers and containers: a handout would print every clock time wrong.
        give = "--timezone (e.g. America/Chicago) or " if zone_option else ""
        raise UsageError(
            f"time zone: no site profile names the clinic's, and this computer's clock is "
            f"{site.timezone}, not a place; give the clinic's time zone with {give}a site "
            "profile (--site)",
            field="timezone",
        )
    return site


def feed_for(
    site: Site,
    library: Library,
    *,
    code_map: str | None = None,
    as_of: datetime | None = None,
    include_past: bool = False,
    given: frozenset[str] = frozenset(),
    warn: Warn | None = None,
) -> Feed:
    """How appointments from a record system are read for ``site``: its code map (or
    ``code_map``), its clock, "now" (``as_of``), and whether ones already past are made.
    ``given`` are fields the front end supplies, so an appointment need not have them."""
    from ..read.codes import CodeMap
    from ..read.ehr import Feed

    codes = CodeMap.build(library, code_map or site.procedure_codes)
    return Feed.for_site(
        site,
        codes,
        as_of,
        include_past=include_past,
        given=given,
        medicines=library.medicine_table(),
        warn=warn or _quiet,
    )


def _quiet(_text: str) -> None:
    """A warning nobody is shown (a front end sets ``Feed.warn`` later, or never)."""


def input_rows(
    source: Source,
    site: Site,
    *,
    pages: tuple[Source, ...] = (),
    mapping: dict[str, str] | None = None,
    library: Library | None = None,
    code_map: str | None = None,
    include_past: bool = False,
    as_of: datetime | None = None,
) -> tuple[Callable[[], Iterator[RowResult]], Feed | None]:
    """A function that reads the input's rows afresh each time it is called, and the feed
    FHIR and HL7 v2 input is read with (None for a list of rows). ``pages`` are the later
    pages of a FHIR search (or more HL7 v2 files); ``mapping`` names a list's columns."""
    if source.format not in FEEDS:
        return (lambda: read_rows(source, mapping or {})), None
    from ..read.feeds import read_appointments

    if library is None:
        from ..handout import Engine

        library = Engine(site).library
    feed = feed_for(site, library, code_map=code_map, as_of=as_of, include_past=include_past)
    return (lambda: read_appointments(source, feed, pages)), feed


def hl7_appointments(text: str, label: str, feed: Feed) -> Iterator[RowResult]:
    """The appointments of HL7 v2 SIU messages held in ``text`` (named ``label`` in errors),
    read with ``feed``."""
    from ..read import hl7v2

    return hl7v2.appointment_rows(text, label, feed)


def newest_revisions(results: Sequence[RowResult]) -> list[RowResult]:
    """``results`` without the rows a later revision of the same booking replaces (an S12
    and its S13 are one appointment: the newest), and without a revision given twice. A
    booking given for two patients is the error that says so."""
    from ..read.ehr import booking, superseded

    replaced = superseded(results)
    for each in replaced.values():
        if isinstance(each, BadRow):  # one booking for two patients
            raise each.error
    unique: list[RowResult] = []
    for result in results:
        if result.number in replaced or (
            booking(result)
            and any(dataclasses.replace(result, number=u.number) == u for u in unique)
        ):
            continue
        unique.append(result)
    return unique


def one_appointment(
    source: Source,
    site: Site,
    library: Library,
    *,
    code_map: str | None = None,
    as_of: datetime | None = None,
    include_past: bool = False,
    given: frozenset[str] = frozenset(),
    warn: Warn | None = None,
) -> Row:
    """The single appointment to make in a FHIR file or a file of HL7 v2 SIU messages (the
    newest revision of one booking), read with :func:`feed_for`'s feed; the error that says
    why when there is none, or more than one. ``source`` is closed once read."""
    from ..read import hl7v2
    from ..read.fhir import appointment_rows, read_resource

    try:
        if source.format not in ("fhir", "json", "ndjson", "hl7"):
            raise DataError(
                f"--fhir: {source.label} is not a FHIR Appointment or Bundle (JSON or XML) or "
                f"an HL7 v2 SIU message; it reads as {source.format}",
                field="fhir",
            )
        with source.open_text() as text:
            content = text.read()
        data = None if source.format == "hl7" else read_resource(content, source.label)
    finally:
        source.close()
    feed = feed_for(
        site,
        library,
        code_map=code_map,
        as_of=as_of,
        include_past=include_past,
        given=given,
        warn=warn,
    )
    if data is None:
        results = list(hl7v2.appointment_rows(content, source.label, feed))
    else:
        results = list(appointment_rows([(data, source.label)], feed))
    results = newest_revisions(results)
    usable = [r for r in results if not isinstance(r, Skipped)]
    if not usable:
        reasons = "; ".join(r.reason for r in results if isinstance(r, Skipped))
        raise DataError(f"{source.label}: no appointment to make a handout for: {reasons}")
    if len(usable) > 1:
        skipped = len(results) - len(usable)
        also = f" (and {skipped} not to make)" if skipped else ""
        raise UsageError(
            f"{source.label}: holds {len(usable)} appointments to make{also}; use "
            "pars-docs batch for more than one",
            field="fhir",
        )
    result = usable[0]
    if isinstance(result, BadRow):
        raise result.error
    return result


def code_map(site: Site, library: Library) -> CodeMap:
    """The site's code map (``procedure_codes``) over the sets' own codes: which set an
    appointment's code or words choose."""
    from ..read.codes import CodeMap

    return CodeMap.build(library, site.procedure_codes)


def fhir_schedule(site: Site, library: Library, first: date, last: date) -> list[RowResult]:
    """The appointments from ``first`` to ``last`` on the site's FHIR server
    (``fhir_server:``), read as an uploaded FHIR list is, with :func:`feed_for`'s feed: a
    :class:`Row` each, a :class:`Skipped` for one that gets no handout, a :class:`BadRow` for
    one that cannot be used. A :class:`ParsDocsError` with one line when the server cannot
    be read."""
    from ..read.fhir import appointment_rows
    from ..read.fhir_client import FhirClient, load_token

    token = load_token(token_file=site.fhir_token_file)
    client = FhirClient(site.fhir_server, token=token)
    bundle = client.schedule(first, last)
    feed = feed_for(site, library)
    if not bundle.get("entry"):
        return []
    return list(appointment_rows([(bundle, "the schedule")], feed))
