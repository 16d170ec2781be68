"""Ambiguity is an error, and identity is right or refused (issues 22 and 25): two Patients
under one id, two Patient participants, two PID segments (see test_hl7_versions.py), a column
written twice or under two names, one booking id for two patients, a document that no server
could file to a patient; names and identifiers whose period has ended."""

import copy
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from helpers import DATA

from pars_docs.cli import cli
from pars_docs.load.library import Library
from pars_docs.read.codes import CodeMap
from pars_docs.read.ehr import Feed
from pars_docs.read.fhir import appointment_rows
from pars_docs.read.rows import BadRow, Row

SITE = DATA / "site-ny.yaml"
MR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}
FOLLOW = {"coding": [{"system": "http://example.org/appointment-type", "code": "follow"}]}


def patient(pid="p1", family="Nguyen", mrn="MRN-77", **more):
    return {
        "resourceType": "Patient",
        "id": pid,
        "name": [{"use": "official", "family": family, "given": ["Anh"]}],
        "identifier": [{"type": MR, "value": mrn}],
        **more,
    }


def appointment(aid="a1", patients=("Patient/p1",), updated=None):
    resource = {
        "resourceType": "Appointment",
        "id": aid,
        "status": "booked",
        "start": "2030-03-08T13:00:00Z",
        "appointmentType": FOLLOW,
        "participant": [{"actor": {"reference": ref}} for ref in patients]
        + [{"actor": {"reference": "Practitioner/dr"}}],
    }
    if updated:
        resource["meta"] = {"lastUpdated": updated}
    return resource


DOCTOR = {"resourceType": "Practitioner", "id": "dr", "name": [{"family": "Lee", "given": ["Sam"]}]}


def bundle(*resources):
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": r} for r in resources
    ]}  # fmt: skip


@pytest.fixture(scope="module")
def feed():
    codes = CodeMap.build(Library(None), DATA / "fhir" / "codes.yaml")
    return Feed(codes, ZoneInfo("America/New_York"), now=datetime(2026, 1, 1, tzinfo=timezone.utc))


def rows(data, feed):
    return list(appointment_rows([(data, "b.json")], feed))


def test_a_plain_bundle_is_read(feed):
    (row,) = rows(bundle(patient(), DOCTOR, appointment()), feed)
    assert isinstance(row, Row) and row.values["patient"] == "Anh Nguyen"


def test_two_patients_under_one_id_are_refused(feed):
    data = bundle(patient(), patient(family="Other", mrn="MRN-99"), DOCTOR, appointment())
    (row,) = rows(data, feed)
    assert isinstance(row, BadRow)
    assert row.error.message == (
        "Patient/p1: the input holds 2 different Patient resources under this one id; "
        "pars-docs will not choose between them"
    )
    assert row.error.field == "patient"


def test_the_same_patient_given_twice_is_not_a_conflict(feed):
    # a page of a search given twice
    (row,) = rows(bundle(patient(), copy.deepcopy(patient()), DOCTOR, appointment()), feed)
    assert isinstance(row, Row)


def test_two_patient_participants_are_refused(feed):
    data = bundle(
        patient(), patient("p2", "Other", "MRN-2"), DOCTOR,
        appointment(patients=("Patient/p1", "Patient/p2")),
    )  # fmt: skip
    (row,) = rows(data, feed)
    assert isinstance(row, BadRow)
    assert row.error.message.startswith(
        "patient: the appointment has 2 different Patient participants (Patient/p1 and "
        "Patient/p2); pars-docs will not choose between them"
    )
    assert "Patient/p1" not in row.error.public(False)


def test_one_patient_named_twice_is_one(feed):
    data = bundle(patient(), DOCTOR, appointment(patients=("Patient/p1", "Patient/p1")))
    data["entry"][2]["resource"]["subject"] = {"reference": "Patient/p1"}
    (row,) = rows(data, feed)
    assert isinstance(row, Row)


def test_one_booking_id_for_two_patients_is_refused(feed):
    data = bundle(
        patient(), patient("p2", "Other", "MRN-2"), DOCTOR,
        appointment(updated="2026-01-01T00:00:00Z"),
        appointment(patients=("Patient/p2",), updated="2026-01-02T00:00:00Z"),
    )  # fmt: skip
    from pars_docs.read.ehr import superseded

    results = rows(data, feed)
    replaced = superseded(results)
    assert sorted(replaced) == [1, 2]
    for number, bad in replaced.items():
        assert isinstance(bad, BadRow) and bad.number == number
        assert bad.error.message == (
            "visit_id: the booking 'Appointment/a1' is given for different patients (rows 1, "
            "2); pars-docs will not choose between them"
        )


def test_one_booking_id_for_two_patients_fails_both_rows_of_a_batch(runner, tmp_path):
    data = bundle(
        patient(), patient("p2", "Other", "MRN-2"), DOCTOR,
        appointment(updated="2026-01-01T00:00:00Z"),
        appointment(patients=("Patient/p2",), updated="2026-01-02T00:00:00Z"),
    )  # fmt: skip
    source = tmp_path / "b.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    manifest = tmp_path / "m.jsonl"
    result = runner.invoke(cli, [
        "batch", str(source), "--site", str(SITE), "--codes", str(DATA / "fhir" / "codes.yaml"),
        "--out-dir", str(tmp_path / "o"), "--manifest", str(manifest), "-j", "1",
    ])  # fmt: skip
    assert result.exit_code == 1
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [r["status"] for r in records] == ["failed", "failed"]
    assert all("is given for different patients (rows 1, 2)" in r["reason"] for r in records)
    assert not list((tmp_path / "o").glob("*.pdf"))


