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

from .ehr import Feed, RowBuilder, Skip, is_not_mrn, revision, skip_for_status
from .errors import DataError
from .rows import BadRow, Row, RowResult, Skipped

# SIU trigger events and what they mean for a handout.
MAKES = {"S12", "S13", "S14"}
CANCELS = {"S15": "cancelled", "S17": "cancelled", "S26": "noshow"}
# SCH-25 filler status codes (HL7 table 0278) as FHIR Appointment statuses.
FILLER_STATUS = {
    "pending": "pending",
    "waitlist": "waitlist",
    "started": "arrived",
    "complete": "fulfilled",
    "cancelled": "cancelled",
    "dc": "cancelled",
    "deleted": "cancelled",
    "noshow": "noshow",
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
        offset = timedelta(hours=int(match[7][1:3]), minutes=int(match[7][3:5]))
        return naive.replace(tzinfo=timezone(sign * offset)), True
    return naive.replace(tzinfo=feed.tz), False


def _birth_date(text: str) -> str | None:
    match = re.match(r"^(\d{4})(\d{2})?(\d{2})?", text.strip())
    if not match:
        return None
    return "-".join(g for g in match.groups() if g)


def _person_name(message: Message, segment, field_number: int, layout: dict) -> str | None:
    """A name from an XPN or XCN field; the legal name (type L) first, then the first."""
    count = message.repetitions(segment, field_number)
    order = sorted(
        range(1, count + 1),
        key=lambda r: message.value(segment, field_number, r, layout["type"]) != "L",
    )
    for repeat in order:
        parts = [
            message.value(segment, field_number, repeat, layout[part])
            for part in ("prefix", "given", "middle", "family", "suffix")
        ]
        name = " ".join(p for p in parts if p)
        if name:
            return name
    return None


XPN = {"family": 1, "given": 2, "middle": 3, "suffix": 4, "prefix": 5, "type": 7}
XCN = {"family": 2, "given": 3, "middle": 4, "suffix": 5, "prefix": 6, "type": 10}


def _mrn(message: Message, pid, feed: Feed) -> tuple[str | None, str | None]:
    """(value, system) of the PID-3 identifier the site's rule names; never an SSN."""
    for repeat in range(1, message.repetitions(pid, 3) + 1):
        value = message.value(pid, 3, repeat, 1)
        if not value:
            continue
        type_code = message.value(pid, 3, repeat, 5)
        namespace = message.value(pid, 3, repeat, 4, 1)
        universal = message.value(pid, 3, repeat, 4, 2)
        oid = (
            f"urn:oid:{universal}"
            if universal and message.value(pid, 3, repeat, 4, 3).upper() == "ISO"
            else None
        )
        systems = [s for s in (oid, universal, namespace) if s]
        codes = {type_code} if type_code else set()
        if any(is_not_mrn(s, codes, None) for s in systems or [None]):
            continue
        if any(feed.mrn.matches(s, codes, None) for s in systems or [None]):
            return value, oid or universal or None
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


def _row(number: int, message: Message, feed: Feed) -> Row | Skipped:
    msh = message.first("MSH")
    kind, trigger = message.value(msh, 9, 1, 1), message.value(msh, 9, 1, 2)
    if kind != "SIU":
        shown = f"{kind}^{trigger}" if trigger else kind or "(none)"
        skipped = Skip("skipped", f"MSH-9 {shown} is not an SIU scheduling message", "not SIU")
        return skipped.result(number)
    sch = message.first("SCH")
    # The booking (SCH-2, the filler's id, else SCH-1, the placer's) and when this message
    # changed it (MSH-7): a later message for the same booking replaces this one.
    visit_id = None
    filler = [message.value(sch, 2, 1, 1), message.value(sch, 2, 1, 2)]
    placer = [message.value(sch, 1, 1, 1), message.value(sch, 1, 1, 2)]
    for entity, namespace in (filler, placer):
        if entity:
            visit_id = f"{entity}@{namespace}" if namespace else entity
            break
    changed, _ = _moment(message.value(msh, 7, 1, 1), feed)
    changed_at = revision(changed)
    if trigger in CANCELS:
        word = CANCELS[trigger]
        cancel = Skip("cancelled", f"SIU^{trigger}: the appointment was {word}", word)
        return cancel.result(number, visit_id, changed_at)
    status = FILLER_STATUS.get(message.value(sch, 25, 1, 1).casefold())
    if status:
        skip = skip_for_status(status, "SCH-25 filler status")
        if skip:
            return skip.result(number, visit_id, changed_at)
    row = RowBuilder(feed)
    fields = row.fields
    if trigger not in MAKES:
        row.problem("hl7", f"MSH-9: SIU^{trigger or '?'} is not S12, S13, S14 or S15")
    if sch is None:
        row.problem("hl7", "SCH: the message has no SCH segment")
    if visit_id:
        fields["visit_id"] = visit_id
    row.revision = changed_at

    ais_list = message.segments("AIS")
    start_text = next((t for t in (message.value(a, 4, 1, 1) for a in ais_list) if t), "")
    where = "AIS-4"
    if not start_text:
        start_text, where = message.value(sch, 11, 1, 4), "SCH-11.4"
    moment, has_offset = _moment(start_text, feed)
    if not start_text:
        row.problem("date", "date: no start time (AIS-4 or SCH-11.4)")
    elif moment is None:
        row.problem("date", f"date: {where} '{start_text}' is not a date and time of day")
    else:
        skip = row.set_start(moment)
        if skip:
            return skip.result(number, visit_id, changed_at)
        if not has_offset:  # on the site's clock as written, even in an hour clocks skip
            fields["date"], fields["time"] = moment.date().isoformat(), moment.strftime("%H:%M")
            row.fold = 0

    pid = message.first("PID")
    if pid is None:
        row.problem("patient", "patient: the message has no PID segment")
    else:
        name = _person_name(message, pid, 5, XPN)
        if name:
            fields["patient"] = name
        else:
            row.problem("patient", "patient: PID-5 has no name")
        birth = message.value(pid, 7, 1, 1)
        if birth:
            dob = _birth_date(birth)
            if dob:
                fields["dob"] = dob
            else:
                row.problem("dob", f"dob: PID-7 '{birth}' is not a date")
        language = message.value(pid, 15, 1, 1)
        if language and LANGUAGE_CODE.match(language):
            fields["language"] = language  # a code (es, SPA); a name such as "Spanish" is not
        mrn, system = _mrn(message, pid, feed)
        if mrn:
            fields["mrn"] = mrn
        row.refs["mrn_system"] = system

    clinician = None
    for aip in message.segments("AIP"):
        clinician = _person_name(message, aip, 3, XCN)
        if clinician:
            break
    if not clinician:
        for aig in message.segments("AIG"):
            clinician = message.value(aig, 3, 1, 2)
            if clinician:
                break
    if clinician:
        fields["clinician"] = clinician
    else:
        row.problem("clinician", "clinician: no AIP-3 name or AIG-3 text (give --clinician)")

    codings = []
    for ais in ais_list:
        codings += _codings(message, ais, 3)
    codings += _codings(message, sch, 8) + _codings(message, sch, 7)
    row.set_procedure(codings, " (AIS-3, SCH-8, SCH-7)")
    return row.result(number)
