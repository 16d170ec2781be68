"""DocumentReferences written back: valid FHIR R4 (fhir.resources R4B and fhirclient), US Core
6.1's required and must-support elements, and transaction Bundles a server accepts."""

import base64
import json

import pytest
from fhir.resources.R4B.bundle import Bundle as R4BBundle
from fhir.resources.R4B.documentreference import DocumentReference as R4BDocumentReference
from fhirclient.models.bundle import Bundle
from fhirclient.models.documentreference import DocumentReference
from helpers import DATA

from pars_docs.cli import cli

SITE = DATA / "site-ny.yaml"
HL7 = DATA / "hl7"
FHIR_BUNDLE = DATA / "fhir" / "bundle-mixed.json"
FHIR_CODES = DATA / "fhir" / "codes.yaml"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference"


def check_us_core(data: dict) -> None:
    """US Core 6.1 DocumentReference: each element the profile requires (min 1) present, and
    each must-support element this tool can know filled in, with the bindings it fixes."""
    R4BDocumentReference.model_validate(data)  # FHIR R4 (R4B has the same DocumentReference)
    DocumentReference(data, strict=True)
    assert US_CORE in data["meta"]["profile"]
    # Required: status, type, category, subject, content, content.attachment and its
    # contentType and data (or url).
    assert data["status"] in ("current", "superseded", "entered-in-error")
    assert {"system": "http://loinc.org", "code": "69730-0", "display": "Instructions"} in data[
        "type"
    ]["coding"]
    assert {
        "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
        "code": "clinical-note",
        "display": "Clinical Note",
    } in [c for category in data["category"] for c in category["coding"]]
    subject = data["subject"]
    assert subject.get("reference", "").startswith("Patient/") or "identifier" in subject
    (content,) = data["content"]
    attachment = content["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert base64.b64decode(attachment["data"]).startswith(b"%PDF-")
    # Must support: identifier, date, author, content.format, context.period (and
    # context.encounter when the input had one).
    assert data["identifier"][0]["system"] == "urn:ietf:rfc:3986"
    assert data["identifier"][0]["value"].startswith("urn:uuid:")
    assert data["date"] and data["author"][0]["display"]
    assert content["format"]["code"] == "urn:ihe:iti:xds:2017:mimeTypeSufficient"
    assert data["context"]["period"]["start"]


def run(runner, *args):
    result = runner.invoke(cli, [str(a) for a in args])
    return result


def test_csv_input_names_the_patient_by_the_sites_mrn_system(runner, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(
        SITE.read_text() + "mrn_identifier: {system: 'urn:oid:1.2.840.114350.1.13.99'}\n"
    )
    out = tmp_path / "doc.json"
    result = run(
        runner, "make", "pars-defect-injection", "--patient", "Ana Díaz", "--date", "2030-12-03",
        "--time", "8:00", "--clinician", "Dr. Lee", "--mrn", "A-1", "--site", site,
        "--emit", "fhir", "-o", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    check_us_core(data)
    assert data["subject"] == {
        "display": "Ana Díaz",
        "identifier": {"system": "urn:oid:1.2.840.114350.1.13.99", "value": "A-1"},
    }


def test_fhir_input_gives_references_and_the_encounter(runner, tmp_path):
    source = json.loads(FHIR_BUNDLE.read_text())
    source["entry"] = source["entry"][:3]  # the patient, doctor and first appointment
    source["entry"].append(
        {
            "resource": {
                "resourceType": "Encounter",
                "id": "e1",
                "status": "planned",
                "class": {"code": "AMB"},
                "appointment": [{"reference": "Appointment/a1"}],
            }
        }
    )
    path = tmp_path / "in.json"
    path.write_text(json.dumps(source))
    out = tmp_path / "doc.json"
    result = run(
        runner, "make", "--fhir", path, "--codes", FHIR_CODES, "--site", SITE,
        "--include-past", "--emit", "fhir", "-o", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    check_us_core(data)
    assert data["subject"]["reference"] == "Patient/p1"
    assert data["author"][0]["reference"] == "Practitioner/dr"
    assert data["context"]["encounter"] == [{"reference": "Encounter/e1"}]
    assert data["context"]["related"] == [{"reference": "Appointment/a1"}]


@pytest.mark.parametrize("kind", ["collection", "transaction"])
def test_batch_bundles_validate(runner, tmp_path, kind):
    out = tmp_path / "bundle.json"
    result = run(
        runner, "batch", HL7 / "mllp-batch.hl7", "--codes", HL7 / "codes.yaml", "--site", SITE,
        "--emit", "fhir", "--fhir-bundle", kind, "--fhir-output", out, "-j", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    R4BBundle.model_validate(data)
    Bundle(data, strict=True)
    # Five messages: a booking superseded by its reschedule, the reschedule, a cancellation,
    # another booking and a message that is not SIU: two documents.
    assert data["type"] == kind and len(data["entry"]) == 2
    related = [e["resource"]["context"]["related"][0]["identifier"]["value"] for e in data["entry"]]
    assert related == ["FL-9@CADENCE", "FL-11@CADENCE"]
    for entry in data["entry"]:
        resource = entry["resource"]
        check_us_core({**resource, "id": "x"} if kind == "transaction" else resource)
        identifier = resource["identifier"][0]
        # The entry's own urn:uuid, distinct from the document's identifier (issue 22)
        assert entry["fullUrl"].startswith("urn:uuid:")
        assert entry["fullUrl"] != identifier["value"]
        assert resource["docStatus"] == "final"
        # From HL7: the MRN's assigning authority is not a URI, so the identifier has no
        # system; the appointment is named by its filler id.
        assert resource["subject"]["identifier"]["value"].startswith("M-")
        assert resource["context"]["related"][0]["identifier"]["value"].startswith("FL-")
        if kind == "transaction":
            assert "id" not in resource
            assert entry["request"] == {
                "method": "POST",
                "url": "DocumentReference",
                "ifNoneExist": f"identifier=urn:ietf:rfc:3986|{identifier['value']}",
            }
        else:
            assert "request" not in entry


def test_make_writes_a_transaction_of_one(runner, tmp_path):
    out = tmp_path / "t.json"
    result = run(
        runner, "make", "pars-defect-injection", "--patient", "Ana", "--date", "2030-12-03",
        "--time", "8:00", "--clinician", "Dr. Lee", "--site", SITE, "--emit", "fhir",
        "--fhir-bundle", "transaction", "-o", out, "--mrn", "MRN-1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    R4BBundle.model_validate(data)
    Bundle(data, strict=True)
    assert data["type"] == "transaction" and data["entry"][0]["request"]["method"] == "POST"


def test_fhir_bundle_needs_emit_fhir(runner, tmp_path):
    result = run(
        runner, "batch", HL7 / "siu-s12.hl7", "--site", SITE, "--out-dir", tmp_path,
        "--fhir-bundle", "transaction",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--fhir-bundle goes with --emit fhir" in result.output
