"""The front door's visits: loose values (a command's options, a row) → a :class:`Visit`.
(The Python API's
:func:`~pars_docs.make_handout` makes its visit with the same
:func:`~pars_docs.read.visit.visit_from_row`.)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import ParsDocsError, UsageError, VisitError, say
from ..read.rows import Row
from ..read.visit import (
    MissingField,
    Visit,
    make_visit,
    parse_date,
    parse_options,
    parse_time,
    visit_from_row,
)
from ..read.visit import visit_or_problems as read_visit_or_problems

if TYPE_CHECKING:
    from ..load.library import InstructionSet, Library
    from ..load.site import Site

__all__ = [
    "MissingField",
    "SkippedTime",
    "UnknownMedicine",
    "Visit",
    "make_visit",
    "parse_options",
    "sample_visit",
    "visit_of",
    "visit_or_problems",
]


def visit_of(
    values: Mapping[str, Any] | Row,
    *,
    sedation: bool | None = None,
    also_language: str | None = None,
    options: Mapping[str, bool] | None = None,
) -> Visit:
    """The visit that loose values describe: a command's options or the Python API's
    arguments (a value of None is not given), or a row read from a list or a feed.
    ``sedation`` is for values that do not say; ``also_language`` a second language to
    print (None: the site's); ``options`` the set's other options. Raises
    :class:`~pars_docs.read.visit.MissingField` naming every missing field, else a
    :class:`UsageError` naming every problem."""
    row = values if isinstance(values, Row) else Row(1, _given(values))
    return visit_from_row(row, sedation=sedation, also_language=also_language, options=options)


def _given(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


class UnknownMedicine(UsageError):
    """Raised (or reported among a form's problems) for a medicine the medicine table does
    not know: ``name`` as typed, ``box`` its place in the list (from 1), ``closest`` the
    names the table knows closest to it."""

    def __init__(self, name: str, box: int, closest: list[str]):
        super().__init__(
            say("medications: the medicine table does not know '{name}'", name=name),
            field="medications",
        )
        self.name, self.box, self.closest = name, box, closest


class SkippedTime(VisitError):
    """Raised (or reported among a form's problems) for a clock time the site's zone skips
    on the visit's date (the night the clocks go forward): ``day`` and ``clock`` as read."""

    def __init__(self, error: ParsDocsError, day: date, clock: time):
        super().__init__(error.message, field="time", redacted=error.redacted)
        self.day, self.clock = day, clock


def visit_or_problems(
    values: Mapping[str, Any],
    library: Library,
    site: Site,
    *,
    ask: Collection[str] = (),
) -> tuple[Visit | None, list[ParsDocsError]]:
    """The visit that loose values describe (a form's fields: procedure, patient, dob, mrn,
    date, time, clinician, sedation, options, medications, note, language, large_print; a
    value of None or "" is not given), or none and every field's problems at once, each
    naming its field: a procedure the library lacks, each field that cannot be read, a clock
    time ``site``'s zone skips that day (:class:`SkippedTime`), and each medicine the table
    does not know (:class:`UnknownMedicine`) unless it is in ``ask`` (to print "Ask us
    about" it)."""
    problems: list[ParsDocsError] = []
    procedure = str(values.get("procedure") or "")
    try:
        library.get(procedure.strip())
    except ParsDocsError as e:
        problems.append(e)
    visit, field_problems = read_visit_or_problems(
        procedure,
        str(values.get("patient") or ""),
        values.get("date") or "",
        values.get("time") or "",
        str(values.get("clinician") or ""),
        dob=values.get("dob") or None,
        mrn=values.get("mrn") or None,
        sedation=values.get("sedation"),
        options=values.get("options"),
        large_print=values.get("large_print"),
        medications=list(values.get("medications") or ()),
        note=values.get("note") or None,
        language=values.get("language") or None,
    )
    problems += field_problems
    skipped = _skipped_time(values, site, field_problems)
    if skipped is not None:
        problems.append(skipped)
    table = library.medicine_table()
    for box, name in enumerate(values.get("medications") or (), 1):
        if name not in ask and table.read(name) is None:
            problems.append(UnknownMedicine(name, box, table.closest(name)))
    return (None, problems) if problems else (visit, [])


def _skipped_time(
    values: Mapping[str, Any], site: Site, problems: list[UsageError]
) -> SkippedTime | None:
    """The problem with a date and time that both read well but name an hour the site's
    zone skips that day."""
    from ..plan.timeline import localize

    if any(p.field in ("date", "time") for p in problems):
        return None
    day, clock = parse_date(values.get("date") or ""), parse_time(values.get("time") or "")
    try:
        localize(day, clock, site.tz)
    except ParsDocsError as e:
        return SkippedTime(e, day, clock)
    return None


def sample_visit(
    procedure: str,
    iset: InstructionSet,
    site: Site,
    as_of: datetime | None,
    *,
    sedation: bool,
    language: str | None,
) -> Visit:
    """A sample visit of ``iset`` (as ``procedure``) for a preview: a week after the
    handouts' "now" (``as_of``, else ``SOURCE_DATE_EPOCH``, else the real time) on the site's
    clock, at 9:00 AM; with ``sedation`` when the set lets it be chosen; in ``language``,
    else the set's."""
    from ..clock import current_time

    now = current_time(site.tz, as_of)
    day = (now + timedelta(days=7)).date()
    options = dict(iset.data.get("options") or {})
    fixed = bool((options.get("sedation") or {}).get("fixed"))
    return Visit(
        procedure, "Sample Patient", day, time(9, 0), "Sample Clinician",
        sedation=None if fixed or "sedation" not in options else sedation,
        language=language or iset.language,
    )  # fmt: skip
