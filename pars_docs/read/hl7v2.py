"""HL7 v2 scheduling feeds in: SIU^S12 (new), S13 (rescheduled), S14 (changed) and S15
(cancelled) messages, turned into the same rows a CSV gives.

Messages are parsed with python-hl7, which reads each message's own separators from its MSH
segment and undoes escapes (``\\F\\``, ``\\S\\``, …). A file may hold many messages, framed for
MLLP (``<VT> … <FS><CR>``) or not, with segments ended by CR, LF or CRLF: each MSH segment
starts a message. Field numbers below are those of the v2.5.1 segment definitions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import hl7  # type: ignore[import-untyped]

from ..errors import DataError, plain, say
from .ehr import Feed, RowBuilder, Skip, is_not_mrn, reading_parts, revision, skip_for_status
from .rows import BadRow, Row, RowResult, Skipped

# SIU trigger events and what they mean for a handout.
MAKES = {"S12", "S13", "S14"}
CANCELS = {"S15": "cancelled", "S17": "cancelled", "S26": "noshow"}
# SCH-25 filler status codes (HL7 table 0278): the FHIR Appointment status each is (as the
# HL7 v2-to-FHIR concept map reads it), and the word it is reported and counted under.
# "Arrived" is not in the table, but senders use it (Corepoint's S14 sample) for what FHIR
# calls arrived.
FILLER_STATUS: dict[str, tuple[str | None, str]] = {
    "pending": ("pending", "pending"),
    "waitlist": ("waitlist", "waitlist"),
    "booked": (None, "booked"),
    "overbook": (None, "booked"),
    "started": ("arrived", "started"),
    "arrived": ("arrived", "arrived"),
    "complete": ("fulfilled", "complete"),
    "cancelled": ("cancelled", "cancelled"),
    "dc": ("cancelled", "discontinued"),
    "deleted": ("entered-in-error", "deleted"),
    "blocked": ("blocked", "blocked"),  # a time slot held, with no patient's visit in it
    "noshow": ("noshow", "noshow"),
}
# HL7 table 0396 coding system names as the FHIR system URIs code maps use.
CODING_SYSTEMS = {
    "C4": "http://www.ama-assn.org/go/cpt",
    "CPT": "http://www.ama-assn.org/go/cpt",
    "CPT4": "http://www.ama-assn.org/go/cpt",
    "SCT": "http://snomed.info/sct",
    "SNM": "http://snomed.info/sct",
    "SNOMEDCT": "http://snomed.info/sct",
    "LN": "http://loinc.org",
    "I10P": "http://www.cms.gov/Medicare/Coding/ICD10",
    "HCPCS": "urn:oid:2.16.840.1.113883.6.285",
    "HCPT": "urn:oid:2.16.840.1.113883.6.285",
}
_DTM = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})?(?:(\d{2})(?:\.\d{1,4})?)?)?([+-]\d{4})?$"
)
# PID-15 (primary language, HL7 table 0296) as a code: "es", "SPA", "es-US".
LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z]{2})?$")
_FRAMING = str.maketrans({"\x0b": "\n", "\x1c": "\n"})


def split_messages(text: str) -> list[str]:
    """Each message of a file, its segments joined by CR as python-hl7 expects. Batch and
    file header and trailer segments (FHS, BHS, BTS, FTS) are dropped."""
    messages: list[list[str]] = []
    for line in re.split(r"\r\n|\r|\n", text.translate(_FRAMING)):
        line = line.strip("\n\r")
        if not line.strip() or line[:3] in ("FHS", "BHS", "BTS", "FTS"):
            continue
        if line.startswith("MSH"):
            messages.append([line])
        elif messages:
            messages[-1].append(line)
        else:
            messages.append([line])  # reported: a message must begin with MSH
    return ["\r".join(segments) for segments in messages]


class Message:
    """One parsed message, read by segment and field number with escapes undone."""

    def __init__(self, text: str) -> None:
        if not text.startswith("MSH") or len(text) < 8:
            raise DataError("MSH: a message must begin with an MSH segment", field="hl7")
        try:
            self.parsed = hl7.parse(text)
        except Exception as e:  # python-hl7 raises several kinds for bad input
            raise DataError(f"MSH: the message cannot be parsed ({e})", field="hl7") from e

    def segments(self, name: str) -> list:
        try:
            return list(self.parsed.segments(name))
        except KeyError:
            return []

    def first(self, name: str):
        found = self.segments(name)
        return found[0] if found else None

    def repetitions(self, segment, field_number: int) -> int:
        """How many times a field repeats (0 when it is empty or absent)."""
        if segment is None or len(segment) <= field_number:
            return 0
        value = segment[field_number]
        if isinstance(value, hl7.Field) and value and isinstance(value[0], hl7.Repetition):
            return len(value)
        return 1 if str(value) else 0

    def value(self, segment, field_number: int, repeat: int = 1, component: int = 1, sub: int = 1):
        """The text at SEG-field.repeat.component.subcomponent, unescaped; "" if absent."""
        if segment is None or len(segment) <= field_number:
            return ""
        try:
            text = segment.extract_field(1, field_number, repeat, component, sub)
        except (IndexError, KeyError, ValueError, TypeError):
            return ""
        return str(text or "").strip()


def _moment(text: str, feed: Feed) -> tuple[datetime | None, bool]:
    """A DTM/TS value as an aware moment, and whether it carried its own offset. Without
    one, the time is on the site's clock."""
    match = _DTM.match(text.strip())
    if not match or match[4] is None:
        return None, False
    year, month, day, hour = (int(g) for g in match.groups()[:4])
    minute, second = int(match[5] or 0), int(match[6] or 0)
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None, False
    if match[7]:
        sign = 1 if match[7][0] == "+" else -1
        hours, minutes = int(match[7][1:3]), int(match[7][3:5])
        if hours > 14 or minutes > 59:  # no place on Earth is further from UTC
            return None, False
        offset = timedelta(hours=hours, minutes=minutes)
        return naive.replace(tzinfo=timezone(sign * offset)), True
    return naive.replace(tzinfo=feed.tz), False


