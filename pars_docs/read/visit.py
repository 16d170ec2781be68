"""The visit: who the handout is for, when, with whom, and with which options.

Every way in (the ``make`` command's options, a batch row, a FHIR appointment, the Python API)
reaches a :class:`Visit` through :func:`make_visit`; rows go through :func:`visit_from_row`
first. Parsing here is strict and every failure names the field, because a handout with a
wrong date is worse than no handout.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal, overload

from ..errors import PATIENT_FIELDS, UsageError, plain, say
from ..load.languages import check_tag
from .lookalike import mixed_script, strip_invisible
from .rows import REQUIRED, Row

MAX_TEXT = {
    "patient": 200,
    "clinician": 200,
    "mrn": 64,
    "note": 1000,
    "visit_id": 200,
    "medication": 100,
}
MAX_MEDICATIONS = 40
NAMES = ("patient", "clinician")  # read by eye to match a person: one script per word
_TIME_24 = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
_TIME_12 = re.compile(r"^([0-9]{1,2})(?::([0-9]{2}))?\s*([ap])\.?\s*m\.?$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_PARTIAL_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2}))?$")
YEARS = (1800, 2200)  # outside these a date is a typing slip, and clocks have no rules

# The field Visit.date hides the type inside the class body.
_Date = date


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date of birth known only to the year or the month ("1980", "1980-11"), as records
    from other systems may hold it. It is printed as given, never filled in."""

    year: int
    month: int | None = None

    def isoformat(self) -> str:
        return f"{self.year:04d}" + (f"-{self.month:02d}" if self.month else "")

    @property
    def first_day(self) -> date:
        return date(self.year, self.month or 1, 1)


@dataclass(frozen=True)
class Visit:
    """One patient's appointment for one procedure."""

    procedure: str
    patient: str
    date: date
    time: time
    clinician: str
    dob: _Date | PartialDate | None = None
    mrn: str | None = None
    sedation: bool | None = None  # None: the instruction set's default
    # Other options the set declares, as the visit gives them: (name, value) pairs; an
    # option not named takes the set's default. (`sedation` has its own field.)
    options: tuple[tuple[str, bool], ...] = ()
    large_print: bool | None = None  # None: the site profile's choice
    medications: tuple[str, ...] = field(default_factory=tuple)
    note: str | None = None
    # Which of two readings of a clock time in the hour the clocks go back: 0 the first,
    # 1 the second. Only an appointment given as an instant (FHIR) can say.
    fold: int = 0
    # The appointment's identity in the system that booked it (a FHIR Appointment id, an
    # HL7 SIU filler id, --visit-id): a calendar's events keep their UIDs when it moves.
    visit_id: str | None = None
    # When the booking last changed, in minutes since 2000 (UTC): the calendar's SEQUENCE,
    # so a rescheduled visit replaces the events of the earlier file.
    revision: int | None = None
    # The patient's language as a BCP 47 tag (None: the site's), and a second language to
    # print the handout in as well (None: the site's setting, "" none).
    language: str | None = None
    also_language: str | None = None
    # Which of ``medications`` came from the patient's chart (FHIR MedicationRequest and
    # MedicationStatement), as listed there.
    chart_medicines: tuple[str, ...] = field(default_factory=tuple)
    # The record number's system (a URI) as the input gave it (FHIR Identifier.system, an
    # HL7 v2 assigning authority made a URI); None: the site's mrn_identifier.system.
    mrn_system: str | None = None


def parse_date(value: str | date, field_name: str = "date") -> date:
    """A calendar date written YYYY-MM-DD; impossible dates such as 2026-02-30 are refused."""
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = _ISO_DATE.match(text)
    if not match:
        raise UsageError(
            say(
                "{field}: '{text}' is not a date; write it as YYYY-MM-DD",
                words={"field": field_name},
                text=text,
            ),
            field=field_name,
        )
    year, month, day = (int(g) for g in match.groups())
    if not YEARS[0] <= year <= YEARS[1]:
        raise UsageError(
            say(
                "{field}: '{text}' has the year {year}; check the date",
                words={"field": field_name, "year": year},
                text=text,
            ),
            field=field_name,
        )
    if not 1 <= month <= 12:
        raise UsageError(
            say(
                "{field}: '{text}' has no month {month}",
                words={"field": field_name, "month": month},
                text=text,
            ),
            field=field_name,
        )
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise UsageError(
            say(
                "{field}: '{text}' is not a real date ({month} {year} has {days} days)",
                words={"field": field_name, "days": days},
                text=text,
                month=calendar.month_name[month],
                year=year,
            ),
            field=field_name,
            redacted=f"{field_name}: '…' is not a real date",  # the aside tells the month
        )
    return date(year, month, day)


