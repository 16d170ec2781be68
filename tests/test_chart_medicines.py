"""The patient's medicines from the chart (issue 22): FHIR MedicationRequest and
MedicationStatement for the appointment's patient, by status, RxNorm code before text,
medicationReference followed; joined with those given; an unknown one follows the site's
unknown_medicines rule with its code; the manifest and the DocumentReference say which came
from the chart. US Core's own MedicationRequest examples are in tests/data/fhir/chart/."""

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from helpers import DATA

from pars_docs.cli import cli
from pars_docs.load.library import Library
from pars_docs.read.codes import CodeMap
from pars_docs.read.ehr import Feed
from pars_docs.read.fhir import appointment_rows, read_resource
from pars_docs.read.rows import BadRow, Row

CHART = DATA / "fhir" / "chart"
CODES = DATA / "fhir" / "codes.yaml"
SITE = DATA / "site-ny.yaml"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def feed(unknown="error"):
    library = Library(None)
    codes = CodeMap.build(library, CODES)
    return Feed(
        codes,
        ZoneInfo("America/New_York"),
        now=NOW,
        medicines=library.medicine_table(),
        unknown_medicines=unknown,
    )


def page(name):
    path = CHART / name
    return read_resource(path.read_text(encoding="utf-8"), name), name


def test_current_medicines_of_the_patient_by_code_then_text():
    (row,) = appointment_rows([page("chart.json")], feed())
    assert isinstance(row, Row)
    # warfarin: RxNorm ingredient code (its text says Coumadin); apixaban: a bundled
    # Medication whose ingredient is coded; semaglutide: the text "Ozempic …"; metformin: a
    # contained Medication's code, listed once though the chart has it twice. Stopped,
    # completed, cancelled, entered-in-error, not-taken, do-not-perform and another
    # patient's are not read.
    expected = ["warfarin", "apixaban", "semaglutide", "metformin"]
    assert row.values["medications"] == expected
    assert row.values["chart_medicines"] == expected
    assert row.refs["medicines"] == (
        "MedicationRequest/warfarin=warfarin;MedicationRequest/apixaban=apixaban;"
        "MedicationStatement/ozempic=semaglutide;MedicationStatement/metformin=metformin"
    )


def test_without_the_table_nothing_is_read():
    plain = Feed(CodeMap.build(Library(None), CODES), ZoneInfo("America/New_York"), now=NOW)
    (row,) = appointment_rows([page("chart.json")], plain)
    assert "medications" not in row.values


def test_us_core_examples_unknown_to_the_table_fail_naming_the_code():
    pages = [page("appointment.json"), page("us-core-medicationrequest-uscore-mo1.json")]
    (row,) = appointment_rows(pages, feed())
    assert isinstance(row, BadRow)
    assert row.error.field == "medication"
    assert row.error.message.startswith(
        "medication: the chart lists a medicine the table does not know: 'Nizatidine 15 "
        "MG/ML Oral Solution [Axid]' (RxNorm 582620); add it to the medicine table"
    )
    assert "Nizatidine" not in row.error.public(False)
    assert "(RxNorm 582620)" in row.error.public(False)


def test_a_medication_reference_is_followed_to_the_bundled_medication():
    pages = [
        page("appointment.json"),
        page("us-core-medicationrequest-uscore-mo3.json"),
        page("us-core-medication-uscore-med1.json"),
    ]
    (row,) = appointment_rows(pages, feed("ask"))
    assert isinstance(row, Row)
    assert row.values["medications"] == ["lisinopril oral 10 mg (RxNorm 206765)"]


def test_ask_prints_an_unknown_one_and_warns(runner, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text(encoding="utf-8") + "unknown_medicines: ask\n", "utf-8")
    out = tmp_path / "h.json"
    source = tmp_path / "b.json"
    bundle = json.loads((CHART / "appointment.json").read_text(encoding="utf-8"))
    bundle["entry"].append(
        {"resource": json.loads(
            (CHART / "us-core-medicationrequest-uscore-mo1.json").read_text(encoding="utf-8")
        )}
    )  # fmt: skip
    source.write_text(json.dumps(bundle), encoding="utf-8")
    result = runner.invoke(cli, [
        "make", "--fhir", str(source), "--site", str(site), "--codes", str(CODES),
        "--format", "json", "-o", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning: medication: unknown medicine" in result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    text = json.dumps(data)
    assert "Nizatidine 15 MG/ML Oral Solution [Axid] (RxNorm 582620)" in text


def test_joined_with_those_given_without_duplicates(runner, tmp_path):
    out = tmp_path / "h.json"
    result = runner.invoke(cli, [
        "make", "--fhir", str(CHART / "chart.json"), "--site", str(SITE), "--codes",
        str(CODES), "--medication", "Coumadin", "--medication", "Advil", "--format", "json",
        "-o", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    medicines = [m["generic"] for m in data["medicines"]]
    assert sorted(medicines) == sorted(
        ["warfarin", "ibuprofen", "apixaban", "semaglutide", "metformin"]
    )


def test_manifest_and_document_reference_say_which_came_from_the_chart(runner, tmp_path):
    manifest = tmp_path / "m.jsonl"
    bundle = tmp_path / "docs.json"
    result = runner.invoke(cli, [
        "batch", str(CHART / "chart.json"), "--site", str(SITE), "--codes", str(CODES),
        "--emit", "fhir", "--fhir-output", str(bundle), "--manifest", str(manifest),
        "-j", "1",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert record["chart_medicines"] == "warfarin; apixaban; semaglutide; metformin"
    (entry,) = json.loads(bundle.read_text())["entry"]
    related = entry["resource"]["context"]["related"]
    assert related[0] == {"reference": "Appointment/visit-1"}
    assert related[1:] == [
        {"display": "medicine from the chart: warfarin", "reference": "MedicationRequest/warfarin"},
        {"display": "medicine from the chart: apixaban", "reference": "MedicationRequest/apixaban"},
        {
            "display": "medicine from the chart: semaglutide",
            "reference": "MedicationStatement/ozempic",
        },
        {
            "display": "medicine from the chart: metformin",
            "reference": "MedicationStatement/metformin",
        },
    ]


@pytest.mark.parametrize("status", ["stopped", "completed", "cancelled", "entered-in-error"])
def test_statuses_that_do_not_count(status):
    data, label = page("chart.json")
    for entry in data["entry"]:
        if entry["resource"].get("id") == "warfarin":
            entry["resource"]["status"] = status
    (row,) = appointment_rows([(data, label)], feed())
    assert "warfarin" not in row.values["medications"]
