"""The visit: who the handout is for, when, with whom, and with which options.

Parsing here is strict and every failure names the field, because a handout with a wrong date
is worse than no handout.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal, overload

from .errors import UsageError

MAX_TEXT = {"patient": 200, "clinician": 200, "mrn": 64, "note": 1000, "visit_id": 200}
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


def parse_date(value: str | date, field_name: str = "date") -> date:
    """A calendar date written YYYY-MM-DD; impossible dates such as 2026-02-30 are refused."""
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = _ISO_DATE.match(text)
    if not match:
        raise UsageError(
            f"{field_name}: '{text}' is not a date; write it as YYYY-MM-DD", field=field_name
        )
    year, month, day = (int(g) for g in match.groups())
    if not YEARS[0] <= year <= YEARS[1]:
        raise UsageError(
            f"{field_name}: '{text}' has the year {year}; check the date", field=field_name
        )
    if not 1 <= month <= 12:
        raise UsageError(f"{field_name}: '{text}' has no month {month}", field=field_name)
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise UsageError(
            f"{field_name}: '{text}' is not a real date "
            f"({calendar.month_name[month]} {year} has {days} days)",
            field=field_name,
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
        raise UsageError(f"dob: '{text}' has the year {year}; check the date", field="dob")
    if month is not None and not 1 <= month <= 12:
        raise UsageError(f"dob: '{text}' has no month {month}", field="dob")
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
        f"{field_name}: '{text}' is not a time of day; write 14:30 or 2:30 PM", field=field_name
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
            raise UsageError(f"{field_name}: is required", field=field_name)
        return None
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    text = " ".join(text.split()) if field_name != "note" else text.strip()
    if not text:
        if required:
            raise UsageError(f"{field_name}: must not be empty", field=field_name)
        return None
    for char in text:
        category = unicodedata.category(char)
        if char in "\n\t" and field_name == "note":
            continue
        if category in ("Cc", "Cs", "Co", "Cn"):
            raise UsageError(
                f"{field_name}: contains an invisible or unassigned character U+{ord(char):04X}",
                field=field_name,
            )
    limit = MAX_TEXT.get(field_name)
    if limit and len(text) > limit:
        raise UsageError(
            f"{field_name}: is {len(text)} characters long; the limit is {limit}", field=field_name
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
    medications: list[str] | tuple[str, ...] = (),
    note: str | None = None,
    fold: int = 0,
    visit_id: str | None = None,
    revision: int | None = None,
) -> Visit:
    """Build a :class:`Visit` from loosely typed values, raising :class:`UsageError` that
    names every problem at once (the first problem's field is the error's field)."""
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
                f"dob: {birth.isoformat()} is after the procedure date {day.isoformat()}",
                field="dob",
            )
        )
    meds: list[str] = []
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
    }
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise UsageError(
            "; ".join(p.message for p in problems),
            field=problems[0].field,
            redacted="; ".join(p.public(False) for p in problems),
        )
    return Visit(
        procedure=(procedure or "").strip(),
        date=day,
        dob=birth,
        sedation=sedation,
        medications=tuple(meds),
        fold=1 if fold else 0,
        revision=revision,
        **fields,
    )