def parse_birth_date(value: str | date | PartialDate) -> date | PartialDate:
    """A date of birth: a full date, or only the year or year and month (YYYY, YYYY-MM)."""
    if isinstance(value, (date, PartialDate)):
        return value
    text = str(value).strip()
    match = _PARTIAL_DATE.match(text)
    if not match:
        return parse_date(text, "dob")
    year, month = int(match[1]), int(match[2]) if match[2] else None
    if not YEARS[0] <= year <= YEARS[1]:
        raise UsageError(
            say(
                "dob: '{text}' has the year {year}; check the date", words={"year": year}, text=text
            ),
            field="dob",
        )
    if month is not None and not 1 <= month <= 12:
        raise UsageError(
            say("dob: '{text}' has no month {month}", words={"month": month}, text=text),
            field="dob",
        )
    return PartialDate(year, month)


def parse_as_of(value: str | datetime | None) -> datetime | None:
    """ "Now" for a reprint or a test: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM`` or ISO 8601 with an
    offset. Without an offset it is read on the site's clock."""
    if value is None or isinstance(value, datetime):
        return value
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or not YEARS[0] <= moment.year <= YEARS[1]:
        raise UsageError(
            f"as-of: '{text}' is not a date and time; write 2026-11-22 or 2026-11-22T09:30",
            field="as_of",
        )
    return moment


def parse_time(value: str | time, field_name: str = "time") -> time:
    """A clock time: ``14:30``, ``2:30 PM``, ``2:30pm`` or ``2 PM``."""
    if isinstance(value, time):
        return value
    text = str(value).strip()
    match = _TIME_24.match(text)
    if match:
        hour, minute = int(match[1]), int(match[2])
        if hour <= 23 and minute <= 59:
            return time(hour, minute)
    match = _TIME_12.match(text)
    if match:
        hour, minute = int(match[1]), int(match[2] or 0)
        if 1 <= hour <= 12 and minute <= 59:
            hour = hour % 12 + (12 if match[3].lower() == "p" else 0)
            return time(hour, minute)
    raise UsageError(
        say(
            "{field}: '{text}' is not a time of day; write 14:30 or 2:30 PM",
            words={"field": field_name},
            text=text,
        ),
        field=field_name,
    )


@overload
def clean_text(value: str | None, field_name: str, *, required: Literal[True]) -> str: ...


@overload
def clean_text(value: str | None, field_name: str, *, required: bool = False) -> str | None: ...


def clean_text(value: str | None, field_name: str, *, required: bool = False) -> str | None:
    """Normalise a person-typed value: NFC, single spaces, no control characters.

    NFC matters: a name typed with combining accents (e + U+0301) is drawn with the font's
    precomposed letter instead of a loose mark.
    """
    if value is None:
        if required:
            raise UsageError(
                say("{field}: is required", words={"field": field_name}), field=field_name
            )
        return None
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    # Characters that draw nothing (zero-width spaces, bidi controls, U+2800 …) go first, so
    # a name of nothing else is empty (see read/lookalike.py).
    text = strip_invisible(text)
    # Controls are refused before spaces are tidied: str.split() takes NEL (U+0085) and the
    # C0 separators for spaces, and would print them as one.
    for char in text:
        if char not in "\n\t" and unicodedata.category(char) == "Cc":
            raise UsageError(
                say(
                    "{field}: contains an invisible or unassigned character U+{code:04X}",
                    words={"field": field_name, "code": ord(char)},
                ),
                field=field_name,
            )
    text = " ".join(text.split()) if field_name != "note" else text.strip()
    if not text:
        if required:
            raise UsageError(
                say("{field}: must not be empty", words={"field": field_name}), field=field_name
            )
        return None
    for char in text:
        category = unicodedata.category(char)
        if char in "\n\t" and field_name == "note":
            continue
        if category in ("Cc", "Cs", "Co", "Cn"):
            raise UsageError(
                say(
                    "{field}: contains an invisible or unassigned character U+{code:04X}",
                    words={"field": field_name, "code": ord(char)},
                ),
                field=field_name,
            )
    limit = MAX_TEXT.get(field_name)
    if limit and len(text) > limit:
        raise UsageError(
            say(
                "{field}: is {length} characters long; the limit is {limit}",
                words={"field": field_name, "length": len(text), "limit": limit},
            ),
            field=field_name,
        )
    if field_name in NAMES:
        mixed = mixed_script(text)
        if mixed:
            raise UsageError(
                f"{field_name}: mixes {mixed}, which can make it read as another name; "
                "type it again in one script",
                field=field_name,
                redacted=f"{field_name}: mixes letters of scripts that look alike in one "
                "word, which can make it read as another name; type it again in one script",
            )
    return text


