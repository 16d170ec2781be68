"""The minor defects of the second hostile review (issue 25, item 7), each reproduced."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import SITE, appointment, lines, write

from pars_docs.cli import cli

HL7 = Path(__file__).parent / "data" / "hl7"
MAKE = ["make", "pars-defect-injection", "--date", "2026-12-03", "--time", "8:00 AM",
        "--clinician", "Dr. Lee", "--site", str(SITE), "--as-of", "2026-11-20"]  # fmt: skip


def no_traceback(result):
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize("control", ["\x85", "\x80", "\x9b", "\x1c", "\x1f"])
def test_c1_controls_and_separators_in_a_name_are_refused(control):
    result = CliRunner().invoke(cli, [*MAKE, "--patient", f"Ana{control}Díaz", "-o", "-"])
    no_traceback(result)
    assert result.exit_code == 2
    assert f"U+{ord(control):04X}" in result.output


@pytest.mark.parametrize("encoding", ["undefined", "rot13", "hex"])
def test_an_encoding_that_is_not_a_text_encoding_is_a_usage_error(tmp_path, encoding):
    source = write(tmp_path / "l.csv", lines(appointment("Ana Díaz", "2026-12-03 8:00", "A1")))
    result = CliRunner().invoke(
        cli,
        ["batch", str(source), "--site", str(SITE), "--encoding", encoding, "--out-dir",
         str(tmp_path / "out")],
    )  # fmt: skip
    no_traceback(result)
    assert result.exit_code == 2
    assert f"--encoding: '{encoding}' is not a text encoding" in result.output


@pytest.mark.parametrize("how", ["batch", "make"])
def test_fhir_xml_nested_too_deep_is_one_line(tmp_path, how):
    deep = tmp_path / "deep.xml"
    deep.write_text(
        '<Bundle xmlns="http://hl7.org/fhir">' + "<entry>" * 5000 + "</entry>" * 5000 + "</Bundle>"
    )
    args = ["make", "--fhir", str(deep)]
    if how == "batch":
        args = ["batch", str(deep), "--out-dir", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, [*args, "--site", str(SITE)])
    no_traceback(result)
    assert result.exit_code in (1, 2)  # the whole input refused: as any unreadable input
    assert "nested more than 64 levels deep" in result.output


def test_an_hl7_offset_past_a_day_is_a_row_problem(tmp_path):
    text = (HL7 / "siu-s12.hl7").read_bytes().replace(b"-0500", b"-2500")
    path = tmp_path / "odd.hl7"
    path.write_bytes(text)
    result = CliRunner().invoke(
        cli,
        ["batch", str(path), "--site", str(SITE), "--codes", str(HL7 / "codes.yaml"),
         "--out-dir", str(tmp_path / "out")],
    )  # fmt: skip
    no_traceback(result)
    assert result.exit_code == 1
    assert "1 failed" in result.output


def _make(tmp_path, close: str):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1790000000"}
    command = [sys.executable, "-m", "pars_docs", *MAKE, "--patient", "Ana Díaz"]
    command += ["--format", "text", "-o", "-" if close == "stdout" else str(tmp_path / "h.txt")]
    script = f'exec {1 if close == "stdout" else 2}>&-; exec "$@"'
    return subprocess.run(
        ["sh", "-c", script, "sh", *command], env=env, capture_output=close != "stdout",
        stderr=subprocess.PIPE if close == "stdout" else None, text=True, timeout=120,
    )  # fmt: skip


def test_make_to_a_closed_standard_output_is_one_line(tmp_path):
    result = _make(tmp_path, "stdout")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "pars-docs: error: output: cannot write standard output (it is closed)"
    )
    assert "Traceback" not in result.stderr


def test_make_with_standard_error_closed_still_makes_the_handout(tmp_path):
    result = _make(tmp_path, "stderr")
    assert result.returncode == 0
    assert "Ana Díaz" in (tmp_path / "h.txt").read_text(encoding="utf-8")
