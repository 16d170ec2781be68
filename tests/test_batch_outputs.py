"""`pars-docs batch`, what comes out: file names, duplicates, the manifest, the merged packet,
where the output goes, the summary line and other renditions.

Most runs use ``--jobs 1``; a few use ``--jobs 2`` to go through the process pool.
"""

import csv
import hashlib
import io
import json
import os
import re
from datetime import date
from datetime import time as clock
from pathlib import Path

import pytest
from helpers import (
    COLUMNS,
    LISTS,
    MEDICINES,
    REFERENCE_NAMES,
    STATE,
    SUMMARY,
    appointment,
    assert_no_crash,
    assert_summary,
    by_row,
    files_under,
    folder_names,
    lines,
    many_rows,
    mixed_list,
    pdf_names,
    pdf_text,
    read_manifest,
    squash,
    stderr_lines,
    text_of,
    versions,
    write,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from pars_docs.read.visit import Visit
from pars_docs.write.names import output_name

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
    made = files_under(tmp_path) - {source, manifest, out / STATE}
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
    assert folder_names(tmp_path / "upper") == ["2-Ana.PDF", "3-Bo.PDF"]


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
        # JSON lines name their contract (pars_docs/schemas/manifest.schema.json)
        assert list(record) == (
            COLUMNS if name.lower().endswith(".csv") else [*COLUMNS, "schema_version"]
        )
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
        # A blank page (duplex padding) has no fonts.
        for font in page["/Resources"].get("/Font", {}).values():
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
    assert batch(write(tmp_path / "c4.csv", lines(rows[3])), "--out-dir", out).exit_code == 0
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
    assert items[1]["message"] == "time: '…' is not a time of day; write 14:30 or 2:30 PM"
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
    files = [out / name for name in folder_names(out)]
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
    assert "You needed to stop clopidogrel (Plavix) 7 days before your shot." in squash(
        text_of(Path(records[3]["output"]))
    )
