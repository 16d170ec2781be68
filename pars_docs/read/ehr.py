"""What the appointment feeds of record systems (FHIR, HL7 v2 SIU) share.

Both give an appointment as an instant, a status, a patient with identifiers, a clinician and
codes. This module turns those into the same rows a CSV gives: it picks the record number,
settles the start on the site's clock, decides which appointments get no handout (and why),
and gathers every problem of a row into one error.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..clock import current_time
from ..errors import DataError, Said, plain, say
from ..load.site import MrnRule
from . import rows
from .lookalike import skeleton
from .visit import YEARS

if TYPE_CHECKING:
    from ..load.medicines import MedicineTable
    from .codes import CodeMap

# Appointment states that get no handout, and the word each is counted under. A booked
# appointment gets one; these are not (yet, or any longer) a visit the patient is coming to.
SKIP_STATUSES = {
    "proposed": "proposed",
    "pending": "pending",
    "waitlist": "waitlist",
    "fulfilled": "fulfilled",
    "arrived": "arrived",
    "checked-in": "checked-in",
    "cancelled": "cancelled",
    "noshow": "noshow",
    "entered-in-error": "entered-in-error",
}
# Those recorded as "cancelled" in the manifest; the rest as "skipped".
CANCELLED = {"cancelled", "noshow", "entered-in-error"}

# Identifiers that are never printed as a record number: social security, driver's licence,
# passport and the like (HL7 table 0203 codes, and the US SSN system).
NOT_MRN_TYPES = {"SS", "SB", "DL", "PPN", "TAX", "NI", "NH", "SSN", "DR", "PE"}
NOT_MRN_SYSTEMS = ("http://hl7.org/fhir/sid/us-ssn", "urn:oid:2.16.840.1.113883.4.1")
NOT_MRN_TEXTS = {"ssn", "social security number", "sin", "national insurance number"}
_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
_DATE = re.compile(r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")


@dataclass
class Feed:
    """How appointments from a record system become rows, for one run.

    ``given`` names fields the command line supplies, so their absence is no problem;
    ``warn`` receives a one-line warning (pages missing from a searchset, say).
    """

    codes: CodeMap
    tz: ZoneInfo
    mrn: MrnRule = field(default_factory=MrnRule)
    notes: bool = False
    include_past: bool = False
    now: datetime | None = None
    given: frozenset = frozenset()
    warn: Callable[[str], None] = lambda text: None
    # The medicine table, to read the patient's medicines from the chart (None: not read),
    # and what to do with one the table lacks: "error" fails the row, "ask" prints it.
    medicines: MedicineTable | None = None
    unknown_medicines: str = "error"
    # Names as the record system sent them ("LEE, SAM"), not in reading order and normal case.
    names_as_sent: bool = False
    # HL7 v2 assigning authority (CX-4.1, or its universal id) -> the identifier system URI.
    identifier_systems: dict[str, str] = field(default_factory=dict)

    def today(self) -> str:
        """Today on the site's clock (as of ``now``), as an ISO date."""
        return (self.now or current_time(self.tz)).astimezone(self.tz).date().isoformat()

    @classmethod
    def for_site(cls, site, codes, as_of: datetime | None = None, **options) -> Feed:
        """The feed for ``site``. "Now", which decides what has passed, is the handouts'
        own (:func:`pars_docs.clock.current_time`): ``as_of``, else ``SOURCE_DATE_EPOCH``,
        else the real time."""
        now = current_time(site.tz, as_of) if as_of is not None else None
        return cls(
            codes,
            site.tz,
            mrn=site.mrn_rule,
            notes=site.appointment_notes,
            now=now,
            names_as_sent=site.names_as_sent,
            unknown_medicines=site.unknown_medicines,
            identifier_systems=dict(site.identifier_systems),
            **options,
        )


@dataclass(frozen=True)
class Skip:
    """An appointment that gets no handout: ``status`` for the manifest (cancelled or
    skipped), ``reason`` for a person, ``tally`` the word it is counted under."""

    status: str
    reason: str
    tally: str

    def result(
        self,
        number: int,
        visit_id: str | None = None,
        revision: int | None = None,
        version: str | None = None,
    ) -> rows.Skipped:
        return rows.Skipped(
            number,
            self.reason,
            status=self.status,
            tally=self.tally,
            visit_id=visit_id,
            revision=revision,
            version=version,
        )


def booking(result: rows.RowResult) -> tuple[str, tuple[int, int]] | None:
    """(visit id, how new) of a result whose source says which booking it is and when (or in
    which version) it last changed: an appointment from a record system, which may send the
    same booking again as it changes. "How new" is the revision, then the version number."""
    if isinstance(result, rows.BadRow) or not result.visit_id:
        return None
    version = result.version or ""
    number = int(version) if version.isdigit() and len(version) < 19 else None
    if result.revision is None and number is None:
        return None
    revision = -1 if result.revision is None else result.revision
    return result.visit_id, (revision, -1 if number is None else number)