def _birth_date(text: str) -> str | None:
    match = re.match(r"^(\d{4})(\d{2})?(\d{2})?", text.strip())
    if not match:
        return None
    return "-".join(g for g in match.groups() if g)


# XPN-7 / XCN-10 name types (HL7 table 0200) in the order a name to print is chosen: the legal
# name, then a display or unspecified one, then the rest; a name marked bad is never used.
_NAME_TYPE_ORDER = {"L": 0, "D": 1, "U": 2, "": 2, "R": 3, "C": 3, "P": 4, "A": 5, "N": 6}
_NEVER_NAME = {"BAD", "S"}  # a bad name; a coded pseudo-name hiding the patient's identity


def _ended(message: Message, segment, field_number: int, repeat: int, ends, feed: Feed) -> bool:
    """Whether a repetition's validity ended before today: any of ``ends`` (component,
    subcomponent) holds a date that has passed."""
    today = feed.today()
    for component, sub in ends:
        text = message.value(segment, field_number, repeat, component, sub)
        day = _birth_date(text) if text else None
        if day and len(day) == 10 and day < today:
            return True
    return False


def _person_name(
    message: Message, segment, field_number: int, layout: dict, feed: Feed
) -> str | None:
    """A name from an XPN or XCN field: of the names still valid (XPN-13, the expiry, and
    XPN-10.2, the old validity range's end, not passed), the legal name (type L) first."""
    count = message.repetitions(segment, field_number)
    candidates = []
    for repeat in range(1, count + 1):
        kind = message.value(segment, field_number, repeat, layout["type"]).upper()
        if kind in _NEVER_NAME or _ended(
            message, segment, field_number, repeat, layout["ends"], feed
        ):
            continue
        candidates.append((_NAME_TYPE_ORDER.get(kind, 5), repeat))
    for _, repeat in sorted(candidates):
        prefix, given, middle, family, suffix = (
            message.value(segment, field_number, repeat, layout[part])
            for part in ("prefix", "given", "middle", "family", "suffix")
        )
        name = reading_parts([prefix], [given, middle], [family], [suffix], feed.names_as_sent)
        if name:
            return name
    return None


XPN = {
    "family": 1,
    "given": 2,
    "middle": 3,
    "suffix": 4,
    "prefix": 5,
    "type": 7,
    "ends": ((13, 1), (10, 2)),
}
XCN = {
    "family": 2,
    "given": 3,
    "middle": 4,
    "suffix": 5,
    "prefix": 6,
    "type": 10,
    "ends": ((20, 1), (19, 2)),
}


