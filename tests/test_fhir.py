"""FHIR R4 in and out: the official example, awkward bundles, and valid DocumentReferences."""

import base64
import hashlib
import json
from pathlib import Path

import pytest
from fhirclient.models.bundle import Bundle
from fhirclient.models.documentreference import DocumentReference
from helpers import DATA, pdf_text, squash

from pars_docs.cli import cli

# The official example Appointment from the FHIR R4 specification (CC0).
OFFICIAL = DATA / "fhir" / "appointment-example.json"
CODES = DATA / "fhir" / "codes.yaml"
MIXED = DATA / "fhir" / "bundle-mixed.json"


@pytest.fixture
def official():
    return OFFICIAL


def invoke(runner, *args, input=None):
    return runner.invoke(cli, list(map(str, args)), input=input)


def test_official_example_makes_a_handout(runner, official, site_file, tmp_path):
    out = tmp_path / "h.pdf"
    result = invoke(
        runner,
        "make",
        "--fhir",
        official,
        "--codes",
        CODES,
        "--site",
        site_file,
        "--include-past",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    text = squash(pdf_text(out))
    # 2013-12-10T09:00:00Z is 4:00 AM in New York (EST, UTC-5).
    assert "Patient Peter James Chalmers" in text
    assert "Your clinician Dr Adam Careful" in text
    assert "Date Tuesday, December 10, 2013" in text and "Start time 4:00 AM" in text


def test_official_example_without_a_code_map_names_its_codes(runner, official, site_file):
    result = invoke(runner, "make", "--fhir", official, "--site", site_file, "--include-past")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "pars-docs: error: procedure: no instruction set for the codes (no system)|52, "
        "http://example.org/appointment-type|follow; add one to a code map (--codes)"
    )


def test_document_reference_validates_and_carries_the_pdf(runner, official, site_file, tmp_path):
    out = tmp_path / "doc.json"
    result = invoke(
        runner,
        "make",
        "--fhir",
        official,
        "--codes",
        CODES,
        "--site",
        site_file,
        "--include-past",
        "--emit",
        "fhir",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    resource = DocumentReference(data, strict=True)  # raises on anything R4 does not allow
    assert resource.status == "current"
    assert resource.type.coding[0].system == "http://loinc.org"
    assert resource.subject.reference == "Patient/example"
    assert resource.author[0].reference == "Practitioner/example"
    attachment = data["content"][0]["attachment"]
    pdf = base64.b64decode(attachment["data"])
    assert pdf.startswith(b"%PDF-")
    assert attachment["contentType"] == "application/pdf"
    assert attachment["size"] == len(pdf)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(pdf).digest()).decode()
    assert attachment["language"] == "en" and attachment["title"]
    assert data["context"]["related"] == [{"reference": "Appointment/example"}]
    assert "Peter James Chalmers" in pdf_text(pdf)


def test_bundle_batch(runner, site_file, tmp_path):
    bundle_out = tmp_path / "out.json"
    manifest = tmp_path / "manifest.jsonl"
    result = invoke(
        runner,
        "batch",
        MIXED,
        "--codes",
        CODES,
        "--site",
        site_file,
        "--jobs",
        1,
        "--out-dir",
        tmp_path / "pdf",
        "--emit",
        "fhir",
        "--fhir-output",
        bundle_out,
        "--manifest",
        manifest,
        "--verbose",
        "--include-past",
    )
    assert result.exit_code == 1  # one appointment's code matches no set
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [(r["row"], r["status"]) for r in records] == [
        (1, "ok"),
        (2, "cancelled"),
        (3, "ok"),
        (4, "failed"),
    ]
    assert records[1]["reason"] == "appointment status is cancelled"
    assert (
        records[3]["field"] == "procedure" and "http://snomed.info/sct|1234" in records[3]["reason"]
    )
    bundle = json.loads(bundle_out.read_text(encoding="utf-8"))
    Bundle(bundle, strict=True)
    assert bundle["type"] == "collection"
    subjects = [e["resource"]["subject"] for e in bundle["entry"]]
    # Row 1 resolves a urn:uuid reference and the MR identifier; row 3's patient is not in the
    # bundle, so the participant's display is used.
    assert subjects[0]["display"] == "Thị Ánh Nguyễn"
    assert subjects[0]["identifier"] == {"value": "MRN-77"}
    assert subjects[1] == {"display": "Zoë Quinn", "reference": "Patient/missing"}
    first = squash(pdf_text(sorted((tmp_path / "pdf").glob("*MRN-77*"))[0]))
    # 13:00Z on 2026-03-08 is 9:00 AM EDT, on the morning the clocks changed.
    assert "Date Sunday, March 8, 2026" in first and "Start time 9:00 AM" in first
    assert "Date of birth May 6, 1988" in first


