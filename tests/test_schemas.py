"""The published contracts (issue 22): JSON Schemas for the JSON rendition, the manifest and
the --errors json lines, each with a schema_version, shipped in the package and in docs/; every
output the tests make here is validated against its schema."""

import json
from pathlib import Path

import pytest
from helpers import DATA
from jsonschema import Draft202012Validator, FormatChecker

from pars_docs.cli import cli
from pars_docs.schemas import NAMES, SCHEMA_VERSION, schema

ROOT = Path(__file__).resolve().parents[1]
THIRDPARTY = ROOT.parent / "shared" / "thirdparty"
SITE = DATA / "site-ny.yaml"
CHART = DATA / "fhir" / "chart"


def validator(name):
    return Draft202012Validator(schema(name), format_checker=FormatChecker())


def valid(name, item):
    errors = sorted(validator(name).iter_errors(item), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.mark.parametrize("name", NAMES)
def test_each_schema_is_a_schema_with_a_version_and_is_in_the_docs(name):
    data = schema(name)
    Draft202012Validator.check_schema(data)
    assert data["$id"].endswith(f":{SCHEMA_VERSION}")
    text = json.dumps(data)
    assert f'"schema_version": {{"const": "{SCHEMA_VERSION}"}}' in text
    docs = ROOT / "docs" / "schemas" / f"{name}.schema.json"
    assert json.loads(docs.read_text(encoding="utf-8")) == data


def test_a_schema_refuses_what_breaks_it():
    with pytest.raises(AssertionError):
        valid("manifest", {"row": 0, "status": "made"})
    with pytest.raises(AssertionError):
        valid("handout", {"schema_version": "2"})


def test_every_output_of_a_batch_keeps_its_contract(runner, tmp_path):
    source = tmp_path / "list.csv"
    source.write_text(
        "procedure,patient,date,time,clinician,mrn,visit_id,medications\n"
        "pars-defect-injection,Ana Diaz,2030-12-03,8:00,Dr. Lee,MRN-1,V-1,warfarin;Advil\n"
        "pars-defect-injection,Bo Smith,2030-02-30,8:00,Dr. Lee,,,\n"
        "pars-defect-injection,Ana Diaz,2030-12-03,8:00,Dr. Lee,MRN-1,V-1,warfarin;Advil\n"
        "pars-defect-decompression,Cy Young,2030-12-04,9:00,Dr. Lee,,,\n",
        "utf-8",
    )
    manifest = tmp_path / "m.jsonl"
    result = runner.invoke(cli, [
        "batch", str(source), "--site", str(SITE), "--out-dir", str(tmp_path / "o"),
        "--output-format", "json", "--manifest", str(manifest), "--errors", "json", "-j", "1",
    ])  # fmt: skip
    assert result.exit_code == 1
    records = [json.loads(x) for x in manifest.read_text(encoding="utf-8").splitlines()]
    assert {r["status"] for r in records} == {"ok", "failed", "duplicate"}
    for record in records:
        valid("manifest", record)
    lines = [json.loads(x) for x in result.stderr.splitlines()]
    assert {"row", "note"} <= {key for line in lines for key in line}
    for line in lines:
        valid("errors", line)
    made = [
        json.loads(Path(r["output"]).read_text("utf-8")) for r in records if r["status"] == "ok"
    ]
    assert len(made) == 2
    for handout in made:
        valid("handout", handout)
    first = next(h for h in made if h["patient"] == "Ana Diaz")
    assert first["visit_id"] == "V-1"
    assert first["identifiers"] == [{"type": "MR", "value": "MRN-1"}]


def test_a_fatal_error_line_keeps_its_contract(runner, tmp_path):
    result = runner.invoke(cli, ["batch", str(tmp_path / "none.csv"), "--errors", "json"])
    assert result.exit_code != 0
    for line in result.stderr.splitlines():
        valid("errors", json.loads(line))


def test_the_json_rendition_from_a_feed_carries_the_booking_and_identifiers(runner, tmp_path):
    out = tmp_path / "h.json"
    result = runner.invoke(cli, [
        "make", "--fhir", str(CHART / "chart.json"), "--site", str(SITE), "--codes",
        str(DATA / "fhir" / "codes.yaml"), "--format", "json", "-o", str(out),
        "--medication", "Advil",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    handout = json.loads(out.read_text(encoding="utf-8"))
    valid("handout", handout)
    assert handout["schema_version"] == "1"
    assert handout["visit_id"] == "Appointment/visit-1"
    assert handout["identifiers"] == [{"type": "MR", "value": "1032702"}]
    chart = {m["generic"] for m in handout["medicines"] if m.get("from_chart")}
    assert chart == {"warfarin", "apixaban", "semaglutide", "metformin"}
    assert not any(m.get("from_chart") for m in handout["medicines"] if m["generic"] == "ibuprofen")


def test_hl7_identifiers_carry_their_system(runner, tmp_path):
    message = THIRDPARTY / "hl7" / "ms" / "SIU-S12-02.hl7"
    text = message.read_text(encoding="utf-8").replace(
        "PATID1234^5^M11^test1&2.16.1&HCD^MR", "PATID1234^5^M11^GHH&2.16.840.1.113883.19.5&ISO^MR"
    )
    source = tmp_path / "m.hl7"
    source.write_text(text, encoding="utf-8")
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text(encoding="utf-8") + "fallback_language: en\n", "utf-8")
    out = tmp_path / "h.json"
    result = runner.invoke(cli, [
        "make", "--fhir", str(source), "--site", str(site), "--codes",
        str(THIRDPARTY / "codes.yaml"), "--as-of", "2019-01-01", "--format", "json", "-o", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    handout = json.loads(out.read_text(encoding="utf-8"))
    valid("handout", handout)
    assert handout["visit_id"] == "36996"
    assert handout["identifiers"] == [
        {"type": "MR", "system": "urn:oid:2.16.840.1.113883.19.5", "value": "PATID1234"}
    ]


def test_every_third_party_handout_keeps_its_contract(runner, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text(encoding="utf-8") + "fallback_language: en\n", "utf-8")
    inputs = sorted((THIRDPARTY / "hl7" / "ms").glob("SIU-S1[234]-0*.hl7"))
    result = runner.invoke(cli, [
        "batch", *map(str, inputs), "--site", str(site), "--codes",
        str(THIRDPARTY / "codes.yaml"), "--out-dir", str(tmp_path / "o"), "--output-format",
        "json", "--as-of", "2019-01-01", "-j", "1",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    made = sorted((tmp_path / "o").glob("*.json"))
    assert made
    for path in made:
        valid("handout", json.loads(path.read_text(encoding="utf-8")))