def make_visit(
    procedure: str,
    patient: str,
    date: str | date,
    time: str | time,
    clinician: str,
    *,
    dob: str | date | PartialDate | None = None,
    mrn: str | None = None,
    sedation: bool | None = None,
    options: Mapping[str, bool] | None = None,
    large_print: bool | None = None,
    medications: list[str] | tuple[str, ...] = (),
    note: str | None = None,
    fold: int = 0,
    visit_id: str | None = None,
    revision: int | None = None,
    language: str | None = None,
    also_language: str | None = None,
    chart_medicines: list[str] | tuple[str, ...] = (),
    mrn_system: str | None = None,
) -> Visit:
    """Build a :class:`Visit` from loosely typed values, raising :class:`UsageError` that
    names every problem at once (the first problem's field is the error's field)."""
    visit, problems = visit_or_problems(
        procedure,
        patient,
        date,
        time,
        clinician,
        dob=dob,
        mrn=mrn,
        sedation=sedation,
        options=options,
        large_print=large_print,
        medications=medications,
        note=note,
        fold=fold,
        visit_id=visit_id,
        revision=revision,
        language=language,
        also_language=also_language,
        chart_medicines=chart_medicines,
        mrn_system=mrn_system,
    )
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise UsageError(
            "; ".join(p.message for p in problems),
            field=problems[0].field,
            redacted="; ".join(p.public(False) for p in problems),
        )
    assert visit is not None
    return visit


def visit_or_problems(
    procedure: str,
    patient: str,
    date: str | date,
    time: str | time,
    clinician: str,
    *,
    dob: str | date | PartialDate | None = None,
    mrn: str | None = None,
    sedation: bool | None = None,
    options: Mapping[str, bool] | None = None,
    large_print: bool | None = None,
    medications: list[str] | tuple[str, ...] = (),
    note: str | None = None,
    fold: int = 0,
    visit_id: str | None = None,
    revision: int | None = None,
    language: str | None = None,
    also_language: str | None = None,
    chart_medicines: list[str] | tuple[str, ...] = (),
    mrn_system: str | None = None,
) -> tuple[Visit | None, list[UsageError]]:
    """:func:`make_visit`'s :class:`Visit`, or none and every field's problem, each naming
    its field (for a form that shows each beside its field)."""
    problems: list[UsageError] = []

    def attempt(parse, *args):
        try:
            return parse(*args)
        except UsageError as e:
            problems.append(e)
            return None

    day = attempt(parse_date, date, "date")
    birth = attempt(parse_birth_date, dob) if dob not in (None, "") else None
    first_day = birth.first_day if isinstance(birth, PartialDate) else birth
    if day and birth is not None and first_day and first_day > day:
        problems.append(
            UsageError(
                say(
                    "dob: {birth} is after the procedure date {day}",
                    birth=birth.isoformat(),
                    day=day.isoformat(),
                ),
                field="dob",
            )
        )
    meds: list[str] = []
    if len(medications) > MAX_MEDICATIONS:
        problems.append(
            UsageError(
                plain(
                    f"medications: {len(medications)} are listed; the limit is {MAX_MEDICATIONS}"
                ),
                field="medications",
            )
        )
        medications = ()
    for name in medications:
        cleaned = attempt(clean_text, name, "medication")
        if cleaned and cleaned.casefold() not in (m.casefold() for m in meds):
            meds.append(cleaned)
    fields = {
        "patient": attempt(lambda: clean_text(patient, "patient", required=True)),
        "time": attempt(parse_time, time, "time"),
        "clinician": attempt(lambda: clean_text(clinician, "clinician", required=True)),
        "mrn": attempt(clean_text, mrn, "mrn"),
        "note": attempt(clean_text, note, "note"),
        "visit_id": attempt(clean_text, visit_id, "visit_id"),
        "language": attempt(check_tag, language) if language not in (None, "") else None,
        "also_language": (
            attempt(check_tag, also_language, "also_language") if also_language else also_language
        ),
    }
    if problems:
        return None, problems
    return Visit(
        procedure=(procedure or "").strip(),
        date=day,
        dob=birth,
        sedation=sedation,
        options=tuple(sorted((options or {}).items())),
        large_print=large_print,
        medications=tuple(meds),
        chart_medicines=tuple(
            m for m in meds if m.casefold() in {c.strip().casefold() for c in chart_medicines}
        ),
        mrn_system=mrn_system,
        fold=1 if fold else 0,
        revision=revision,
        **fields,
    ), []


class MissingField(UsageError):
    """Raised when a row lacks fields every visit needs (see :data:`pars_docs.read.rows.REQUIRED`);
    ``missing`` names them all."""

    def __init__(self, message: str, *, field: str, missing: tuple[str, ...]):
        super().__init__(message, field=field)
        self.missing = missing


_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0"}


def _row_options(given: Any) -> dict[str, bool]:
    """A row's option columns (``options``: name → cell), each read as yes/no."""
    if not isinstance(given, dict):
        return {}
    out = {}
    for name, value in given.items():
        flag = parse_yes_no(value, str(name))
        if flag is not None:
            out[str(name)] = flag
    return out