def superseded(results: Sequence[rows.RowResult]) -> dict[int, rows.RowResult]:
    """Row number → the later revision of the same booking that replaces that row, for the
    rows of ``results`` that such a revision replaces.

    A booking is its visit id; of its rows, the one with the newest revision wins (then the
    highest version; of equal ones, the later in the input, as feeds send messages in order).
    A row the same as the winner (same revision and fields: a page given twice) is not
    replaced: it is a repeat. Only rows to make a handout from are replaced; a skipped one
    keeps its reason. A booking whose rows name different patients is ambiguous: each of its
    rows is replaced by a :class:`~pars_docs.rows.BadRow` (of its own number) saying so."""
    groups: dict[str, list[tuple[tuple[int, int], rows.Row | rows.Skipped]]] = {}
    for result in results:
        key = booking(result)
        if key is not None and not isinstance(result, rows.BadRow):
            groups.setdefault(key[0], []).append((key[1], result))
    replaced: dict[int, rows.RowResult] = {}
    for visit_id, members in groups.items():
        if len(members) < 2:
            continue
        group = [result for _, result in members]
        conflict = two_patients(visit_id, [r for r in group if isinstance(r, rows.Row)])
        if conflict:
            for result in group:
                replaced[result.number] = rows.BadRow(result.number, conflict(result.number))
            continue
        newest = max(members, key=lambda m: (m[0], m[1].number))[1]
        copies = [r for r in group if dataclasses.replace(r, number=newest.number) == newest]
        winner = min(copies, key=lambda r: r.number)  # the first of identical copies
        for result in group:
            if isinstance(result, rows.Row) and result not in copies:
                replaced[result.number] = winner
    return replaced


def patient_key(values: dict) -> tuple[str, str]:
    """Who a row is for, to tell two patients apart: the record number when it has one,
    else the name (as a reader sees it) and date of birth."""
    if values.get("mrn"):
        return ("mrn", str(values["mrn"]))
    name = skeleton(reading_name(str(values.get("patient") or "")).casefold())
    return ("name", f"{name}|{values.get('dob') or ''}")


def two_patients(visit_id: str, group: Sequence[rows.Row]) -> Callable[[int], DataError] | None:
    """When the rows of one booking are for different patients: the error for each row."""
    keys = {patient_key(r.values) for r in group}
    kinds = {kind for kind, _ in keys}
    if len(keys) < 2 or (kinds == {"mrn", "name"} and len(keys) == 2):
        return None  # one row with a record number and one without may be the same patient
    numbers = ", ".join(str(r.number) for r in group)

    def error(number: int) -> DataError:
        return DataError(
            f"visit_id: the booking '{visit_id}' is given for different patients (rows "
            f"{numbers}); pars-docs will not choose between them",
            field="visit_id",
            row=number,
            redacted=f"visit_id: one booking id is given for different patients (rows "
            f"{numbers}); pars-docs will not choose between them",
        )

    return error


def skip_for_status(status: str, source: str = "appointment status") -> Skip | None:
    tally = SKIP_STATUSES.get(status)
    if tally is None:
        return None
    kind = "cancelled" if tally in CANCELLED else "skipped"
    return Skip(kind, f"{source} is {status}", tally)


def is_not_mrn(system: str | None, codes: set[str], text: str | None) -> bool:
    """A national or personal number, never to be printed."""
    return (
        bool(codes & NOT_MRN_TYPES)
        or (system or "") in NOT_MRN_SYSTEMS
        or (text or "").strip().casefold() in NOT_MRN_TEXTS
    )


# Words after the comma of "Last, First" that are a suffix instead, and words kept in capitals
# when a name sent in capitals is put in normal case.
_SUFFIXES = {"JR", "SR", "II", "III", "IV", "V", "MD", "DO", "RN", "NP", "PA", "DDS", "PHD"}
_KEEP_CAPITALS = {"II", "III", "IV", "V", "VI", "MD", "DO", "RN", "NP", "PA", "DDS", "DNP"}
_WORD_PIECE = re.compile(r"([\w]+)")


def _normal_word(word: str) -> str:
    if word.strip(".").upper() in _KEEP_CAPITALS:
        return word
    pieces = _WORD_PIECE.split(word.lower())
    out = "".join(p[:1].upper() + p[1:] if _WORD_PIECE.fullmatch(p) else p for p in pieces)
    if len(out) > 3 and out.startswith("Mc"):
        out = "Mc" + out[2:].capitalize()
    return out


