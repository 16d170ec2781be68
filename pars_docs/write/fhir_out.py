"""FHIR R4 out: a US Core 6.1 ``DocumentReference`` per handout, the PDF attached, and a
``Bundle`` of them for a batch: a ``collection`` to file, or a ``transaction`` a server
accepts, each entry a conditional create on the document's identifier.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

from ..clock import build_time
from ..environment import Environment
from ..errors import DataError, plain
from .output import Inputs, TextOutput

LOINC = "http://loinc.org"
INSTRUCTIONS_CODE = {"system": LOINC, "code": "69730-0", "display": "Instructions"}
US_CORE_PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference"
CLINICAL_NOTE = {
    "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
    "code": "clinical-note",
    "display": "Clinical Note",
}
# IHE's format code for a document whose MIME type says all a reader needs (a PDF).
MIME_TYPE_SUFFICIENT = {
    "system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode",
    "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient",
    "display": "mimeType Sufficient",
}
URI_SYSTEM = "urn:ietf:rfc:3986"
# A PDF/A handout (--pdfa) names its standard by URN (RFC 5141): IHE's format codes have none
# for PDF/A-2.
PDFA_FORMAT = {"system": URI_SYSTEM, "code": "urn:iso:std:iso:19005:-2", "display": "PDF/A-2b"}
BUNDLE_TYPES = ("collection", "transaction")


def _now() -> str:
    return build_time().isoformat()


def document_identifier(pdf: bytes) -> dict:
    """The document's business identifier: the same PDF always has the same one, so posting
    it twice (a conditional create) files it once."""
    return {
        "system": URI_SYSTEM,
        "value": f"urn:uuid:{uuid.UUID(hashlib.sha256(pdf).hexdigest()[:32])}",
    }


def filing_problem(visit, references: dict | None) -> DataError | None:
    """Why a DocumentReference for ``visit`` could not be filed to a patient: it would name
    the patient by display name only (no record number and no Patient reference)."""
    if visit.mrn or (references or {}).get("patient"):
        return None
    return DataError(
        plain(
            "mrn: --emit fhir needs the patient's record number (or a FHIR Patient reference): "
            "a document naming the patient only by name cannot be filed to a chart"
        ),
        field="mrn",
    )


def document_reference(handout, pdf: bytes, references: dict | None = None) -> dict:
    """A US Core 6.1 DocumentReference (FHIR R4) carrying ``pdf``.

    ``references`` come from FHIR input (the Patient, Practitioner, Appointment and Encounter,
    and the MRN's system). Without them (CSV input) the subject is the patient's record
    number in the site's MRN system. The attachment's ``hash`` is the base64 SHA-1 of the
    data, as R4 defines it.
    """
    plan = handout.plan
    iset = handout.instruction_set
    references = references or {}
    visit = plan.visit
    subject: dict = {"display": visit.patient}
    if references.get("patient"):
        subject["reference"] = references["patient"]
    if visit.mrn:
        subject["identifier"] = {"value": visit.mrn}
        system = references.get("mrn_system") or plan.site.mrn_rule.system
        if system:
            subject["identifier"]["system"] = system
    author = {"display": visit.clinician}
    if references.get("practitioner"):
        author["reference"] = references["practitioner"]
    digest = hashlib.sha256(pdf).hexdigest()
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": digest[:32],
        "meta": {"profile": [US_CORE_PROFILE]},
        "language": handout.language,
        "identifier": [document_identifier(pdf)],
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [INSTRUCTIONS_CODE], "text": "Patient instructions"},
        "category": [{"coding": [CLINICAL_NOTE]}],
        "subject": subject,
        "date": _now(),
        "author": [author],
        "description": f"{iset.title} ({iset.id} v{iset.version})",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "language": handout.language,
                    "data": base64.b64encode(pdf).decode("ascii"),
                    "size": len(pdf),
                    # FHIR R4 defines the attachment's hash as SHA-1.
                    "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),
                    "title": handout.document.get("title"),
                    "creation": _now(),
                },
                "format": PDFA_FORMAT if plan.site.pdfa else MIME_TYPE_SUFFICIENT,
            }
        ],
        "context": {"period": {"start": plan.moments["start"].isoformat()}},
    }
    context: dict[str, Any] = resource["context"]
    if references.get("end"):  # the appointment's end (FHIR Appointment.end, HL7 TQ1-8)
        context["period"]["end"] = references["end"]
    if references.get("encounter"):
        context["encounter"] = [{"reference": references["encounter"]}]
    if references.get("appointment"):
        context["related"] = [{"reference": references["appointment"]}]
    elif visit.visit_id:  # from HL7 v2 or --visit-id: the booking system's own number
        context["related"] = [{"type": "Appointment", "identifier": {"value": visit.visit_id}}]
    related = _chart_related(visit, references)
    if related:
        context.setdefault("related", []).extend(related)
    return resource


def _chart_related(visit, references: dict) -> list[dict]:
    """The medicines that came from the chart, as related references to the
    MedicationRequest or MedicationStatement each came from (by name alone for one without
    an id), so the chart shows which of the handout's medicines it supplied."""
    from ..read.chart import parse_sources

    by_name = {name: ref for ref, name in parse_sources(references.get("medicines"))}
    related = []
    for name in visit.chart_medicines:
        entry: dict[str, Any] = {"display": f"medicine from the chart: {name}"}
        if by_name.get(name):
            entry["reference"] = by_name[name]
        related.append(entry)
    return related


def bundle_entry(resource: dict, bundle_type: str) -> dict:
    """One entry: for a transaction, a POST that creates the document only if no document
    with its identifier exists (the server gives it its id)."""
    identifier = resource["identifier"][0]
    # The entry's own id, distinct from the document's identifier: a server may rewrite a
    # fullUrl, and the conditional create must still match on the identifier. Derived from
    # it, so the same document always has the same entry.
    entry: dict = {"fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, identifier['value'])}"}
    if bundle_type == "transaction":
        resource = {k: v for k, v in resource.items() if k != "id"}
        entry["resource"] = resource
        entry["request"] = {
            "method": "POST",
            "url": "DocumentReference",
            "ifNoneExist": f"identifier={identifier['system']}|{identifier['value']}",
        }
    else:
        entry["resource"] = resource
    return entry


def bundle_of(resources: list[dict], bundle_type: str = "collection") -> dict:
    """A whole Bundle, for one handout (``make``)."""
    return {
        "resourceType": "Bundle",
        "type": bundle_type,
        "timestamp": _now(),
        "entry": [bundle_entry(r, bundle_type) for r in resources],
    }


class BundleWriter:
    """Streams a Bundle of DocumentReferences to a file or standard output, one entry at a
    time, so a long batch never holds every PDF in memory. A file appears under its name only
    when the Bundle is complete."""

    def __init__(
        self,
        target: str,
        bundle_type: str = "collection",
        env: Environment | None = None,
        inputs: Inputs | None = None,
    ):
        self.target = target
        self.type = bundle_type
        self.count = 0
        self.stream = TextOutput(
            target, "--fhir-output", "fhir_output", env, inputs=inputs, atomic=True
        )
        head = {"resourceType": "Bundle", "type": bundle_type, "timestamp": _now()}
        try:
            self.stream.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "entry": [')
        except BaseException:
            self.stream.abandon()
            raise

    def add(self, resource_json: str) -> None:
        entry = bundle_entry(json.loads(resource_json), self.type)
        self.stream.write(
            ("," if self.count else "") + "\n" + json.dumps(entry, ensure_ascii=False)
        )
        self.count += 1

    def close(self, commit: bool = True) -> None:
        """End the Bundle and put it in place; without ``commit`` a file is removed instead
        (standard output is only left as it is)."""
        if not commit:
            self.stream.abandon()
            return
        try:
            self.stream.write("\n]}\n")
            self.stream.close()
        except BaseException:
            self.stream.abandon()
            raise
