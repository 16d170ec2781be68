"""`pars-docs batch`: messy exports in, one correct handout per good row out, every row
accounted for in the manifest and the summary line.

Most runs use ``--jobs 1``; a few use ``--jobs 2`` to go through the process pool.
"""

import csv
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from datetime import time as clock
from pathlib import Path

import pytest
from conftest import DATA, pdf_text, squash
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from pars_docs.cli import cli
from pars_docs.ledger import Manifest
from pars_docs.names import output_name
from pars_docs.visit import Visit

SITE = DATA / "site-ny.yaml"
LISTS = DATA / "batch"
SCRIPT = Path(sys.executable).with_name("pars-docs")
HEADER = "procedure,patient,date,time,clinician,mrn"
COLUMNS = [
    "row",
    "status",
    "output",
    "sha256",
    "instruction_set",
    "version",
    "field",
    "reason",
    "warnings",
]
SUMMARY = re.compile(
    r"pars-docs: (\d+) rows?: (\d+) written, (\d+) failed(, [a-z0-9 ,]+)? "
    r"in \d+\.\d s \(\d+ rows/s\)"
)
INTERRUPTED = (
    "pars-docs: interrupted; handouts already written are complete. Run the same command "
    "with --skip-existing to resume."
)
# The three appointments every file in tests/data/batch/appointments.* holds.
REFERENCE_NAMES = [
    "2026-12-03_0715_pars-defect-decompression_B2.pdf",
    "2026-12-03_0800_pars-defect-injection_A1.pdf",
    "2026-12-04_1430_pars-defect-injection_C3.pdf",
]


# Helpers -------------------------------------------------------------------------------------