def identifier_system(message: Message, segment, field_number: int, repeat: int, feed: Feed):
    """A CX identifier's system as a URI: the site's mapping of its assigning authority
    (CX-4.1), else its universal id as ``urn:oid:`` (ISO) or ``urn:uuid:`` (UUID) or as
    it is (URI); None when neither says. Also the names the site's MRN rule may match."""
    namespace = message.value(segment, field_number, repeat, 4, 1)
    universal = message.value(segment, field_number, repeat, 4, 2)
    kind = message.value(segment, field_number, repeat, 4, 3).upper()
    uri = feed.identifier_systems.get(namespace) if namespace else None
    if uri is None and universal:
        uri = feed.identifier_systems.get(universal)
    if uri is None and universal:
        if kind == "ISO":
            uri = f"urn:oid:{universal}"
        elif kind == "UUID":
            uri = f"urn:uuid:{universal.lower()}"
        elif kind in ("URI", "URL") or ":" in universal:
            uri = universal
    return uri, [s for s in (uri, universal, namespace) if s]


def _mrn(message: Message, pid, feed: Feed) -> tuple[str | None, str | None]:
    """(value, system URI) of the PID-3 identifier the site's rule names; never an SSN, and
    never one whose expiry (CX-8) has passed."""
    for repeat in range(1, message.repetitions(pid, 3) + 1):
        value = message.value(pid, 3, repeat, 1)
        if not value or _ended(message, pid, 3, repeat, ((8, 1),), feed):
            continue
        type_code = message.value(pid, 3, repeat, 5)
        uri, systems = identifier_system(message, pid, 3, repeat, feed)
        codes = {type_code} if type_code else set()
        if any(is_not_mrn(s, codes, None) for s in systems or [None]):
            continue
        if any(feed.mrn.matches(s, codes, None) for s in systems or [None]):
            return value, uri
    return None, None


def _codings(message: Message, segment, field_number: int) -> list[dict]:
    """The codings of a CE/CWE field: its identifier and its alternate identifier."""
    codings = []
    for repeat in range(1, message.repetitions(segment, field_number) + 1):
        for code_at, system_at in ((1, 3), (4, 6)):
            code = message.value(segment, field_number, repeat, code_at)
            if code:
                system = message.value(segment, field_number, repeat, system_at)
                coding = {"code": code}
                if system:
                    coding["system"] = CODING_SYSTEMS.get(system.upper(), system)
                codings.append(coding)
    return codings


def appointment_rows(text: str, label: str, feed: Feed) -> Iterator[RowResult]:
    """For each message of ``text``: a :class:`Row` like a CSV's, a :class:`Skipped` (a
    cancellation, or a message that is not SIU), or a :class:`BadRow` naming every problem.
    Messages are numbered from 1."""
    messages = split_messages(text)
    if not messages:
        raise DataError(f"{label}: holds no HL7 v2 message")
    for number, raw in enumerate(messages, 1):
        try:
            yield _row(number, Message(raw), feed)
        except DataError as e:
            e.row = number
            yield BadRow(number, e)


def _visit_id(message: Message, sch) -> str | None:
    """The booking: SCH-2, the filler's id, else SCH-1, the placer's."""
    for field_number in (2, 1):
        entity, namespace = (message.value(sch, field_number, 1, c) for c in (1, 2))
        if entity:
            return f"{entity}@{namespace}" if namespace else entity
    return None


def _status_skip(message: Message, sch) -> Skip | None:
    """A Skip for an SCH-25 filler status that gets no handout (HL7 table 0278)."""
    sent = message.value(sch, 25, 1, 1)
    status, word = FILLER_STATUS.get(sent.casefold(), (None, ""))
    if status is None:
        return None
    shown = word if sent.casefold() == word else f"{sent} ({word})"
    skip = skip_for_status(status, "")
    kind = skip.status if skip else "skipped"
    return Skip(kind, f"SCH-25 filler status is {shown}", word)