def reading_name(text: str, as_sent: bool = False) -> str:
    """A person's name as a patient reads it: "LEE, SAM J" becomes "Sam J Lee". A name in
    capitals is put in normal case; "Last, First" in reading order. ``as_sent`` keeps it."""
    text = " ".join(text.split())
    if as_sent or not text:
        return text
    last, comma, first = text.partition(",")
    if (
        comma
        and "," not in first
        and first.strip()
        and last.strip()
        and first.strip().strip(".").upper() not in _SUFFIXES
    ):
        text = f"{first.strip()} {last.strip()}"
    # A title ("Dr.") may be in normal case when the rest of the name is in capitals.
    letters = [c for w in text.split(" ") if not w.endswith(".") for c in w if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        text = " ".join(_normal_word(w) for w in text.split(" "))
    return text


def reading_parts(
    prefix: list[str], given: list[str], family: list[str], suffix: list[str], as_sent: bool
) -> str:
    """A name from its parts, as a patient reads it: when the family name is sent in
    capitals, it and the given names in capitals are put in normal case (a prefix such as
    "Dr." and a suffix such as "MD" are kept as sent); ``as_sent`` keeps all."""
    if not as_sent and "".join(family).isupper():
        given = [reading_name(g) if g.isupper() else g for g in given]
        family = [reading_name(f) for f in family]
    return " ".join(p for p in (*prefix, *given, *family, *suffix) if p)


def birth_date_problem(value) -> Said | None:
    """Why ``value`` is not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD), or None."""
    if isinstance(value, str) and _DATE.match(value):
        return None
    return say("dob: birth date '{value}' is not a date (YYYY, YYYY-MM or YYYY-MM-DD)", value=value)


def revision(moment: datetime | None) -> int | None:
    """Minutes since 2000 (UTC) of when a booking last changed: a calendar SEQUENCE."""
    if moment is None or moment.tzinfo is None:
        return None
    return max(0, int((moment - _EPOCH).total_seconds() // 60))


class RowBuilder:
    """One appointment's fields, references and problems, gathered so a row reports them all
    at once."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.fields: dict = {}
        self.refs: dict[str, str | None] = {}  # for the DocumentReference written back
        self.fold = 0  # which 1:30 AM, on the night the clocks go back
        self.revision: int | None = None
        self.version: str | None = None
        self.problems: list[DataError] = []
        self.notes: list[str] = []  # warnings about a row that is read

    def problem(self, field_name: str, message: Said) -> None:
        """A problem with the row's ``field_name``, its message built apart from the values
        it quotes (see :func:`~pars_docs.errors.say`)."""
        if field_name not in self.feed.given:
            self.problems.append(DataError(message, field=field_name))

    def set_procedure(
        self, codings: list[dict], where: str = "", texts: list[tuple[str, str]] | None = None
    ) -> None:
        """The instruction set the site's code map names for ``codings`` (or, failing them,
        for the words of ``texts``, (element, text) pairs, with a warning), or a problem
        listing them (``where`` names the elements they came from, such as " (AIS-3, SCH-8)")."""
        procedure = self.feed.codes.match(codings)
        if procedure:
            self.fields["procedure"] = procedure
            return
        found = self.feed.codes.match_text(texts or [])
        if found:
            procedure, words, element = found
            self.fields["procedure"] = procedure
            self.notes.append(
                f"no code chose the instruction set; the code map's text '{words}' in "
                f"{element} chose {procedure}: check it is the right one"
            )
            return
        shown = ", ".join(f"{c.get('system', '(no system)')}|{c.get('code')}" for c in codings)
        self.problem(
            "procedure",
            plain(
                f"procedure: no instruction set for the codes {shown or '(none)'}{where}; "
                "add one to a code map (--codes)"
            ),
        )

    def set_start(self, moment: datetime) -> Skip | None:
        """Put ``moment`` on the site's clock; a past one is skipped unless asked for."""
        if "date" in self.feed.given:
            return None  # the command line gives the day and time
        if not YEARS[0] <= moment.year <= YEARS[1]:
            # Year 1 or 9999 is a placeholder, and moving it to the site's clock overflows.
            self.problem(
                "date", say("start: the year {year} is not an appointment's year", year=moment.year)
            )
            return None
        now = self.feed.now or current_time(self.feed.tz)
        if moment < now and not self.feed.include_past:
            return Skip(
                "skipped", "the appointment start has passed; --include-past reprints it", "past"
            )
        local = moment.astimezone(self.feed.tz)
        self.fields["date"], self.fields["time"] = local.date().isoformat(), local.strftime("%H:%M")
        self.fold = local.fold
        return None

    def result(self, number: int) -> rows.Row:
        """Row ``number``, or a :class:`DataError` naming every problem (the first one's
        field)."""
        if not self.problems:
            for note in self.notes:
                self.feed.warn(f"warning: row {number}: {note}")
            refs = {name: ref for name, ref in self.refs.items() if ref}
            return rows.Row(
                number,
                self.fields,
                fold=self.fold,
                refs=refs,
                revision=self.revision,
                version=self.version,
            )
        first = self.problems[0]
        raise DataError(
            "; ".join(p.message for p in self.problems),
            field=first.field,
            redacted="; ".join(p.public(False) for p in self.problems),
        )
