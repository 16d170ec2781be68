"""FHIR R4 in and out.

In: an ``Appointment`` or a ``Bundle`` (collection, searchset, transaction, …) of Appointments
and the resources they refer to, turned into the same rows a CSV gives. References are
resolved inside the bundle; a reference that is not there falls back to the participant's
``display``. The procedure is chosen by code: each instruction set lists its codes, and a
clinic's code map adds local ones.

Out: one ``DocumentReference`` per handout, the PDF attached, in a ``Bundle`` for a batch.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import DataError, InstructionError, UsageError
from .loader import load_yaml
from .output import build_time

SKIPPED_STATUSES = {"cancelled", "noshow", "entered-in-error"}
LOINC = "http://loinc.org"
INSTRUCTIONS_CODE = {"system": LOINC, "code": "69730-0", "display": "Instructions"}
MRN_TYPE = {"MR"}
# Identifiers that are never printed as a record number: social security, driver's licence,
# passport and the like.
NOT_MRN_TYPES = {"SS", "SB", "DL", "PPN", "TAX", "NI", "NH"}
NOT_MRN_SYSTEMS = ("http://hl7.org/fhir/sid/us-ssn", "urn:oid:2.16.840.1.113883.4.1")


# Reading --------------------------------------------------------------------------------------


class CodeMap:
    """(system, code) → instruction set id, from the sets' own ``codes`` and a clinic's map.

    A map entry without ``system`` matches that code in any system, or with none.
    """

    def __init__(self, entries: list[dict]):
        self.entries = entries

    @classmethod
    def build(cls, library, extra: str | Path | None = None, strict: bool = False) -> CodeMap:
        """The sets' own codes and those of the code map ``extra``. Every problem in the map
        is reported at once; an entry naming an unknown set is one. A broken instruction set
        only costs the rows that need it, unless ``strict`` (for ``check``)."""
        entries, problems = [], []
        known = set(library.ids())
        if extra:
            loaded = load_yaml(Path(extra), UsageError)
            data = loaded.data
            items = data.get("codes") if isinstance(data, dict) else data
            if not isinstance(items, list):
                raise UsageError(
                    f"codes: {extra} must hold a list of {{system, code, procedure}}", field="codes"
                )
            for index, item in enumerate(items):
                if not isinstance(item, dict) or not {"code", "procedure"} <= set(item):
                    problems.append(
                        f"{loaded.where((index,))}: each entry needs code and "
                        "procedure (and may have system)"
                    )
                    continue
                if item["procedure"] not in known:
                    problems.append(
                        f"{loaded.where((index, 'procedure'))}: no instruction set "
                        f"'{item['procedure']}' (known: {', '.join(sorted(known))})"
                    )
                    continue
                entries.append(
                    {
                        "system": item.get("system"),
                        "code": str(item["code"]),
                        "procedure": item["procedure"],
                    }
                )
        if problems:
            raise UsageError("codes: " + "\ncodes: ".join(problems), field="codes")
        for set_id in sorted(known):
            try:
                codes = library.get(set_id).codes
            except InstructionError:
                if strict:
                    raise
                continue  # reported for the rows that need this set
            for code in codes:
                entries.append(
                    {"system": code["system"], "code": code["code"], "procedure": set_id}
                )
        return cls(entries)

    def match(self, codings: list[dict]) -> str | None:
        for coding in codings:
            for entry in self.entries:
                if str(coding.get("code")) == entry["code"] and (
                    entry["system"] is None or entry["system"] == coding.get("system")
                ):
                    return entry["procedure"]
        return None


def _codings(concept) -> list[dict]:
    if not isinstance(concept, dict):
        return []
    if isinstance(concept.get("concept"), dict):  # R5 CodeableReference
        concept = concept["concept"]
    return [c for c in concept.get("coding", []) if isinstance(c, dict)]


def _human_name(resource: dict) -> str | None:
    names = [n for n in resource.get("name", []) if isinstance(n, dict)]
    if not names:
        return None
    chosen = next((n for n in names if n.get("use") == "official"), None) or next(
        (n for n in names if n.get("use") in (None, "usual")), names[0]
    )
    if chosen.get("text"):
        return chosen["text"]
    parts = [
        *chosen.get("prefix", []),
        *chosen.get("given", []),
        chosen.get("family", ""),
        *chosen.get("suffix", []),
    ]
    text = " ".join(p for p in parts if p)
    return text or None


def _type_codes(identifier: dict) -> set:
    concept = identifier.get("type")
    if not isinstance(concept, dict):
        concept = {}
    return {c.get("code") for c in concept.get("coding", []) if isinstance(c, dict)}


def _mrn(patient: dict) -> dict | None:
    """The identifier to print as the record number: one typed MR, else the first that is
    not a national or personal number (a social security number is never printed)."""
    identifiers = [
        i for i in patient.get("identifier", []) if isinstance(i, dict) and i.get("value")
    ]
    for identifier in identifiers:
        if _type_codes(identifier) & MRN_TYPE:
            return identifier
    usable = [
        i
        for i in identifiers
        if not _type_codes(i) & NOT_MRN_TYPES and i.get("system") not in NOT_MRN_SYSTEMS
    ]
    usual = [i for i in usable if i.get("use") in ("usual", "official")]
    chosen = usual or usable
    return chosen[0] if chosen else None


class Bundle:
    """The resources of a bundle (or one Appointment), found by reference."""

    def __init__(self, data: dict, label: str):
        if not isinstance(data, dict):
            raise DataError(f"{label}: expected a FHIR Appointment or Bundle (a JSON object)")
        self.label = label
        self.by_ref: dict[str, dict] = {}
        self.appointments: list[dict] = []
        resources: list[tuple[str | None, Any]]
        if data.get("resourceType") == "Appointment":
            resources = [(None, data)]
        elif data.get("resourceType") == "Bundle":
            resources = [
                (e.get("fullUrl"), e.get("resource"))
                for e in data.get("entry", [])
                if isinstance(e, dict)
            ]
        else:
            raise DataError(
                f"{label}: expected a FHIR Appointment or Bundle, found "
                f"{data.get('resourceType')!r}"
            )
        for full_url, resource in resources:
            if not isinstance(resource, dict):
                continue
            kind, rid = resource.get("resourceType"), resource.get("id")
            if full_url:
                self.by_ref[full_url] = resource
            if kind and rid:
                self.by_ref[f"{kind}/{rid}"] = resource
            if kind == "Appointment":
                self.appointments.append(resource)

    def resolve(self, reference: dict | None) -> dict | None:
        if not isinstance(reference, dict) or not reference.get("reference"):
            return None
        ref = reference["reference"]
        found = self.by_ref.get(ref)
        if found is None and "/" in ref:  # an absolute URL ending in Type/id
            found = self.by_ref.get("/".join(ref.rstrip("/").split("/")[-2:]))
        return found


def _actor(appointment: dict, bundle: Bundle, kind: str) -> dict | None:
    """The participant actor of resource type ``kind`` (Patient, Practitioner)."""
    for participant in appointment.get("participant", []):
        actor = participant.get("actor") if isinstance(participant, dict) else None
        if not isinstance(actor, dict):
            continue
        target = bundle.resolve(actor)
        parts = str(actor.get("reference", "")).rstrip("/").split("/")
        declared = (
            actor.get("type")
            or (target or {}).get("resourceType")
            or (parts[-2] if len(parts) >= 2 else None)
        )
        if declared == kind:
            return actor
    return None


def _reference(resource: dict | None, actor: dict | None) -> str | None:
    """A reference the receiving server can resolve: ``Type/id`` when the bundle held the
    resource (a ``urn:uuid:`` would point into a bundle that is not sent back)."""
    if resource and resource.get("resourceType") and resource.get("id"):
        return f"{resource['resourceType']}/{resource['id']}"
    return (actor or {}).get("reference")


def appointment_rows(data: dict, label: str, codes: CodeMap, tz):
    """(number, row) for each Appointment: a row dict like a CSV's, or a ``("cancelled",
    reason)`` pair for one to skip, or an exception for one that cannot be used.

    ``row["_fhir"]`` keeps the references, for the DocumentReference written back.
    """
    bundle = Bundle(data, label)
    if not bundle.appointments:
        raise DataError(f"{label}: the bundle holds no Appointment")
    for number, appointment in enumerate(bundle.appointments, 1):
        try:
            yield number, _row(appointment, bundle, codes, tz)
        except (UsageError, DataError) as e:
            e.row = number
            yield number, e


def _row(appointment: dict, bundle: Bundle, codes: CodeMap, tz) -> dict | tuple:
    status = appointment.get("status")
    if status in SKIPPED_STATUSES:
        return ("cancelled", f"appointment status is {status}")
    row: dict = {}
    mrn_system = None
    patient_ref = _actor(appointment, bundle, "Patient")
    patient = bundle.resolve(patient_ref)
    row["patient"] = (_human_name(patient) if patient else None) or (patient_ref or {}).get(
        "display"
    )
    if not row["patient"]:
        where = (patient_ref or {}).get("reference", "no Patient participant")
        raise DataError(
            f"patient: {where} is not in the bundle and has no display name", field="patient"
        )
    if patient:
        if patient.get("birthDate"):
            row["dob"] = patient["birthDate"]
        identifier = _mrn(patient)
        if identifier:
            row["mrn"] = str(identifier["value"])
            mrn_system = identifier.get("system")
    practitioner_ref = _actor(appointment, bundle, "Practitioner")
    practitioner = bundle.resolve(practitioner_ref)
    row["clinician"] = (_human_name(practitioner) if practitioner else None) or (
        practitioner_ref or {}
    ).get("display")
    if not row["clinician"]:
        raise DataError(
            "clinician: the appointment has no Practitioner with a name", field="clinician"
        )
    start = appointment.get("start")
    if not start or not isinstance(start, str):
        raise DataError("date: the appointment has no start instant", field="date")
    try:
        moment = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError as e:
        raise DataError(f"date: start '{start}' is not a FHIR instant", field="date") from e
    if moment.tzinfo is None:
        raise DataError(f"date: start '{start}' has no UTC offset", field="date")
    local = moment.astimezone(tz)
    row["date"], row["time"] = local.date().isoformat(), local.strftime("%H:%M")
    row["fold"] = local.fold  # which 1:30 AM, on the night the clocks go back
    carried = []
    for concept in [*appointment.get("serviceType", []), appointment.get("appointmentType")]:
        carried += _codings(concept)
    for based_on in appointment.get("basedOn", []):
        request = bundle.resolve(based_on)
        if request:
            carried += _codings(request.get("code"))
    procedure = codes.match(carried)
    if not procedure:
        shown = ", ".join(f"{c.get('system', '(no system)')}|{c.get('code')}" for c in carried)
        raise DataError(
            f"procedure: no instruction set for the codes {shown or '(none)'}; "
            "add one to a code map (--codes)",
            field="procedure",
        )
    row["procedure"] = procedure
    row["_fhir"] = {
        "appointment": f"Appointment/{appointment['id']}" if appointment.get("id") else None,
        "patient": _reference(patient, patient_ref),
        "practitioner": _reference(practitioner, practitioner_ref),
        "mrn_system": mrn_system,
    }
    return row


def read_json(text: str, label: str):
    try:
        return json.loads(text)
    except ValueError as e:
        raise DataError(f"{label}: not valid JSON ({e})") from e


# Writing --------------------------------------------------------------------------------------


def _now() -> str:
    return build_time().isoformat()


def document_reference(handout, pdf: bytes, references: dict | None = None) -> dict:
    """A DocumentReference (FHIR R4) carrying ``pdf``; ``references`` from FHIR input, if any.

    The attachment's ``hash`` is the base64 SHA-1 of the data, as R4 defines it.
    """
    plan = handout.plan
    iset = handout.instruction_set
    references = references or {}
    visit = plan.visit
    subject = {"display": visit.patient}
    if references.get("patient"):
        subject["reference"] = references["patient"]
    if visit.mrn:
        subject["identifier"] = {"value": visit.mrn}
        if references.get("mrn_system"):
            subject["identifier"]["system"] = references["mrn_system"]
    author = {"display": visit.clinician}
    if references.get("practitioner"):
        author["reference"] = references["practitioner"]
    digest = hashlib.sha256(pdf).hexdigest()
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": digest[:32],
        "status": "current",
        "type": {"coding": [INSTRUCTIONS_CODE]},
        "subject": subject,
        "date": _now(),
        "author": [author],
        "description": f"{iset.title} ({iset.id} v{iset.version})",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "language": plan.site.language,
                    "data": base64.b64encode(pdf).decode("ascii"),
                    "size": len(pdf),
                    # FHIR R4 defines the attachment's hash as SHA-1.
                    "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),
                    "title": handout.document.get("title"),
                    "creation": _now(),
                }
            }
        ],
        "context": {"period": {"start": plan.moments["start"].isoformat()}},
    }
    if references.get("appointment"):
        resource["context"]["related"] = [{"reference": references["appointment"]}]
    return resource


class BundleWriter:
    """Streams a collection Bundle of DocumentReferences to a file or standard output, one
    entry at a time, so a long batch never holds every PDF in memory."""

    def __init__(self, target: str):
        self.target = target
        self.count = 0
        if target == "-":
            self.stream = sys.stdout
        else:
            path = Path(target)
            if not path.parent.is_dir():
                raise UsageError(
                    f"--fhir-output: folder {path.parent} does not exist", field="fhir_output"
                )
            try:
                self.stream = open(path, "w", encoding="utf-8")  # closed in close()
            except OSError as e:
                raise UsageError(
                    f"--fhir-output: cannot write {path} ({e.strerror})", field="fhir_output"
                ) from e
        head = {"resourceType": "Bundle", "type": "collection", "timestamp": _now()}
        self.stream.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "entry": [')

    def add(self, resource_json: str, sha256: str) -> None:
        full_url = f"urn:uuid:{uuid.UUID(sha256[:32])}"
        self.stream.write(
            ("," if self.count else "")
            + "\n"
            + json.dumps({"fullUrl": full_url})[:-1]
            + ', "resource": '
            + resource_json
            + "}"
        )
        self.count += 1

    def close(self) -> None:
        self.stream.write("\n]}\n")
        self.stream.flush()
        if self.stream is not sys.stdout:
            self.stream.close()
