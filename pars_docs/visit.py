"""The visit: who the handout is for, when, with whom, and with which options.

Parsing here is strict and every failure names the field, because a handout with a wrong date
is worse than no handout.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, time
from typing import Literal, overload

from .errors import UsageError

MAX_TEXT = {"patient": 200, "clinician": 200, "mrn": 64, "note": 1000}
_TIME_24 = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
_TIME_12 = re.compile(r"^([0-9]{1,2})(?::([0-9]{2}))?\s*([ap])\.?\s*m\.?$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
YEARS = (1800, 2200)  # outside these a date is a typing slip, and clocks have no rules

# The field Visit.date hides the type inside the class body.
_Date = date


@dataclass(frozen=True)
class Visit:
    """One patient's appointment for one procedure."""

    procedure: str
    patient: str
    date: date
    time: time
    clinician: str
    dob: _Date | None = None
    mrn: str | None = None
    sedation: bool | None = None  # None: the instruction set's default
    medications: tuple[str, ...] = field(default_factory=tuple)
    note: str | None = None
    # Which of two readings of a clock time in the hour the clocks go back: 0 the first,
    # 1 the second. Only an appointment given as an instant (FHIR) can say.
    fold: int = 0


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
    dob: str | date | None = None,
    mrn: str | None = None,
    sedation: bool | None = None,
    medications: list[str] | tuple[str, ...] = (),
    note: str | None = None,
    fold: int = 0,
) -> Visit:
    """Build a :class:`Visit` from loosely typed values, raising :class:`UsageError`."""
    day = parse_date(date, "date")
    birth = parse_date(dob, "dob") if dob not in (None, "") else None
    if birth and birth > day:
        raise UsageError(
            f"dob: {birth.isoformat()} is after the procedure date {day.isoformat()}", field="dob"
        )
    meds: list[str] = []
    for name in medications:
        cleaned = clean_text(name, "medication")
        if cleaned and cleaned.casefold() not in (m.casefold() for m in meds):
            meds.append(cleaned)
    return Visit(
        procedure=(procedure or "").strip(),
        patient=clean_text(patient, "patient", required=True),
        date=day,
        time=parse_time(time, "time"),
        clinician=clean_text(clinician, "clinician", required=True),
        dob=birth,
        mrn=clean_text(mrn, "mrn"),
        sedation=sedation,
        medications=tuple(meds),
        note=clean_text(note, "note"),
        fold=1 if fold else 0,
    )