def test_bundle_from_stdin_is_detected(runner, site_file, tmp_path):
    result = invoke(
        runner,
        "batch",
        "-",
        "--codes",
        CODES,
        "--site",
        site_file,
        "--jobs",
        1,
        "--out-dir",
        tmp_path,
        "--include-past",
        input=MIXED.read_bytes(),
    )
    assert result.exit_code == 1
    assert len(list(tmp_path.glob("*.pdf"))) == 2


def test_make_refuses_a_bundle_of_several(runner, site_file):
    result = invoke(
        runner, "make", "--fhir", MIXED, "--codes", CODES, "--site", site_file, "--include-past"
    )
    assert result.exit_code == 2
    assert "holds 3 appointments to make (and 1 not to make); use pars-docs batch" in (
        result.output
    )


def test_missing_patient_without_display_is_a_row_error(runner, site_file, tmp_path):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "Appointment",
                    "id": "x",
                    "status": "booked",
                    "start": "2026-12-03T08:00:00-05:00",
                    "appointmentType": {
                        "coding": [
                            {"system": "http://example.org/appointment-type", "code": "follow"}
                        ]
                    },
                    "participant": [
                        {"actor": {"reference": "Patient/nowhere"}},
                        {"actor": {"display": "Dr. Lee", "type": "Practitioner"}},
                    ],
                }
            }
        ],
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    result = invoke(
        runner,
        "batch",
        path,
        "--codes",
        CODES,
        "--site",
        site_file,
        "--out-dir",
        tmp_path / "o",
        "--jobs",
        1,
        "--errors",
        "json",
    )
    assert result.exit_code == 1
    first = json.loads(result.output.splitlines()[0])
    assert first["row"] == 1 and first["field"] == "patient"
    assert "Patient/nowhere is not in the bundle" in first["message"]


def appointment_file(tmp_path, start: str, set_id: str, participants: list) -> Path:
    """A booked Appointment naming its instruction set by the set's own pars-docs code."""
    appointment = {
        "resourceType": "Appointment",
        "id": "a1",
        "status": "booked",
        "start": start,
        "serviceType": [{"coding": [{"system": "urn:pars-docs:procedure", "code": set_id}]}],
        "participant": participants,
    }
    path = tmp_path / "a.json"
    path.write_text(json.dumps(appointment))
    return path


def test_the_sets_own_codes_choose_the_procedure_without_a_code_map(runner, site_file, tmp_path):
    participants = [
        {"actor": {"reference": "Patient/p", "display": "Ana Díaz"}},
        {"actor": {"reference": "Practitioner/d", "display": "Dr. Lee"}},
    ]
    path = appointment_file(
        tmp_path, "2026-12-03T12:00:00Z", "pars-defect-decompression", participants
    )
    out = tmp_path / "h.pdf"
    result = invoke(runner, "make", "--fhir", path, "--site", site_file, "-o", out)
    assert result.exit_code == 0, result.output
    text = squash(pdf_text(out))
    assert "Procedure Pars defect decompression and stabilization surgery" in text
    assert "Start time 7:00 AM" in text  # 12:00Z is 7:00 AM in New York in December


def test_a_start_in_the_repeated_hour_keeps_which_one(runner, site_file, tmp_path):
    # 06:30Z on 2026-11-01 is the second 1:30 AM in New York (after the clocks go back).
    participants = [
        {"actor": {"display": "Ana Díaz", "type": "Patient"}},
        {"actor": {"display": "Dr. Lee", "type": "Practitioner"}},
    ]
    path = appointment_file(tmp_path, "2026-11-01T06:30:00Z", "pars-defect-injection", participants)
    result = invoke(
        runner,
        "make",
        "--fhir",
        path,
        "--site",
        site_file,
        "--include-past",
        "--format",
        "json",
        "-o",
        "-",
    )
    assert result.exit_code == 0, result.output
    timeline = json.loads(result.stdout)
    assert timeline["moments"]["start"] == "2026-11-01T01:30:00-05:00"