def test_one_visit_id_for_two_patients_in_a_csv(runner, tmp_path):
    source = tmp_path / "a.csv"
    source.write_text(
        "procedure,patient,date,time,clinician,visit_id\n"
        "pars-defect-injection,Ana Diaz,2030-12-03,8:00,Dr. Lee,V-1\n"
        "pars-defect-injection,Bo Smith,2030-12-03,9:00,Dr. Lee,V-1\n"
        "pars-defect-injection,ANA DIAZ,2030-12-03,8:00,Dr. Lee,V-1\n",
        encoding="utf-8",
    )
    manifest = tmp_path / "m.jsonl"
    result = runner.invoke(cli, [
        "batch", str(source), "--site", str(SITE), "--out-dir", str(tmp_path / "o"),
        "--manifest", str(manifest), "-j", "1", "--output-format", "text",
    ])  # fmt: skip
    assert result.exit_code == 1
    records = {r["row"]: r for r in map(json.loads, manifest.read_text().splitlines())}
    assert records[2]["status"] == "ok"
    assert records[3]["status"] == "failed"
    assert "is given for different patients (rows 2, 3)" in records[3]["reason"]
    assert records[4]["status"] == "duplicate"  # the same patient again: a repeat


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (
            "procedure,patient,Patient Name,date,time,clinician",
            "the columns 'patient' and 'Patient Name' both give patient",
        ),
        ("procedure,patient,patient,date,time,clinician", "the column 'patient' is written twice"),
        (
            "procedure,patient,date,time,clinician,Doctor",
            "the columns 'clinician' and 'Doctor' both give clinician",
        ),
    ],
)
def test_two_columns_for_one_field_are_refused(runner, tmp_path, header, says):
    source = tmp_path / "a.csv"
    source.write_text(
        header + "\npars-defect-injection,Ana Diaz,Bo Smith,2030-12-03,8:00,Dr. Lee\n", "utf-8"
    )
    result = runner.invoke(cli, ["batch", str(source), "--out-dir", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert says in result.stderr and "will not choose between them" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2  # the site note, then the one line
    assert "Ana Diaz" not in result.stderr and "Bo Smith" not in result.stderr


def test_a_column_named_with_column_settles_it(runner, tmp_path):
    source = tmp_path / "a.csv"
    source.write_text(
        "procedure,patient,Patient Name,date,time,clinician\n"
        "pars-defect-injection,Ana Diaz,Bo Smith,2030-12-03,8:00,Dr. Lee\n",
        "utf-8",
    )
    manifest = tmp_path / "m.jsonl"
    result = runner.invoke(cli, [
        "batch", str(source), "--out-dir", str(tmp_path / "o"), "--column",
        "patient=Patient Name", "--output-format", "text", "--manifest", str(manifest),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    (made,) = (tmp_path / "o").glob("*.txt")
    assert "Bo Smith" in made.read_text(encoding="utf-8")


def test_emit_fhir_without_a_patient_identifier_fails_the_row(runner, tmp_path):
    source = tmp_path / "a.csv"
    source.write_text(
        "procedure,patient,date,time,clinician,mrn\n"
        "pars-defect-injection,Ana Diaz,2030-12-03,8:00,Dr. Lee,\n"
        "pars-defect-injection,Bo Smith,2030-12-04,8:00,Dr. Lee,MRN-5\n",
        "utf-8",
    )
    out = tmp_path / "docs.json"
    manifest = tmp_path / "m.jsonl"
    result = runner.invoke(cli, [
        "batch", str(source), "--site", str(SITE), "--emit", "fhir", "--fhir-output", str(out),
        "--manifest", str(manifest), "-j", "1",
    ])  # fmt: skip
    assert result.exit_code == 1
    records = {r["row"]: r for r in map(json.loads, manifest.read_text().splitlines())}
    assert records[2]["status"] == "failed" and records[2]["field"] == "mrn"
    assert records[2]["reason"].startswith("mrn: --emit fhir needs the patient's record number")
    assert records[3]["status"] == "ok"
    (entry,) = json.loads(out.read_text())["entry"]
    assert entry["resource"]["subject"]["identifier"]["value"] == "MRN-5"
    made = runner.invoke(cli, [
        "make", "pars-defect-injection", "--patient", "Ana", "--date", "2030-12-03", "--time",
        "8:00", "--clinician", "Dr. Lee", "--site", str(SITE), "--emit", "fhir", "-o",
        str(tmp_path / "one.json"),
    ])  # fmt: skip
    assert made.exit_code == 1
    assert "needs the patient's record number" in made.stderr
    assert not (tmp_path / "one.json").exists()


def test_a_name_and_identifier_whose_period_ended_are_never_used(feed):
    old = patient(
        name=[
            {"use": "official", "family": "Oldname", "given": ["Anh"], "period": {"end": "1924"}},
            {"use": "usual", "text": "NGUYEN, ANH"},
        ],
        identifier=[
            {"type": MR, "value": "MRN-OLD", "period": {"end": "1924-10-12"}},
            {"type": MR, "value": "MRN-NEW", "period": {"start": "1924-10-12"}},
        ],
    )
    (row,) = rows(bundle(old, DOCTOR, appointment()), feed)
    assert isinstance(row, Row)
    # "LAST, FIRST" in capitals: reading order, normal case
    assert row.values["patient"] == "Anh Nguyen"
    assert row.values["mrn"] == "MRN-NEW"
    gone = patient(identifier=[{"type": MR, "value": "MRN-OLD", "period": {"end": "1924"}}])
    (row,) = rows(bundle(gone, DOCTOR, appointment()), feed)
    assert "mrn" not in row.values