def parse_yes_no(value: Any, field: str = "sedation") -> bool | None:
    """``yes``/``no`` (and the like) as a flag; ``None`` and booleans pass through."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if field not in PATIENT_FIELDS:
        # A declared option's column holds yes or no, not a person's words: only a row's
        # own fields are left out of logs (see errors.PATIENT_FIELDS).
        raise UsageError(plain(f"{field}: '{value}' is not yes or no"), field=field)
    raise UsageError(
        say("{field}: '{value}' is not yes or no", words={"field": field}, value=value),
        field=field,
    )


def parse_sedation(value: Any) -> bool | None:
    """The ``sedation`` column as a flag (see :func:`parse_yes_no`)."""
    return parse_yes_no(value, "sedation")


def parse_medications(value: Any) -> list[str]:
    """A list of medicine names, or one text of names separated by ``;``."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else str(value).split(";")
    return [str(m).strip() for m in items if str(m).strip()]


def check_date_format(date_format: str) -> None:
    """Raise :class:`UsageError` unless ``date_format`` (``--date-format``) reads a whole date
    (day, month and year), before any row is read: one that cannot would fail every row."""
    sample = date(2031, 12, 28)  # every part differs from strptime's defaults and the others
    try:
        read = datetime.strptime(sample.strftime(date_format), date_format).date()
    except (ValueError, re.error):  # re.error: a directive given twice, such as %d/%d/%Y
        read = None
    if read != sample:
        raise UsageError(
            f"--date-format: '{date_format}' does not read a whole date (day, month and "
            "year); write it with %d, %m and %Y, e.g. %m/%d/%Y",
            field="date_format",
        )


def reformat_date(value: Any, date_format: str | None, field_name: str) -> Any:
    """A date written the way ``date_format`` (``--date-format``) says, as ISO text for
    :func:`make_visit`; without a format the value is passed on as it is."""
    if value is None or not date_format or isinstance(value, date):
        return value  # a workbook's date cell is a date whatever the format
    try:
        return datetime.strptime(str(value).strip(), date_format).date().isoformat()
    except ValueError as e:
        if "does not match format" in str(e) or "unconverted data" in str(e):
            reason = f"does not match --date-format {date_format}"
        else:  # it matches the format but names no real day, such as 02/30/2026
            reason = "is not a real date"
        raise UsageError(
            say(
                "{field}: '{value}' {reason}",
                words={"field": field_name, "reason": reason},
                value=value,
            ),
            field=field_name,
        ) from e


def parse_options(given: list[str] | tuple[str, ...]) -> dict[str, bool]:
    """``--option NAME`` or ``--option NAME=yes|no`` (repeatable) as a mapping; a
    :class:`UsageError` for one that is not written that way."""
    options: dict[str, bool] = {}
    for text in given:
        name, _, value = str(text).partition("=")
        name = name.strip()
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise UsageError(
                f"option: '{text}' is not an option name; write NAME or NAME=yes|no",
                field="option",
            )
        flag = parse_yes_no(value, name) if value else True
        options[name] = True if flag is None else flag
    return options


def visit_from_row(
    row: Row,
    *,
    date_format: str | None = None,
    sedation: bool | None = None,
    also_language: str | None = None,
    options: Mapping[str, bool] | None = None,
) -> Visit:
    """The visit a row describes. ``sedation`` is for a row that does not say (a FHIR
    appointment never does); ``date_format`` is how the row writes its dates;
    ``also_language`` a second language to print (None: the site's). Raises
    :class:`MissingField` for a missing required field, else :class:`UsageError`."""
    values = row.values
    missing = [name for name in REQUIRED if values.get(name) is None]
    if missing:
        raise MissingField(
            plain("; ".join(f"{name}: is required" for name in missing)),
            field=missing[0],
            missing=tuple(missing),
        )
    return make_visit(
        values["procedure"],
        values["patient"],
        reformat_date(values["date"], date_format, "date") or "",
        values["time"] or "",
        values["clinician"],
        dob=reformat_date(values.get("dob"), date_format, "dob"),
        mrn=str(values["mrn"]) if values.get("mrn") is not None else None,
        sedation=parse_sedation(values["sedation"]) if "sedation" in values else sedation,
        options={**(options or {}), **_row_options(values.get("options"))},
        large_print=parse_yes_no(values.get("large_print"), "large_print"),
        medications=parse_medications(values.get("medications")),
        note=values.get("note"),
        fold=row.fold,
        visit_id=str(values["visit_id"]) if values.get("visit_id") is not None else None,
        revision=row.revision,
        language=values.get("language"),
        also_language=also_language,
        chart_medicines=parse_medications(values.get("chart_medicines")),
        mrn_system=row.refs.get("mrn_system"),
    )
