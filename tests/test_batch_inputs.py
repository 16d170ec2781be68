"""`pars-docs batch`, what goes in: messy exports, formats, column mapping, encodings, and bad
rows among good ones.

Most runs use ``--jobs 1``; a few use ``--jobs 2`` to go through the process pool.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import (
    BAD_ROWS,
    GOOD_ROWS,
    HEADER,
    LISTS,
    REFERENCE_NAMES,
    appointment,
    assert_summary,
    by_row,
    files_under,
    lines,
    mixed_list,
    pdf_names,
    read_manifest,
    stderr_lines,
    text_of,
    write,
)

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
        "pars-docs: row 3: date: '…' does not match --date-format %m/%d/%Y"
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
        "pars-docs: row 2: date: '…' is not a date; write it as YYYY-MM-DD; "
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


@pytest.mark.slow
def test_alias_choice_does_not_change_between_runs():
    # Two names for one field are refused (issue 25): the same refusal, naming the same
    # columns, on every run.
    code = (
        "from pars_docs.read.rows import resolve_columns\n"
        "try:\n"
        "    print(sorted(resolve_columns(['Procedure', 'Patient', 'Name', 'Date', 'Time', "
        "'Provider', 'Surgeon'], {}, 'x').items()))\n"
        "except Exception as e:\n"
        "    print(e)\n"
    )
    seen = set()
    for seed in ("0", "1", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env)
        assert done.returncode == 0, done.stderr.decode()
        seen.add(done.stdout.decode())
    assert len(seen) == 1, seen
    assert seen.pop().startswith("x: the columns 'Patient' and 'Name' both give patient")


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
    values = ["ส", "1990-02-30", "2027-01-01", "'Eliqis'"]  # a medicine column may hold anything
    source = write(
        tmp_path / "list.csv",
        lines(
            "pars-defect-injection,สมชาย,2026-12-03,8:00,Dr. Lee,,",
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
        assert "Closest known names: Eliquis" in logged
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
    assert stderr_lines(result)[0].startswith("pars-docs: row 3: date: '…' is not a real date")
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
