"""Shapes from the third-party set (issue 22): R5's Appointment.reason, a code map that
matches text in description, serviceCategory or specialty (with a warning), and a patient
language from the data that falls back to the site's."""

import json
from pathlib import Path

import pytest
from helpers import DATA

from pars_docs.cli import cli
from pars_docs.errors import UsageError
from pars_docs.load.library import Library
from pars_docs.read.codes import CodeMap

THIRDPARTY = Path(__file__).resolve().parents[2] / "shared" / "thirdparty"
SITE = DATA / "site-ny.yaml"
R5 = THIRDPARTY / "adapted" / "r5-shaped-Appointment-example.json"
EPIC = THIRDPARTY / "fhir" / "epic" / "epic-sandbox-appointment-searchset.json"


def test_r5_reason_is_not_taken_for_stu3(runner, tmp_path):
    data = json.loads(R5.read_text(encoding="utf-8"))
    assert all("concept" in r or "reference" in r for r in data["reason"])
    result = runner.invoke(cli, [
        "make", "--fhir", str(R5), "--site", str(SITE), "--codes",
        str(THIRDPARTY / "codes.yaml"), "--as-of", "2000-01-01", "-o", str(tmp_path / "a.pdf"),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    # STU3's reason (a CodeableConcept) is still refused
    data["reason"] = [{"coding": [{"system": "http://snomed.info/sct", "code": "413095006"}]}]
    stu3 = tmp_path / "stu3.json"
    stu3.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(cli, ["make", "--fhir", str(stu3), "--site", str(SITE), "-o", "x"])
    assert result.exit_code == 1 and "Appointment.reason is a FHIR STU3 element" in result.stderr


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        ("text: tracheostomy", "description"),  # any case, whole words
        ("text: Anesthesiology", "specialty"),
        ("text: surgery", "serviceCategory"),
    ],
)
def test_a_code_map_matches_text_with_a_warning(runner, tmp_path, entry, where):
    codes = tmp_path / "codes.yaml"
    codes.write_text(f"- {entry}\n  procedure: pars-defect-decompression\n", "utf-8")
    out = tmp_path / "h.json"
    result = runner.invoke(cli, [
        "make", "--fhir", str(EPIC), "--site", str(SITE), "--codes", str(codes),
        "--as-of", "2000-01-01", "--format", "json", "-o", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    words = entry.split(": ", 1)[1]
    assert (
        f"warning: row 1: no code chose the instruction set; the code map's text '{words}' in "
        f"{where} chose pars-defect-decompression: check it is the right one"
    ) in result.stderr
    assert json.loads(out.read_text())["procedure"] == "pars-defect-decompression"


def test_text_matches_whole_words_only_and_codes_come_first(tmp_path):
    codes = tmp_path / "codes.yaml"
    codes.write_text(
        "- text: tracheo\n  procedure: pars-defect-decompression\n"
        "- code: '31601'\n  procedure: pars-defect-injection\n",
        "utf-8",
    )
    code_map = CodeMap.build(Library(None), codes)
    assert code_map.match_text([("description", "TRACHEOSTOMY [31601 (CPT®)]")]) is None
    assert code_map.match([{"code": "31601"}]) == "pars-defect-injection"


def test_a_text_entry_needs_words(tmp_path):
    codes = tmp_path / "codes.yaml"
    codes.write_text("- text: '  '\n  procedure: pars-defect-decompression\n", "utf-8")
    with pytest.raises(UsageError, match="text must hold words"):
        CodeMap.build(Library(None), codes)


def test_a_language_from_the_data_falls_back_in_make(runner, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text(encoding="utf-8") + "fallback_language: en\n", "utf-8")
    # PID-15 is ara (Arabic) in the file; every set has Arabic now, so the message asks for
    # German here, which has no set.
    text = (THIRDPARTY / "hl7" / "ms" / "SIU-S12-02.hl7").read_bytes().decode("utf-8")
    pid = next(s for s in text.replace("\r", "\n").split("\n") if s.startswith("PID|"))
    fields = pid.split("|")
    assert fields[15].startswith("ara")
    fields[15] = "deu" + fields[15][3:]
    message = tmp_path / "siu.hl7"
    message.write_bytes(text.replace(pid, "|".join(fields)).encode("utf-8"))
    args = ["make", "--fhir", str(message), "--site", str(site), "--codes"]
    args += [str(THIRDPARTY / "codes.yaml"), "--as-of", "2019-01-01", "--format", "json"]
    result = runner.invoke(cli, [*args, "-o", str(tmp_path / "a.json")])
    assert result.exit_code == 0, result.output
    assert "language: 'deu' is not available; used the site's fallback language 'en'" in (
        result.stderr
    )
    # One asked for on the command line is not replaced
    asked = runner.invoke(cli, [*args, "--language", "de", "-o", str(tmp_path / "b.json")])
    assert asked.exit_code == 2 and "'de' is not available" in asked.stderr