@pytest.fixture
def batch(runner):
    """Run `pars-docs batch SOURCE --site <New York> --jobs N EXTRA...`; returns the result."""

    def run(source, *extra, jobs=1, input=None):
        args = ["batch", str(source), "--site", str(SITE), "--jobs", str(jobs)]
        return runner.invoke(cli, args + [str(e) for e in extra], input=input)

    return run


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def lines(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def appointment(patient, when="2026-12-03 8:00", mrn="", procedure="pars-defect-injection"):
    day, hour = when.split(" ", 1)
    return f"{procedure},{patient},{day},{hour},Dr. Sam Lee,{mrn}"


def many_rows(count: int) -> str:
    return lines(
        *(
            appointment(
                f"Patient {i}", f"2026-12-{1 + i % 28:02d} {7 + i % 10}:{i % 60:02d}", f"M{i}"
            )
            for i in range(count)
        )
    )


def read_manifest(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        records = list(csv.DictReader(io.StringIO(text)))
        for record in records:
            record.update({k: (v or None) for k, v in record.items()})
            record["row"] = int(record["row"])
        return records
    return [json.loads(line) for line in text.splitlines()]


def by_row(records: list[dict]) -> dict[int, dict]:
    return {r["row"]: r for r in records}


def pdf_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.pdf")) if folder.is_dir() else []


def stderr_lines(result) -> list[str]:
    return result.stderr.splitlines()


def assert_no_crash(result) -> None:
    """The command ended through its own error handling, not an uncaught exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


def assert_summary(result, rows: int, written: int, failed: int, extra: str | None = None):
    """The last line of standard error is the run's summary, with these counts."""
    last = stderr_lines(result)[-1]
    match = SUMMARY.fullmatch(last)
    assert match, f"last line of stderr is not the summary: {last!r}"
    assert (int(match[1]), int(match[2]), int(match[3])) == (rows, written, failed), last
    assert match[4] == (f", {extra}" if extra else None), last


def text_of(path: Path) -> str:
    return squash(pdf_text(path))


def last_footer(path: Path) -> tuple[int, int, int]:
    """(N, M) of the last "Page N of M" on the PDF's last page, and the page count."""
    reader = PdfReader(path)
    found = re.findall(r"Page (\d+) of (\d+)", reader.pages[-1].extract_text())
    assert found, f"{path.name}: no page footer on the last page"
    page, pages = found[-1]
    return int(page), int(pages), len(reader.pages)


def versions(runner) -> dict[str, str]:
    return {
        s["id"]: s["version"] for s in json.loads(runner.invoke(cli, ["list", "--json"]).output)
    }


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


# 1. Messy CSV --------------------------------------------------------------------------------

MESSY = (
    "\ufeff procedure , patient ,date, time ,clinician, mrn ,note \r\n"
    'pars-defect-injection, "Smith, John" ,2026-12-03, 8:00 AM ,Dr. Sam Lee,A1,'
    '"Fast from midnight.\nBring your scans."\r\n'
    "\r\n"
    " , , , , , , \r\n"
    "  pars-defect-decompression , Ana Díaz ,2026-12-04, 14:30 ,Dr. Sam Lee, ,\r\n"
    "pars-defect-injection,Zoë Brown,2026-12-05,07:05,  Dr. Sam Lee  ,C3,\r\n"
    "\r\n"
    ",,,,,,\r\n"
    "\r\n"
)


def test_messy_csv_every_good_row_becomes_a_handout(batch, tmp_path):
    source = write(tmp_path / "export.csv", MESSY)
    out, manifest = tmp_path / "out", tmp_path / "manifest.jsonl"
    result = batch(source, "--out-dir", out, "--manifest", manifest)
    assert result.exit_code == 0, result.output
    # Row numbers are spreadsheet rows: the quoted note's line break does not start a row,
    # blank rows count, the header is row 1.
    assert pdf_names(out) == [
        "2026-12-03_0800_pars-defect-injection_A1.pdf",
        "2026-12-04_1430_pars-defect-decompression_row5.pdf",
        "2026-12-05_0705_pars-defect-injection_C3.pdf",
    ]
    smith = text_of(out / "2026-12-03_0800_pars-defect-injection_A1.pdf")
    assert "Patient Smith, John Record number A1" in smith
    assert "Date Thursday, December 3, 2026 Start time 8:00 AM" in smith
    assert "Your clinician Dr. Sam Lee" in smith
    assert "Fast from midnight. Bring your scans." in smith
    ana = text_of(out / "2026-12-04_1430_pars-defect-decompression_row5.pdf")
    assert "Patient Ana Díaz Procedure" in ana  # no stray spaces, no empty record number
    assert "Date Friday, December 4, 2026 Start time 2:30 PM" in ana
    zoe = text_of(out / "2026-12-05_0705_pars-defect-injection_C3.pdf")
    assert "Patient Zoë Brown" in zoe and "Start time 7:05 AM" in zoe
    records = read_manifest(manifest)
    assert [(r["row"], r["status"]) for r in records] == [(2, "ok"), (5, "ok"), (6, "ok")]
    assert_summary(result, rows=3, written=3, failed=0)


def test_crlf_line_break_inside_a_quoted_note(batch, tmp_path):
    source = write(
        tmp_path / "export.csv",
        "procedure,patient,date,time,clinician,note\r\n"
        'pars-defect-injection,Ana Díaz,2026-12-03,8:00,Dr. Sam Lee,"First line.\r\n'
        'Second line."\r\n',
    )
    result = batch(source, "--out-dir", tmp_path / "out")
    assert result.exit_code == 0, result.output
    [made] = (tmp_path / "out").glob("*.pdf")
    assert "First line. Second line." in text_of(made)


# 2. Formats ----------------------------------------------------------------------------------


def hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.pdf")}


@pytest.fixture
def reference(batch, tmp_path, monkeypatch):
    """The handouts made from appointments.csv, made reproducible so bytes can be compared."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    out = tmp_path / "reference"
    result = batch(LISTS / "appointments.csv", "--out-dir", out)
    assert result.exit_code == 0, result.output
    assert pdf_names(out) == REFERENCE_NAMES
    return hashes(out)


def test_reference_list_content(batch, tmp_path):
    out = tmp_path / "out"
    result = batch(LISTS / "appointments.csv", "--out-dir", out)
    assert result.exit_code == 0, result.output
    ana = text_of(out / REFERENCE_NAMES[1])
    assert "Patient Ana Díaz" in ana and "Start time 8:00 AM" in ana and "Eliquis" in ana
    smith = text_of(out / REFERENCE_NAMES[0])
    assert "Patient Smith, John" in smith and "Bring your scans, please." in smith
    zoe = text_of(out / REFERENCE_NAMES[2])
    assert "Patient Zoë Ødegård" in zoe and "Start time 2:30 PM" in zoe and "Plavix" in zoe


@pytest.mark.parametrize("name", ["appointments.tsv", "appointments.json", "appointments.ndjson"])
def test_formats_by_extension_make_the_same_handouts(batch, tmp_path, reference, name):
    out = tmp_path / "out"
    result = batch(LISTS / name, "--out-dir", out)
    assert result.exit_code == 0, result.output
    assert hashes(out) == reference
    assert_summary(result, rows=3, written=3, failed=0)


@pytest.mark.parametrize("name", ["csv", "tsv", "json", "ndjson"])
def test_formats_by_content_make_the_same_handouts(batch, tmp_path, reference, name):
    source = write(tmp_path / "appointments", (LISTS / f"appointments.{name}").read_bytes())
    out = tmp_path / "out"
    result = batch(source, "--out-dir", out)
    assert result.exit_code == 0, result.output
    assert hashes(out) == reference


@pytest.mark.parametrize("name", ["csv", "tsv", "json", "ndjson"])
def test_standard_input_makes_the_same_handouts(batch, tmp_path, reference, monkeypatch, name):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    out = tmp_path / "out"
    result = batch("-", "--out-dir", out, input=(LISTS / f"appointments.{name}").read_bytes())
    assert result.exit_code == 0, result.output
    assert hashes(out) == reference
    assert list(spool.iterdir()) == [], "the copy of standard input was left behind"


def test_format_option_overrides_the_extension(batch, tmp_path, reference):
    source = write(tmp_path / "appointments.csv", (LISTS / "appointments.tsv").read_bytes())
    wrong = batch(source, "--out-dir", tmp_path / "wrong")
    assert wrong.exit_code == 2
    assert "no column for procedure" in wrong.stderr
    assert not (tmp_path / "wrong").exists()
    out = tmp_path / "out"
    result = batch(source, "--format", "tsv", "--out-dir", out)
    assert result.exit_code == 0, result.output
    assert hashes(out) == reference


@pytest.mark.parametrize(
    "name,rows",
    [
        ("appointments.csv", [2, 3, 4]),
        ("appointments.tsv", [2, 3, 4]),
        ("appointments.json", [1, 2, 3]),
        ("appointments.ndjson", [1, 2, 4]),  # a blank line is line 3
    ],
)
def test_row_numbers_are_what_a_person_sees(batch, tmp_path, name, rows):
    manifest = tmp_path / "manifest.jsonl"
    result = batch(LISTS / name, "--out-dir", tmp_path / "out", "--manifest", manifest)
    assert result.exit_code == 0, result.output
    assert [r["row"] for r in read_manifest(manifest)] == rows


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_keys_missing_from_the_first_object_are_still_read(batch, tmp_path, fmt):
    first = {
        "procedure": "pars-defect-injection",
        "patient": "Ana Díaz",
        "date": "2026-12-03",
        "time": "8:00",
        "clinician": "Dr. Sam Lee",
    }
    second = dict(first, patient="Bo Berg", time="9:00", mrn="M2", note="Bring your scans.")
    objects = [first, second]
    text = json.dumps(objects) if fmt == "json" else "\n".join(map(json.dumps, objects))
    out = tmp_path / "out"
    result = batch(write(tmp_path / f"list.{fmt}", text), "--out-dir", out)
    assert result.exit_code == 0, result.output
    assert "2026-12-03_0900_pars-defect-injection_M2.pdf" in pdf_names(out)
    bo = text_of(out / "2026-12-03_0900_pars-defect-injection_M2.pdf")
    assert "Record number M2" in bo and "Bring your scans." in bo


def test_json_first_object_missing_a_field_fails_only_that_row(batch, tmp_path):
    good = {
        "procedure": "pars-defect-injection",
        "patient": "Bo Berg",
        "date": "2026-12-03",
        "time": "9:00",
        "clinician": "Dr. Sam Lee",
    }
    bad = {k: v for k, v in good.items() if k != "clinician"}
    out = tmp_path / "out"
    result = batch(write(tmp_path / "list.json", json.dumps([bad, good])), "--out-dir", out)
    assert result.exit_code == 1, result.output
    assert pdf_names(out) == ["2026-12-03_0900_pars-defect-injection_row2.pdf"]
    assert "pars-docs: row 1: clinician: is required" in stderr_lines(result)


# 3. Column mapping ---------------------------------------------------------------------------


def test_header_aliases_and_date_format(batch, tmp_path):
    out, manifest = tmp_path / "out", tmp_path / "manifest.jsonl"
    result = batch(
        LISTS / "export-aliases.csv",
        "--date-format",
        "%m/%d/%Y",
        "--out-dir",
        out,
        "--manifest",
        manifest,
    )
    assert result.exit_code == 1, result.output
    assert pdf_names(out) == [
        "2026-12-03_0800_pars-defect-injection_A1.pdf",
        "2026-12-04_0715_pars-defect-decompression_C3.pdf",
    ]
    ana = text_of(out / "2026-12-03_0800_pars-defect-injection_A1.pdf")
    # The date of birth is read with the same --date-format: 04/02/1961 is April 2.
    assert "Patient Ana Díaz Date of birth April 2, 1961" in ana
    assert "Date Thursday, December 3, 2026 Start time 8:00 AM" in ana
    assert "Your clinician Dr. Sam Lee" in ana
    smith = text_of(out / "2026-12-04_0715_pars-defect-decompression_C3.pdf")
    assert "Date Friday, December 4, 2026 Start time 7:15 AM" in smith
    # Only the row written another way fails.
    assert stderr_lines(result)[:-1] == [
        "pars-docs: row 3: date: '2026-12-04' does not match --date-format %m/%d/%Y"
    ]
    failed = by_row(read_manifest(manifest))[3]
    assert (failed["status"], failed["field"]) == ("failed", "date")
    assert_summary(result, rows=3, written=2, failed=1)


def test_iso_dates_without_date_format_are_refused_per_row(batch, tmp_path):
    result = batch(LISTS / "export-aliases.csv", "--out-dir", tmp_path / "out")
    assert result.exit_code == 1
    assert pdf_names(tmp_path / "out") == ["2026-12-04_0900_pars-defect-injection_B2.pdf"]
    # Every problem of the row at once; the date of birth's value is left out of the log.
    assert (
        "pars-docs: row 2: date: '12/03/2026' is not a date; write it as YYYY-MM-DD; "
        "dob: '…' is not a date; write it as YYYY-MM-DD"
    ) in stderr_lines(result)


CUSTOM_COLUMNS = [
    "--column",
    "procedure=Svc",
    "--column",
    "patient=Legal Name",
    "--column",
    "date=Appt Day",
    "--column",
    "time=Slot",
    "--column",
    "clinician=Doc",
    "--column",
    "mrn=Chart No",
]


@pytest.mark.parametrize(
    "options", [["--map", LISTS / "map.yaml"], CUSTOM_COLUMNS], ids=["map", "column"]
)
def test_map_file_and_column_options(batch, tmp_path, options):
    out = tmp_path / "out"
    result = batch(LISTS / "export-custom.csv", *options, "--out-dir", out)
    assert result.exit_code == 0, result.output
    assert pdf_names(out) == [
        "2026-12-03_0800_pars-defect-injection_A1.pdf",
        "2026-12-04_0715_pars-defect-decompression_B2.pdf",
    ]
    assert "Patient Ana Díaz Record number A1" in text_of(out / pdf_names(out)[0])
    assert "Patient Smith, John Record number B2" in text_of(out / pdf_names(out)[1])


def test_column_option_overrides_the_map_file(batch, tmp_path):
    out = tmp_path / "out"
    options = ["--map", LISTS / "map.yaml", "--column", "patient=Pt"]
    result = batch(LISTS / "export-custom.csv", *options, "--out-dir", out)
    assert result.exit_code == 0, result.output
    assert "Patient Ana Record number A1" in text_of(out / pdf_names(out)[0])


@pytest.mark.parametrize("how", ["column", "map"])
def test_mapped_column_missing_is_one_error_before_any_work(batch, tmp_path, how):
    if how == "column":
        options = ["--column", "patient=Patient Full Name"]
    else:
        options = ["--map", write(tmp_path / "map.yaml", "patient: Patient Full Name\n")]
    out, manifest = tmp_path / "out", tmp_path / "manifest.jsonl"
    before = files_under(tmp_path)
    options += ["--out-dir", out, "--manifest", manifest, "--verbose"]
    result = batch(LISTS / "appointments.csv", *options)
    assert result.exit_code == 2
    assert result.stderr == (
        "pars-docs: error: --map: column 'Patient Full Name' for patient is not in "
        f"{LISTS / 'appointments.csv'} (columns: procedure, patient, date, time, clinician, "
        "mrn, dob, medications, note)\n"
    )
    assert files_under(tmp_path) == before


def test_mapped_column_missing_names_the_header_without_verbose(batch, tmp_path):
    result = batch(
        LISTS / "appointments.csv", "--column", "mrn=Chart No", "--out-dir", tmp_path / "out"
    )
    assert result.exit_code == 2
    assert "column 'Chart No' for mrn is not in" in result.stderr


def test_missing_required_column_names_the_fix(batch, tmp_path):
    source = write(tmp_path / "list.csv", "procedure,patient,date,time\n")
    result = batch(source, "--out-dir", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr == (
        f"pars-docs: error: {source}: no column for clinician; map one with --column "
        "clinician=HEADER (--verbose lists the columns it has)\n"
    )
    assert not (tmp_path / "out").exists()


def test_alias_choice_does_not_change_between_runs():
    code = (
        "from pars_docs.rows import resolve_columns; "
        "print(sorted(resolve_columns(['Procedure', 'Patient', 'Name', 'Date', 'Time', "
        "'Provider', 'Surgeon'], {}, 'x').items()))"
    )
    seen = set()
    for seed in ("0", "1", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env)
        assert done.returncode == 0, done.stderr.decode()
        seen.add(done.stdout.decode())
    assert len(seen) == 1, seen


# 4. Encoding ---------------------------------------------------------------------------------

CP1252 = lines(
    appointment("Ana Diaz", "2026-12-03 8:00", "A1"),
    appointment("José Núñez", "2026-12-03 9:00", "B2"),
    appointment("Renée Côté", "2026-12-03 10:00", "C3"),
).encode("cp1252")


def test_cp1252_without_encoding_is_one_clear_error(batch, tmp_path):
    source = write(tmp_path / "export.csv", CP1252)
    out, manifest = tmp_path / "out", tmp_path / "manifest.jsonl"
    before = files_under(tmp_path)
    result = batch(source, "--out-dir", out, "--manifest", manifest)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    line = result.stderr.strip()
    assert line.startswith(f"pars-docs: error: {source}: line 3: byte 0xe9 at offset "), line
    assert "--encoding cp1252" in line
    assert files_under(tmp_path) == before


def test_cp1252_error_names_the_line_far_into_a_big_file(batch, tmp_path):
    # Past the 64 KiB the encoding check reads at a time.
    rows = [appointment(f"Patient {i}", "2026-12-03 8:00", f"M{i}") for i in range(2000)]
    rows.append(appointment("Renée Côté", "2026-12-03 10:00", "C3"))
    source = write(tmp_path / "export.csv", lines(*rows).encode("cp1252"))
    assert source.stat().st_size > 70_000
    result = batch(source, "--out-dir", tmp_path / "out")
    assert result.exit_code == 1
    assert f"{source}: line 2002: byte 0xe9" in result.stderr
    assert not (tmp_path / "out").exists()


def test_cp1252_with_encoding_option(batch, tmp_path):
    source = write(tmp_path / "export.csv", CP1252)
    out = tmp_path / "out"
    result = batch(source, "--encoding", "cp1252", "--out-dir", out)
    assert result.exit_code == 0, result.output
    names = pdf_names(out)
    assert len(names) == 3
    assert "Patient José Núñez" in text_of(out / names[1])
    assert "Patient Renée Côté" in text_of(out / names[2])


def test_unknown_encoding_is_a_usage_error(batch, tmp_path):
    result = batch(LISTS / "appointments.csv", "--encoding", "klingon", "--out-dir", tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "pars-docs: error: --encoding: unknown encoding 'klingon'\n"


def test_bad_encoding_on_standard_input_leaves_no_copy(batch, tmp_path, monkeypatch):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    result = batch("-", "--out-dir", tmp_path / "out", input=CP1252)
    assert result.exit_code == 1
    assert "standard input: line 3: byte 0xe9" in result.stderr
    assert list(spool.iterdir()) == []


# 5. Bad rows among good ones -----------------------------------------------------------------

MEDICINES = "procedure,patient,date,time,clinician,mrn,medications"
# A medicine name is not a patient identifier: it is shown without --verbose.
SUGGESTION = (
    "medication: unknown medicine 'Eliqis'. Closest known names: Eliquis. A clinic can add it "
    "to medicines.yaml, or set unknown_medicines: ask in the site profile."
)
# (row, CSV line, field, reason, reason without patient values) for each bad row. A reason
# ending in ";" is the start of a longer one.
BAD_ROWS = [
    (3, "pars-defect-injection,Bad Date,2026-02-30,8:00,Dr. Lee,B3,", "date",
     "date: '2026-02-30' is not a real date (February 2026 has 28 days)", None),
    (4, "pars-defect-injection,Bad Time,2026-12-03,25:00,Dr. Lee,B4,", "time",
     "time: '25:00' is not a time of day; write 14:30 or 2:30 PM", None),
    (5, "pars-defect-injection,,2026-12-03,9:00,Dr. Lee,B5,", "patient",
     "patient: is required", None),
    (7, "pars-defect-injektion,Bad Procedure,2026-12-03,9:00,Dr. Lee,B7,", "procedure",
     "procedure: unknown procedure 'pars-defect-injektion'; known: pars-defect-decompression, "
     "pars-defect-injection", None),
    (8, "pars-defect-injection,Bad Medicine,2026-12-03,9:30,Dr. Lee,B8,Eliqis", "medication",
     SUGGESTION, SUGGESTION),
    (9, "pars-defect-injection,李小龍,2026-12-03,10:00,Dr. Lee,B9,", "patient",
     "patient: the handout fonts cannot draw '李' (U+674E CJK UNIFIED IDEOGRAPH-674E), "
     "'小' (U+5C0F CJK UNIFIED IDEOGRAPH-5C0F), '龍' (U+9F8D CJK UNIFIED IDEOGRAPH-9F8D); "
     "they cover Latin, Greek and Cyrillic scripts",
     "patient: the handout fonts cannot draw '…', '…', '…'; they cover Latin, Greek and "
     "Cyrillic scripts"),
    (10, "pars-defect-injection,Spring Forward,2026-03-08,2:30,Dr. Lee,B10,", "time",
     "time: 02:30 on 2026-03-08 does not exist in America/New_York: the clocks skip that "
     "hour; choose another time", None),
]  # fmt: skip
GOOD_ROWS = {
    2: "pars-defect-injection,Good First,2026-12-03,8:00,Dr. Lee,G2,Eliquis",
    6: "pars-defect-decompression,Good Middle,2026-12-03,11:00,Dr. Lee,G6,",
    11: "pars-defect-injection,Good Last,2026-03-08,3:30,Dr. Lee,G11,Advil",
}


def mixed_list() -> str:
    rows = dict(GOOD_ROWS) | {row: text for row, text, *_ in BAD_ROWS}
    return lines(*(rows[n] for n in sorted(rows)), header=MEDICINES)


def reason_matches(reason: str, expected: str) -> bool:
    return reason.startswith(expected) if expected.endswith(";") else reason == expected


@pytest.mark.parametrize(
    "jobs,verbose", [(1, False), (2, False), (2, True)], ids=["jobs1", "jobs2", "jobs2-verbose"]
)
def test_bad_rows_are_reported_recorded_and_skipped(batch, tmp_path, jobs, verbose):
    source = write(tmp_path / "list.csv", mixed_list())
    out, manifest = tmp_path / "out", tmp_path / "manifest.jsonl"
    extra = ["--verbose"] if verbose else []
    result = batch(source, "--out-dir", out, "--manifest", manifest, *extra, jobs=jobs)
    assert result.exit_code == 1, result.output
    assert pdf_names(out) == [
        "2026-03-08_0330_pars-defect-injection_G11.pdf",
        "2026-12-03_0800_pars-defect-injection_G2.pdf",
        "2026-12-03_1100_pars-defect-decompression_G6.pdf",
    ]
    assert "Start time 3:30 AM" in text_of(out / "2026-03-08_0330_pars-defect-injection_G11.pdf")
    reported = stderr_lines(result)[:-1]
    assert len(reported) == len(BAD_ROWS), reported
    records = by_row(read_manifest(manifest))
    assert sorted(records) == list(range(2, 12))
    for (row, _, field, full, redacted), line in zip(BAD_ROWS, reported, strict=True):
        reason = full if verbose or redacted is None else redacted
        assert reason_matches(line.removeprefix(f"pars-docs: row {row}: "), reason), line
        record = records[row]
        assert (record["status"], record["field"], record["output"]) == ("failed", field, None)
        assert reason_matches(record["reason"], reason), record
    for row in GOOD_ROWS:
        assert records[row]["status"] == "ok"
        assert Path(records[row]["output"]).name.endswith(f"_G{row}.pdf")
    assert_summary(result, rows=10, written=3, failed=7)


def test_patient_values_stay_out_of_logs_unless_verbose(batch, tmp_path):
    values = ["李", "1990-02-30", "2027-01-01"]
    source = write(
        tmp_path / "list.csv",
        lines(
            "pars-defect-injection,李小龍,2026-12-03,8:00,Dr. Lee,,",
            "pars-defect-injection,Ana,2026-12-03,9:00,Dr. Lee,Eliqis,",
            "pars-defect-injection,Bo,2026-12-03,10:00,Dr. Lee,,1990-02-30",
            "pars-defect-injection,Cy,2026-12-03,11:00,Dr. Lee,,2027-01-01",
            header="procedure,patient,date,time,clinician,medications,dob",
        ),
    )
    for verbose in (False, True):
        manifest = tmp_path / f"manifest-{verbose}.jsonl"
        extra = ["--verbose"] if verbose else []
        result = batch(source, "--out-dir", tmp_path / "out", "--manifest", manifest, *extra)
        assert result.exit_code == 1
        logged = result.stderr + manifest.read_text(encoding="utf-8")
        assert [value in logged for value in values] == [verbose] * len(values), logged
        assert "'Eliqis'" in logged  # a medicine name is not a patient identifier
        assert_summary(result, rows=4, written=0, failed=4)


def test_impossible_birth_date_is_not_logged_without_verbose(batch, tmp_path):
    source = write(
        tmp_path / "list.csv",
        lines(appointment("Ana", "2026-12-03 8:00") + ",1990-02-30", header=HEADER + ",dob"),
    )
    result = batch(source, "--out-dir", tmp_path / "out")
    assert result.exit_code == 1
    assert stderr_lines(result)[0].startswith("pars-docs: row 2: dob: ")
    assert "1990" not in result.stderr and "February" not in result.stderr


def test_headerless_export_is_refused_without_logging_patient_data(batch, tmp_path):
    source = write(
        tmp_path / "export.csv",
        "pars-defect-injection,Ana Díaz,2026-12-03,8:00,Dr. Lee,MRN123,1961-04-02\n",
    )
    result = batch(source, "--out-dir", tmp_path / "out")
    assert result.exit_code == 2
    assert "no column for procedure" in result.stderr
    for value in ("Ana Díaz", "MRN123", "1961-04-02"):
        assert value not in result.stderr


@pytest.mark.parametrize(
    "name,content,row,message",
    [
        (
            "list.csv",
            lines(appointment("Ana", mrn="A1"), appointment("Bo", mrn="B2") + ",extra"),
            3,
            "has 7 values but the header has 6 columns",
        ),
        (
            "list.ndjson",
            '{"procedure": "pars-defect-injection", "patient": "Ana", "date": "2026-12-03", '
            '"time": "8:00", "clinician": "Dr. Lee"}\n{"patient": \n',
            2,
            "not valid JSON (Expecting value)",
        ),
    ],
    ids=["extra-values", "bad-ndjson"],
)
def test_whole_row_errors_name_the_row_once(batch, tmp_path, name, content, row, message):
    manifest = tmp_path / "manifest.jsonl"
    source = write(tmp_path / name, content)
    result = batch(source, "--out-dir", tmp_path / "out", "--manifest", manifest)
    assert result.exit_code == 1
    assert stderr_lines(result)[0] == f"pars-docs: row {row}: {message}"
    [failed] = [r for r in read_manifest(manifest) if r["status"] == "failed"]
    assert failed["reason"] == message


def test_fail_fast_stops_at_the_first_bad_row(batch, tmp_path):
    source = write(
        tmp_path / "list.csv",
        lines(
            appointment("Good First", "2026-12-03 8:00", "G2"),
            appointment("Bad Date", "2026-02-30 8:00", "B3"),
            *(appointment(f"Later {i}", f"2026-12-04 {8 + i}:00", f"L{i}") for i in range(4)),
        ),
    )
    out, manifest = tmp_path / "out", tmp_path / "manifest.jsonl"
    result = batch(source, "--fail-fast", "--out-dir", out, "--manifest", manifest)
    assert result.exit_code == 1
    assert pdf_names(out) == ["2026-12-03_0800_pars-defect-injection_G2.pdf"]
    assert [(r["row"], r["status"]) for r in read_manifest(manifest)] == [(2, "ok"), (3, "failed")]
    assert stderr_lines(result)[0].startswith("pars-docs: row 3: date: '2026-02-30'")
    assert_summary(result, rows=2, written=1, failed=1)


def test_fail_fast_on_a_row_that_fails_while_rendering(batch, tmp_path):
    source = write(
        tmp_path / "list.csv",
        lines(
            appointment("Spring Forward", "2026-03-08 2:30", "B2"),
            *(appointment(f"Later {i}", f"2026-12-04 {8 + i}:00", f"L{i}") for i in range(4)),
        ),
    )
    out = tmp_path / "out"
    result = batch(source, "--fail-fast", "--out-dir", out)
    assert result.exit_code == 1
    assert pdf_names(out) == []
    assert_summary(result, rows=1, written=0, failed=1)


def test_fail_fast_in_parallel_accounts_for_every_file_it_writes(batch, tmp_path):
    source = write(
        tmp_path / "list.csv",
        lines(
            appointment("Spring Forward", "2026-03-08 2:30", "B2"),
            *(
                appointment(f"Later {i}", f"2026-12-04 {8 + i % 10}:{i:02d}", f"L{i}")
                for i in range(12)
            ),
        ),
    )
    out, manifest = tmp_path / "out", tmp_path / "manifest.jsonl"
    result = batch(source, "--fail-fast", "--out-dir", out, "--manifest", manifest, jobs=2)
    assert result.exit_code == 1
    listed = {Path(r["output"]).name for r in read_manifest(manifest) if r["status"] == "ok"}
    assert set(pdf_names(out)) == listed


# 6. Output names -----------------------------------------------------------------------------


def test_default_names_say_what_and_when_never_who(batch, tmp_path):
    source = write(
        tmp_path / "list.csv",
        lines(
            appointment("Ana Díaz", "2026-12-03 8:05 AM", "MRN-77"),
            appointment('"Smith, John"', "2026-12-03 2:30 PM", "", "pars-defect-decompression"),
        ),
    )
    out = tmp_path / "out"
    result = batch(source, "--out-dir", out)
    assert result.exit_code == 0, result.output
    names = pdf_names(out)
    assert names == [
        "2026-12-03_0805_pars-defect-injection_MRN-77.pdf",
        "2026-12-03_1430_pars-defect-decompression_row3.pdf",
    ]
    for name in names:
        for word in ("Ana", "Díaz", "Diaz", "Smith", "John"):
            assert word.casefold() not in name.casefold()


HOSTILE = ["../../etc/passwd", "a/b\\c", "..", ".hidden", "~/x", "C:evil", "*?<>|"]


@pytest.mark.parametrize("pattern", ["{patient}_{mrn}", "../{patient}/{mrn}", "{mrn}", "{patient}"])
def test_name_pattern_stays_inside_the_out_dir(batch, tmp_path, pattern):
    rows = [appointment(value, f"2026-12-03 {8 + i}:00", value) for i, value in enumerate(HOSTILE)]
    source = write(tmp_path / "list.csv", lines(*rows))
    out, manifest = tmp_path / "a" / "b" / "out", tmp_path / "manifest.jsonl"
    result = batch(source, "--name", pattern, "--out-dir", out, "--manifest", manifest)
    assert result.exit_code == 0, result.output
    made = files_under(tmp_path) - {source, manifest}
    assert len(made) == len(HOSTILE)
    for path in made:
        assert path.resolve().parent == out.resolve(), path
        assert path.name.endswith(".pdf") and not path.name.startswith("."), path.name
    outputs = [Path(r["output"]).resolve() for r in read_manifest(manifest)]
    assert sorted(outputs) == sorted(p.resolve() for p in made)


def test_name_pattern_keeps_pdf_suffix_and_separates_clashes(batch, tmp_path):
    source = write(
        tmp_path / "list.csv",
        lines(appointment("Ana", "2026-12-03 8:00"), appointment("Bo", "2026-12-03 9:00")),
    )
    out = tmp_path / "out"
    result = batch(source, "--name", "{date}", "--out-dir", out)
    assert result.exit_code == 0, result.output
    assert pdf_names(out) == ["2026-12-03-row3.pdf", "2026-12-03.pdf"]
    result = batch(source, "--name", "{row}-{patient}.PDF", "--out-dir", tmp_path / "upper")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "upper").iterdir()) == ["2-Ana.PDF", "3-Bo.PDF"]


@pytest.mark.parametrize("pattern", ["{surname}", "{}", "{date", "{0}"])
def test_unknown_placeholder_in_name_is_a_usage_error(batch, tmp_path, pattern):
    out = tmp_path / "out"
    result = batch(LISTS / "appointments.csv", "--name", pattern, "--out-dir", out)
    assert result.exit_code == 2
    assert result.stderr.startswith("pars-docs: error: --name: ")
    assert "use {date}, {time}, {procedure}, {mrn}, {row}, {id}, {patient}" in result.stderr
    assert result.stderr.count("\n") == 1
    assert pdf_names(out) == []


@pytest.mark.parametrize("pattern", ["{patient.surname}", "{mrn[0]}"])
def test_name_pattern_with_lookups_is_a_usage_error(batch, tmp_path, pattern):
    source = write(tmp_path / "list.csv", lines(appointment("Ana", mrn="A1"), appointment("Bo")))
    result = batch(source, "--name", pattern, "--out-dir", tmp_path / "out")
    assert_no_crash(result)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"pars-docs: error: --name: '{pattern}'")
    assert pdf_names(tmp_path / "out") == []


def test_long_non_latin_name_is_shortened_to_a_safe_file_name(batch, tmp_path):
    long_name = "Жанна " + "Александровна" * 9  # 123 characters, 245 bytes in UTF-8
    source = write(
        tmp_path / "list.csv",
        lines(appointment(long_name, "2026-12-03 8:00"), appointment("Bo", "2026-12-03 9:00")),
    )
    out = tmp_path / "out"
    result = batch(source, "--name", "{patient}", "--out-dir", out)
    assert_no_crash(result)
    assert result.exit_code == 0
    names = pdf_names(out)
    assert "Bo.pdf" in names and len(names) == 2
    assert all(len(name.encode("utf-8")) <= 255 for name in names)


@settings(max_examples=300, deadline=None)
@given(
    patient=st.text(min_size=1, max_size=60),
    mrn=st.one_of(st.none(), st.text(max_size=20)),
    pattern=st.sampled_from(
        ["{patient}", "{patient}_{mrn}", "../{mrn}/{patient}", "{id}", ".{patient}"]
    ),
)
def test_output_names_never_leave_the_folder(patient, mrn, pattern):
    visit = Visit("pars-defect-injection", patient, date(2026, 12, 3), clock(8, 0), "Dr", mrn=mrn)
    name = output_name(pattern, visit, 7)
    folder = Path("/srv/handouts")
    assert (folder / name).parent == folder
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert name not in (".pdf", "..pdf") and not name.startswith(".")
    assert name.endswith(".pdf")
    assert ".." not in name


# 7. Duplicates -------------------------------------------------------------------------------


def test_duplicate_rows_are_flagged_and_made_once(batch, tmp_path):
    source = write(
        tmp_path / "list.csv",
        lines(
            appointment("Ana Díaz", "2026-12-03 8:00", "A1"),
            appointment("ANA DÍAZ", "2026-12-03 8:00 AM", "A1"),
            appointment("Ana Díaz", "2026-12-03 9:00", "A1"),
        ),
    )
    out, manifest = tmp_path / "out", tmp_path / "manifest.jsonl"
    result = batch(source, "--out-dir", out, "--manifest", manifest)
    assert result.exit_code == 0, result.output
    assert pdf_names(out) == [
        "2026-12-03_0800_pars-defect-injection_A1.pdf",
        "2026-12-03_0900_pars-defect-injection_A1.pdf",
    ]
    assert stderr_lines(result)[:-1] == [
        "pars-docs: row 3: warning: same patient, procedure and time as row 2; not made again"
    ]
    records = by_row(read_manifest(manifest))
    assert records[3]["status"] == "duplicate"
    assert records[3]["output"] == records[2]["output"]
    assert [records[r]["status"] for r in (2, 4)] == ["ok", "ok"]
    assert_summary(result, rows=3, written=2, failed=0, extra="1 duplicate")


def test_duplicate_of_a_failed_row_is_still_made(batch, tmp_path):
    source = write(
        tmp_path / "list.csv",
        lines(
            "pars-defect-injection,Ana Díaz,2026-12-03,8:00,Dr. Lee,A1,Eliqis",
            "pars-defect-injection,Ana Díaz,2026-12-03,8:00,Dr. Lee,A1,Eliquis",
            header=MEDICINES,
        ),
    )
    out = tmp_path / "out"
    result = batch(source, "--out-dir", out)
    assert pdf_names(out) == ["2026-12-03_0800_pars-defect-injection_A1.pdf"]
    assert "Eliquis" in text_of(out / pdf_names(out)[0])
    assert_summary(result, rows=2, written=1, failed=1)


# 8. Manifest ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["manifest.jsonl", "manifest.txt", "manifest.csv", "MANIFEST.CSV"])
def test_manifest_has_one_record_per_row(batch, runner, tmp_path, name):
    source = write(tmp_path / "list.csv", mixed_list())
    out, manifest = tmp_path / "out", tmp_path / name
    result = batch(source, "--out-dir", out, "--manifest", manifest)
    assert result.exit_code == 1
    text = manifest.read_text(encoding="utf-8")
    if name.lower().endswith(".csv"):
        assert text.splitlines()[0] == ",".join(COLUMNS)
        records = list(csv.DictReader(io.StringIO(text)))
        records = [{k: (v or None) for k, v in r.items()} | {"row": int(r["row"])} for r in records]
    else:
        records = [json.loads(line) for line in text.splitlines()]
    assert [r["row"] for r in records] == list(range(2, 12))
    known = versions(runner)
    for record in records:
        assert list(record) == COLUMNS
        if record["status"] == "ok":
            data = Path(record["output"]).read_bytes()
            assert record["sha256"] == hashlib.sha256(data).hexdigest()
            assert record["version"] == known[record["instruction_set"]]
            assert record["field"] is None and record["reason"] is None
        else:
            assert record["status"] == "failed"
            assert record["field"] and record["reason"]
            assert record["output"] is None and record["sha256"] is None
    assert sum(r["status"] == "ok" for r in records) == len(pdf_names(out)) == 3


def test_manifest_to_standard_output(batch, tmp_path):
    result = batch(LISTS / "appointments.csv", "--out-dir", tmp_path / "out", "--manifest", "-")
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["row"], r["status"]) for r in records] == [(2, "ok"), (3, "ok"), (4, "ok")]
    assert "pars-docs:" not in result.stdout


def test_manifest_folder_missing_is_a_usage_error(batch, tmp_path):
    out = tmp_path / "out"
    result = batch(
        LISTS / "appointments.csv", "--out-dir", out, "--manifest", tmp_path / "no" / "m.jsonl"
    )
    assert_no_crash(result)
    assert result.exit_code == 2
    assert result.stderr.startswith("pars-docs: error: --manifest: ")
    assert not out.exists()


# 9. The merged packet ------------------------------------------------------------------------

PACKET_ROWS = [  # input order is not appointment order
    ("Carla Late", "2026-12-03 11:00", "pars-defect-decompression"),
    ("Ana Early", "2026-12-03 7:00", "pars-defect-injection"),
    ("Dora Next Day", "2026-12-04 7:30", "pars-defect-injection"),
    ("Bo Middle", "2026-12-03 9:30", "pars-defect-decompression"),
]
IN_TIME_ORDER = ["Ana Early", "Bo Middle", "Carla Late", "Dora Next Day"]


def font_files(reader: PdfReader) -> set[int]:
    """Object numbers of the embedded TrueType font programs every page uses."""
    found = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None:  # a composite font: the descriptor is on its descendant
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            found.add(descriptor.get_object().raw_get("/FontFile2").idnum)
    return found


def test_merged_packet_in_time_order_duplex_with_index(batch, tmp_path):
    rows = [appointment(p, when, f"M{i}", proc) for i, (p, when, proc) in enumerate(PACKET_ROWS)]
    source = write(tmp_path / "list.csv", lines(*rows))
    out, packet, manifest = tmp_path / "out", tmp_path / "packet.pdf", tmp_path / "m.jsonl"
    options = ["--merge", packet, "--duplex", "--index", "--manifest", manifest]
    result = batch(source, "--out-dir", out, *options, jobs=2)
    assert result.exit_code == 0, result.output
    reader = PdfReader(packet)
    texts = [page.extract_text() for page in reader.pages]
    # The index page lists every patient, in appointment order.
    index = squash(texts[0])
    assert "Handouts in this packet" in index
    positions = [index.index(name) for name in IN_TIME_ORDER]
    assert positions == sorted(positions)
    # Every handout starts on a right-hand (odd) page, in appointment order.
    starts = [number for number, text in enumerate(texts, 1) if "Page 1 of" in text]
    assert len(starts) == len(PACKET_ROWS)
    assert all(number % 2 == 1 for number in starts), starts
    on_first_pages = [[p for p in IN_TIME_ORDER if p in texts[n - 1]] for n in starts]
    assert on_first_pages == [[p] for p in IN_TIME_ORDER]
    # Each handout keeps its own page numbers.
    for start, following in zip(starts, starts[1:] + [len(texts) + 1], strict=True):
        pages = [
            int(m)
            for t in texts[start - 1 : following - 1]
            for m in re.findall(r"Page (\d+) of", t)
        ]
        assert pages == list(range(1, len(pages) + 1))
    # Fonts are embedded once for the whole packet: regular and bold.
    assert len(font_files(reader)) == 2
    singles = [p.stat().st_size for p in out.glob("*.pdf")]
    assert len(singles) == 4
    assert packet.stat().st_size / len(singles) < min(singles)
    # With --out-dir the manifest points at the single handouts.
    assert {Path(r["output"]).parent for r in read_manifest(manifest)} == {out}
    assert_summary(result, rows=4, written=4, failed=0)


def test_merge_only_manifest_points_at_the_packet(batch, tmp_path):
    packet, manifest = tmp_path / "packet.pdf", tmp_path / "m.jsonl"
    result = batch(LISTS / "appointments.csv", "--merge", packet, "--manifest", manifest)
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".pdf"] == ["packet.pdf"]
    digest = hashlib.sha256(packet.read_bytes()).hexdigest()
    records = read_manifest(manifest)
    assert [(r["status"], r["output"], r["sha256"]) for r in records] == [
        ("ok", str(packet), digest)
    ] * 3
    text = pdf_text(packet)
    assert text.index("Smith, John") < text.index("Ana Díaz") < text.index("Zoë Ødegård")


# 10. Interrupted runs and resuming -----------------------------------------------------------


def test_resume_after_a_simulated_interruption(batch, tmp_path):
    source = LISTS / "appointments.csv"
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    assert batch(source, "--out-dir", out).exit_code == 0
    kept = [out / REFERENCE_NAMES[0], out / REFERENCE_NAMES[2]]
    lost = out / REFERENCE_NAMES[1]
    lost.unlink()
    for path in kept:
        os.utime(path, (1_000_000_000, 1_000_000_000))  # a rewrite would change this
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in kept}
    stale = write(out / f".{REFERENCE_NAMES[1]}.abc123.part", b"%PDF-1.4 half a handout")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))  # left by a run killed an hour ago
    # A part file written a moment ago may belong to another batch writing here: kept.
    fresh = write(out / f".{REFERENCE_NAMES[2]}.def456.part", b"%PDF-1.4 in progress")
    result = batch(source, "--out-dir", out, "--skip-existing", "--manifest", manifest)
    assert result.exit_code == 0, result.output
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in kept} == before
    assert lost.exists() and "Patient Ana Díaz" in text_of(lost)
    assert not stale.exists()
    assert fresh.exists()
    fresh.unlink()
    assert sorted(p.name for p in out.iterdir()) == REFERENCE_NAMES
    records = by_row(read_manifest(manifest))
    assert [records[r]["status"] for r in (2, 3, 4)] == ["ok", "skipped", "skipped"]
    for row in (3, 4):
        data = Path(records[row]["output"]).read_bytes()
        assert records[row]["sha256"] == hashlib.sha256(data).hexdigest()
    assert_summary(result, rows=3, written=1, failed=0, extra="2 skipped")


def test_resume_with_merge_keeps_every_handout_in_the_packet(batch, tmp_path):
    source = LISTS / "appointments.csv"
    out, packet = tmp_path / "out", tmp_path / "packet.pdf"
    assert batch(source, "--out-dir", out).exit_code == 0
    (out / REFERENCE_NAMES[1]).unlink()
    result = batch(source, "--out-dir", out, "--merge", packet, "--skip-existing")
    assert result.exit_code == 0, result.output
    text = pdf_text(packet)
    for patient in ("Smith, John", "Ana Díaz", "Zoë Ødegård"):
        assert patient in text


@contextmanager
def running_batch(source: Path, out: Path):
    """`pars-docs batch` as a separate process with two workers, killed if a test fails."""
    env = {k: v for k, v in os.environ.items() if k != "PARS_DOCS_SITE"}
    args = [str(SCRIPT), "batch", str(source), "--site", str(SITE), "--out-dir", str(out)]
    process = subprocess.Popen(
        [*args, "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # a process group of its own, workers included
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def wait_for_handouts(process: subprocess.Popen, out: Path, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(pdf_names(out)) < count:
        assert process.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "no handouts after 30 s"
        time.sleep(0.02)


@pytest.mark.skipif(not SCRIPT.exists(), reason="pars-docs is not installed in this Python")
@pytest.mark.parametrize(
    "signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_real_interruption_leaves_whole_handouts_and_resumes(batch, tmp_path, signum, code):
    rows = 300
    source = write(tmp_path / "list.csv", many_rows(rows))
    out = tmp_path / "out"
    with running_batch(source, out) as process:
        wait_for_handouts(process, out, 3)
        process.send_signal(signum)
        stderr = process.communicate(timeout=60)[1].decode()
    assert process.returncode == code, stderr
    assert stderr.splitlines()[-2] == INTERRUPTED
    assert SUMMARY.fullmatch(stderr.splitlines()[-1])
    assert "Traceback" not in stderr
    made = pdf_names(out)
    assert 0 < len(made) < rows
    assert sorted(p.name for p in out.iterdir()) == made  # no .part file left behind
    for name in made:
        page, pages, count = last_footer(out / name)
        assert page == pages == count, name
    before = {name: (out / name).read_bytes() for name in made}
    manifest = tmp_path / "m.jsonl"
    result = batch(source, "--out-dir", out, "--skip-existing", "--manifest", manifest, jobs=2)
    assert result.exit_code == 0, result.output
    assert len(pdf_names(out)) == rows
    assert {name: (out / name).read_bytes() for name in made} == before
    statuses = [r["status"] for r in read_manifest(manifest)]
    assert statuses.count("skipped") == len(made)
    assert statuses.count("ok") == rows - len(made)
    assert_summary(result, rows, rows - len(made), 0, extra=f"{len(made)} skipped")


@pytest.mark.skipif(not SCRIPT.exists(), reason="pars-docs is not installed in this Python")
def test_sigterm_to_the_whole_process_group_stops_cleanly(tmp_path):
    source = write(tmp_path / "list.csv", many_rows(300))
    out = tmp_path / "out"
    with running_batch(source, out) as process:
        wait_for_handouts(process, out, 3)
        # Pause the parent so the workers drain their queue and wait for work, as they do
        # whenever the parent is busy, then stop the whole group.
        os.kill(process.pid, signal.SIGSTOP)
        time.sleep(0.5)
        os.killpg(process.pid, signal.SIGTERM)
        os.killpg(process.pid, signal.SIGCONT)
        stderr = process.communicate(timeout=15)[1].decode()
    assert process.returncode == 143
    assert stderr.splitlines()[0] == INTERRUPTED
    assert SUMMARY.fullmatch(stderr.splitlines()[1]) and len(stderr.splitlines()) == 2


def interrupt_after(monkeypatch, row: int) -> None:
    """Deliver Ctrl-C to this process as soon as ``row``'s record has been written."""
    write_record = Manifest.write

    def write_then_interrupt(self, record):
        write_record(self, record)
        if record.row == row:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(Manifest, "write", write_then_interrupt)


def test_interruption_in_process_exit_code_and_message(batch, tmp_path, monkeypatch):
    interrupt_after(monkeypatch, 3)
    source = write(tmp_path / "list.csv", many_rows(10))
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    result = batch(source, "--out-dir", out, "--manifest", manifest)
    assert result.exit_code == 130
    assert INTERRUPTED in stderr_lines(result)
    assert [r["row"] for r in read_manifest(manifest)] == [2, 3]
    assert len(pdf_names(out)) == 2
    assert sorted(p.name for p in out.iterdir()) == pdf_names(out)


def test_interrupted_run_still_ends_with_the_summary(batch, tmp_path, monkeypatch):
    interrupt_after(monkeypatch, 3)
    source = write(tmp_path / "list.csv", many_rows(10))
    result = batch(source, "--out-dir", tmp_path / "out", "--manifest", tmp_path / "m.jsonl")
    assert result.exit_code == 130
    assert_summary(result, rows=2, written=2, failed=0)


def test_interrupted_parallel_run_records_every_handout_it_wrote(batch, tmp_path, monkeypatch):
    interrupt_after(monkeypatch, 4)
    source = write(tmp_path / "list.csv", many_rows(40))
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    result = batch(source, "--out-dir", out, "--manifest", manifest, jobs=2)
    assert result.exit_code == 130
    listed = {Path(r["output"]).name for r in read_manifest(manifest) if r["status"] == "ok"}
    assert set(pdf_names(out)) == listed


# 11-12. Where the output goes ----------------------------------------------------------------


@pytest.mark.parametrize("option", ["--out-dir", "--merge"])
def test_output_under_a_regular_file_fails_before_any_work(batch, tmp_path, option):
    blocker = write(tmp_path / "blocker", b"a file, not a folder")
    target = blocker / "out" if option == "--out-dir" else blocker / "packet.pdf"
    manifest = tmp_path / "m.jsonl"
    before = files_under(tmp_path)
    result = batch(LISTS / "appointments.csv", option, target, "--manifest", manifest)
    assert result.exit_code == 2
    folder = target if option == "--out-dir" else target.parent
    assert result.stderr.startswith(f"pars-docs: error: {option}: cannot write to {folder} (")
    assert result.stderr.count("\n") == 1
    assert files_under(tmp_path) == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores modes")
def test_read_only_out_dir_fails_before_any_work(batch, tmp_path):
    out = tmp_path / "out"
    out.mkdir(mode=0o555)
    try:
        result = batch(LISTS / "appointments.csv", "--out-dir", out)
    finally:
        out.chmod(0o755)
    assert result.exit_code == 2
    assert result.stderr == (
        f"pars-docs: error: --out-dir: cannot write to {out} (Permission denied)\n"
    )
    assert list(out.iterdir()) == []


def test_out_dir_or_merge_is_required(batch, tmp_path):
    result = batch(LISTS / "appointments.csv")
    assert result.exit_code == 2
    assert result.stderr == (
        "pars-docs: error: batch: give --out-dir DIR, --merge FILE or --emit fhir\n"
    )


def test_out_dir_is_created(batch, tmp_path):
    out = tmp_path / "new" / "folder"
    result = batch(LISTS / "appointments.csv", "--out-dir", out)
    assert result.exit_code == 0, result.output
    assert pdf_names(out) == REFERENCE_NAMES


# 13. The summary line ------------------------------------------------------------------------


def test_summary_line_counts_everything(batch, tmp_path):
    rows = [
        appointment("Ana", "2026-12-03 8:00", "A1"),
        appointment("Ana", "2026-12-03 8:00", "A1"),
        appointment("Bo", "2026-02-30 8:00", "B3"),
        appointment("Cy", "2026-12-03 9:00", "C4"),
        appointment("Di", "2026-12-03 9:00", "D5"),
        appointment("Di", "2026-12-03 9:00", "D5"),
    ]
    source = write(tmp_path / "list.csv", lines(*rows))
    out = tmp_path / "out"
    (out).mkdir()
    write(out / "2026-12-03_0900_pars-defect-injection_C4.pdf", b"%PDF-1.4 kept\n%%EOF\n")
    result = batch(source, "--out-dir", out, "--skip-existing")
    assert result.exit_code == 1
    assert_summary(result, rows=6, written=2, failed=1, extra="1 skipped, 2 duplicates")


def test_skip_existing_remakes_a_cut_short_pdf(batch, tmp_path):
    source = write(tmp_path / "list.csv", lines(appointment("Cy", "2026-12-03 9:00", "C4")))
    out = tmp_path / "out"
    out.mkdir()
    cut_short = write(out / "2026-12-03_0900_pars-defect-injection_C4.pdf", b"%PDF-1.4 half")
    result = batch(source, "--out-dir", out, "--skip-existing")
    assert result.exit_code == 0
    assert_summary(result, rows=1, written=1, failed=0)
    assert cut_short.read_bytes().rstrip().endswith(b"%%EOF")


def test_errors_as_json_lines_end_with_the_summary(batch, tmp_path):
    source = write(
        tmp_path / "list.csv",
        lines(
            appointment("Ana", "2026-12-03 8:00", "A1"),
            appointment("Ana", "2026-12-03 8:00", "A1"),
            appointment("Bo", "2026-12-03 25:00", "B4"),
        ),
    )
    result = batch(source, "--out-dir", tmp_path / "out", "--errors", "json")
    assert result.exit_code == 1
    items = [json.loads(line) for line in stderr_lines(result)]
    assert [(i.get("row"), i.get("status"), i.get("field")) for i in items[:-1]] == [
        (3, "duplicate", None),
        (4, "failed", "time"),
    ]
    assert items[1]["message"] == "time: '25:00' is not a time of day; write 14:30 or 2:30 PM"
    assert SUMMARY.fullmatch("pars-docs: " + items[-1]["note"])
    assert items[-1]["note"].startswith("3 rows: 1 written, 1 failed, 1 duplicate in ")


def test_summary_ends_stderr_after_a_progress_bar(batch, tmp_path):
    source = write(tmp_path / "list.csv", many_rows(5))
    result = batch(source, "--out-dir", tmp_path / "out", "--progress")
    assert result.exit_code == 0
    assert result.stderr.endswith("\n") and "\r" in result.stderr
    assert_summary(result, rows=5, written=5, failed=0)


# Renditions in a batch -------------------------------------------------------------------------


@pytest.mark.parametrize("rendition,suffix", [("json", ".json"), ("text", ".txt"), ("ics", ".ics")])
def test_output_format_writes_that_rendition_per_row(batch, tmp_path, rendition, suffix):
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    result = batch(
        LISTS / "appointments.csv",
        "--out-dir",
        out,
        "--output-format",
        rendition,
        "--manifest",
        manifest,
    )
    assert result.exit_code == 0, result.stderr
    files = sorted(out.iterdir())
    assert [f.suffix for f in files] == [suffix] * 3
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    for record in records:
        data = Path(record["output"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == record["sha256"]
    if rendition == "json":
        timeline = json.loads(files[0].read_text(encoding="utf-8"))
        assert timeline["moments"]["start"].endswith("-05:00")


def test_merge_needs_pdf(batch, tmp_path):
    result = batch(
        LISTS / "appointments.csv", "--merge", tmp_path / "p.pdf", "--output-format", "text"
    )
    assert result.exit_code == 2
    assert "--merge makes a PDF packet" in result.stderr


@pytest.mark.parametrize("value,fasting", [("yes", True), ("no", False), ("", False)])
def test_sedation_column_is_read(batch, tmp_path, value, fasting):
    source = write(
        tmp_path / "list.csv",
        "procedure,patient,date,time,clinician,Sedation,A\n"
        f"pars-defect-injection,Ana Díaz,2026-12-03,8:00,Dr. Lee,{value},Room 4\n",
    )
    out = tmp_path / "out"
    result = batch(source, "--out-dir", out)
    assert result.exit_code == 0, result.stderr
    text = text_of(out / pdf_names(out)[0])
    assert ("Eating and drinking" in text) is fasting


def test_glp1_with_a_blood_thinner_makes_a_handout_and_late_stops_are_recorded(
    batch, tmp_path, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795345200")  # 2026-11-22 11:00 UTC
    source = write(
        tmp_path / "list.csv",
        lines(
            "pars-defect-injection,Ana,2026-12-03,8:00,Dr. Lee,A1,warfarin;Ozempic",
            "pars-defect-injection,Bo,2026-11-23,8:00,Dr. Lee,B2,clopidogrel",
            header=MEDICINES,
        ),
    )
    manifest = tmp_path / "manifest.jsonl"
    result = batch(source, "--out-dir", tmp_path / "out", "--manifest", manifest)
    assert result.exit_code == 0, result.output
    records = by_row(read_manifest(manifest))
    assert records[2]["status"] == "ok" and records[2]["warnings"] is None
    text = squash(text_of(Path(records[2]["output"])))
    assert "Take your last warfarin (Coumadin, Jantoven) on" in text
    assert "Keep taking Ozempic (semaglutide) as usual." in text
    assert records[3]["status"] == "ok"
    assert records[3]["warnings"].startswith("too late to stop clopidogrel on time")
    assert "pars-docs: row 3: warning: too late to stop clopidogrel" in result.stderr
    assert "It is too late to stop it 7 days before your shot." in squash(
        text_of(Path(records[3]["output"]))
    )