def _row(number: int, message: Message, feed: Feed) -> Row | Skipped:
    msh = message.first("MSH")
    kind, trigger = message.value(msh, 9, 1, 1), message.value(msh, 9, 1, 2)
    if kind != "SIU":
        shown = f"{kind}^{trigger}" if trigger else kind or "(none)"
        skipped = Skip("skipped", f"MSH-9 {shown} is not an SIU scheduling message", "not SIU")
        return skipped.result(number)
    sch = message.first("SCH")
    # When this message changed the booking (MSH-7): a later one for it replaces this one.
    visit_id = _visit_id(message, sch)
    changed, _ = _moment(message.value(msh, 7, 1, 1), feed)
    changed_at = revision(changed)
    if trigger in CANCELS:
        word = CANCELS[trigger]
        cancel = Skip("cancelled", f"SIU^{trigger}: the appointment was {word}", word)
        return cancel.result(number, visit_id, changed_at)
    skip = _status_skip(message, sch)
    if skip:
        return skip.result(number, visit_id, changed_at)
    row = RowBuilder(feed)
    if trigger not in MAKES:
        row.problem("hl7", plain(f"MSH-9: SIU^{trigger or '?'} is not S12, S13, S14 or S15"))
    if sch is None:
        row.problem("hl7", plain("SCH: the message has no SCH segment"))
    if visit_id:
        row.fields["visit_id"] = visit_id
    row.revision = changed_at
    skip = _start(message, sch, row)
    if skip:
        return skip.result(number, visit_id, changed_at)
    _patient(message, row)
    _clinician(message, row)
    codings = []
    for ais in message.segments("AIS"):
        codings += _codings(message, ais, 3)
    codings += _codings(message, sch, 8) + _codings(message, sch, 7)
    row.set_procedure(codings, " (AIS-3, SCH-8, SCH-7)")
    return row.result(number)


def _start_text(message: Message, sch) -> tuple[str, str, str]:
    """(start, where it was read, end) as each version writes them: TQ1-7 and TQ1-8 (v2.5
    and later), then AIS-4 (the service's own start), then SCH-11.4 (withdrawn in v2.7)."""
    for tq1 in message.segments("TQ1"):
        start = message.value(tq1, 7, 1, 1)
        if start:
            return start, "TQ1-7", message.value(tq1, 8, 1, 1)
    for ais in message.segments("AIS"):
        start = message.value(ais, 4, 1, 1)
        if start:
            return start, "AIS-4", ""
    return message.value(sch, 11, 1, 4), "SCH-11.4", message.value(sch, 11, 1, 5)


def _start(message: Message, sch, row: RowBuilder) -> Skip | None:
    start_text, where, end_text = _start_text(message, sch)
    moment, has_offset = _moment(start_text, row.feed)
    if not start_text:
        row.problem("date", plain("date: no start time (TQ1-7, AIS-4 or SCH-11.4)"))
        return None
    if moment is None:
        row.problem(
            "date",
            say(
                "date: {where} '{start}' is not a date and time of day",
                words={"where": where},
                start=start_text,
            ),
        )
        return None
    skip = row.set_start(moment)
    if skip:
        return skip
    if not has_offset:  # on the site's clock as written, even in an hour clocks skip
        row.fields["date"], row.fields["time"] = moment.date().isoformat(), moment.strftime("%H:%M")
        row.fold = 0
    end, _ = _moment(end_text, row.feed)
    if end is not None and end > moment:
        row.refs["end"] = end.isoformat()
    return None


def _patient(message: Message, row: RowBuilder) -> None:
    pids = message.segments("PID")
    if not pids:
        row.problem("patient", plain("patient: the message has no PID segment"))
        return
    if len(pids) > 1:
        raise DataError(
            plain(
                f"PID: the message has {len(pids)} PID segments; one message is one patient's "
                "appointment, and pars-docs will not choose between them"
            ),
            field="patient",
        )
    pid = pids[0]
    name = _person_name(message, pid, 5, XPN, row.feed)
    if name:
        row.fields["patient"] = name
    else:
        row.problem("patient", plain("patient: PID-5 has no current name"))
    birth = message.value(pid, 7, 1, 1)
    if birth:
        dob = _birth_date(birth)
        if dob:
            row.fields["dob"] = dob
        else:
            row.problem("dob", say("dob: PID-7 '{birth}' is not a date", birth=birth))
    language = message.value(pid, 15, 1, 1)
    if language and LANGUAGE_CODE.match(language):
        row.fields["language"] = language  # a code (es, SPA); a name such as "Spanish" is not
    mrn, system = _mrn(message, pid, row.feed)
    if mrn:
        row.fields["mrn"] = mrn
    row.refs["mrn_system"] = system


def _clinician(message: Message, row: RowBuilder) -> None:
    clinician = None
    for aip in message.segments("AIP"):
        clinician = _person_name(message, aip, 3, XCN, row.feed)
        if clinician:
            break
    if not clinician:
        for aig in message.segments("AIG"):
            clinician = message.value(aig, 3, 1, 2)
            if clinician:
                break
    if clinician:
        row.fields["clinician"] = clinician
    else:
        row.problem("clinician", plain("clinician: no AIP-3 name or AIG-3 text (give --clinician)"))
