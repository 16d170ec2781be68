"""The HL7 v2 messages the listener writes: ACKs and MDM^T02 documents.

Field numbers are those of v2.5.1. Every value taken from a message or a handout is escaped
with the sending message's own separators."""

from __future__ import annotations

import base64
from datetime import datetime

import hl7  # type: ignore[import-untyped]

# pars-docs' fields → where in an SIU message they come from (ERR-2: segment^sequence^field).
FIELD_LOCATIONS = {
    "date": "TQ1^1^7",
    "time": "TQ1^1^7",
    "patient": "PID^1^5",
    "dob": "PID^1^7",
    "mrn": "PID^1^3",
    "language": "PID^1^15",
    "clinician": "AIP^1^3",
    "procedure": "AIS^1^3",
    "visit_id": "SCH^1^2",
    "hl7": "MSH^1^9",
}
# HL7 table 0357, message error condition codes.
REQUIRED_MISSING, DATA_TYPE, UNSUPPORTED_TYPE, INTERNAL = "101", "102", "200", "207"
SEPARATORS = "|^~\\&"


def escape(text: str) -> str:
    """``text`` with HL7's escape sequences for its separators, on one line."""
    out = text.replace("\\", "\\E\\")
    for char, code in (("|", "F"), ("^", "S"), ("~", "R"), ("&", "T")):
        out = out.replace(char, f"\\{code}\\")
    return " ".join(out.replace("\r", " ").replace("\n", " ").split())


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S%z")


class Header:
    """What an answer needs of the message it answers: MSH's sender, receiver, control id
    and version (empty when the message could not be read)."""

    def __init__(self, parsed=None) -> None:
        self.values: dict[int, str] = {}
        if parsed is None:
            return
        try:
            msh = parsed.segment("MSH")
        except (KeyError, IndexError):
            return
        for number in (3, 4, 5, 6, 10, 12):
            try:
                self.values[number] = str(msh[number]) if len(msh) > number else ""
            except (IndexError, KeyError):
                self.values[number] = ""

    def get(self, number: int) -> str:
        return self.values.get(number, "")

    @property
    def control_id(self) -> str:
        return self.get(10)

    @property
    def sender(self) -> str:
        return f"{self.get(3)}|{self.get(4)}"


def ack(
    header: Header,
    code: str,
    now: datetime,
    control_id: str,
    text: str = "",
    field: str | None = None,
    condition: str = DATA_TYPE,
) -> str:
    """An ACK: MSH (sender and receiver swapped), MSA (``code``: AA, AE or AR; the answered
    control id; ``text``), and for AE and AR an ERR naming ``field``'s location."""
    version = header.get(12) or "2.5.1"
    msh = (
        f"MSH|^~\\&|{header.get(5) or 'PARS-DOCS'}|{header.get(6)}|{header.get(3)}|"
        f"{header.get(4)}|{timestamp(now)}||ACK^{'S12'}^ACK|{control_id}|P|{version}"
    )
    segments = [msh, f"MSA|{code}|{header.control_id}|{escape(text)[:80]}"]
    if code != "AA":
        location = FIELD_LOCATIONS.get(field or "", "")
        segments.append(f"ERR||{location}|{condition}^^HL70357|E||||{escape(text)}")
    return "\r".join(segments) + "\r"


def mdm_t02(
    source,
    pdf: bytes,
    document_id: str,
    now: datetime,
    control_id: str,
    clinician: str,
) -> str:
    """An MDM^T02 (original document notification and content) carrying ``pdf``: MSH, EVN,
    the PID and PV1 of the SIU message ``source`` (the patient as the sender knows them),
    TXA naming the document (TXA-12 its unique id) and OBX-5 the PDF as encapsulated data
    (ED: ^AP^PDF^Base64^…)."""
    header = Header(source)
    pid = str(source.segment("PID"))
    try:
        pv1 = str(source.segment("PV1"))
    except KeyError:
        pv1 = "PV1|1|O"
    stamp = timestamp(now)
    data = base64.b64encode(pdf).decode("ascii")
    segments = [
        f"MSH|^~\\&|PARS-DOCS|{header.get(6)}|{header.get(3)}|{header.get(4)}|{stamp}||"
        f"MDM^T02^MDM_T02|{control_id}|P|2.5.1",
        f"EVN|T02|{stamp}",
        _with_standard_separators(pid, source),
        _with_standard_separators(pv1, source),
        _txa(stamp, clinician, document_id),
        f"OBX|1|ED|69730-0^Instructions^LN||^AP^PDF^Base64^{data}||||||F",
    ]
    return "\r".join(segments) + "\r"


def _txa(stamp: str, clinician: str, document_id: str) -> str:
    """TXA: document type PI (patient instructions), AP content, activity time, the
    clinician (TXA-5), the unique document number (TXA-12), authenticated (TXA-17 AU) and
    available (TXA-19 AV)."""
    fields = [""] * 20
    fields[0:5] = ["TXA", "1", "PI^Patient instructions^HL70270", "AP", stamp]
    fields[5] = f"^{escape(clinician)}"
    fields[12] = escape(document_id)
    fields[17] = "AU"
    fields[19] = "AV"
    return "|".join(fields)


def _with_standard_separators(segment: str, source) -> str:
    """A segment of ``source`` written with the standard separators (a sender may use its
    own; the MDM declares |^~\\&). python-hl7 keeps them as CR, field, repetition,
    component, subcomponent."""
    separators = getattr(source, "separators", "\r|~^&")
    table = dict(zip(separators[1:5], "|~^&", strict=True))
    if all(k == v for k, v in table.items()):
        return segment
    return "".join(table.get(c, c) for c in segment)


def parse(text: str):
    """The message parsed by python-hl7, or None."""
    try:
        return hl7.parse(text)
    except Exception:  # noqa: BLE001 - python-hl7 raises several kinds for bad input
        return None
