"""One row model: every reader yields Row, Skipped or BadRow, and one function makes a visit
of a row, for `make`, `batch` and the Python API alike."""

import io
import json
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import DATA, LISTS, SITE, write

from pars_docs import make_handout
from pars_docs.batch.ledger import Record, Status, Summary
from pars_docs.batch.options import Options
from pars_docs.cli import cli
from pars_docs.cli._common import Report
from pars_docs.environment import Environment
from pars_docs.errors import DataError, ExitStatus, UsageError, plain
from pars_docs.handout import Engine
from pars_docs.load.site import load_site
from pars_docs.read.codes import CodeMap
from pars_docs.read.ehr import Feed
from pars_docs.read.feeds import read_appointments
from pars_docs.read.rows import BadRow, Row, Skipped, Source, read_rows
from pars_docs.read.visit import MissingField, check_date_format, visit_from_row
from pars_docs.write.output import write_output

REQUIRED = {
    "procedure": "pars-defect-injection",
    "patient": "Ana Díaz",
    "date": "2026-12-03",
    "time": "8:00 AM",
    "clinician": "Dr. Sam Lee",
}


def rows_of(path: Path, fmt: str | None = None) -> list:
    source = Source(str(path), fmt)
    try:
        return list(read_rows(source, {}))
    finally:
        source.close()


# Readers -------------------------------------------------------------------------------------


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them_with_no_header_row():
    rows = rows_of(LISTS / "appointments.csv")
    assert all(isinstance(row, Row) for row in rows)
    assert [row.number for row in rows] == [2, 3, 4]  # the header is row 1
    assert rows[0].values["procedure"] == "pars-defect-injection"


@pytest.mark.parametrize(
    "name,numbers", [("appointments.json", [1, 2, 3]), ("appointments.ndjson", [1, 2, 4])]
)
def test_json_rows_start_at_one(name, numbers):
    rows = rows_of(LISTS / name)
    assert [row.number for row in rows] == numbers  # an NDJSON row is its line
    assert all(isinstance(row, Row) and row.fold == 0 and row.refs == {} for row in rows)


def test_a_bad_first_ndjson_line_is_row_one_and_the_rest_are_read(tmp_path):
    source = write(tmp_path / "list.ndjson", "{not json\n" + json.dumps(REQUIRED) + "\n")
    first, second = rows_of(source)
    assert isinstance(first, BadRow) and first.number == 1
    assert first.error.message.startswith("not valid JSON")
    assert isinstance(second, Row) and second.number == 2


def test_a_bad_first_ndjson_line_is_reported_as_row_one(batch, tmp_path):
    source = write(tmp_path / "list.ndjson", "{not json\n" + json.dumps(REQUIRED) + "\n")
    result = batch(source, "--out-dir", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("pars-docs: row 1: not valid JSON")


def test_an_empty_list_holds_no_rows(tmp_path):
    for name, content in (("a.csv", "\n\n"), ("a.json", "[]"), ("a.ndjson", "\n")):
        with pytest.raises(DataError, match="holds no rows"):
            rows_of(write(tmp_path / name, content))


def test_fhir_rows_carry_the_references_and_which_repeated_hour():
    site = load_site(SITE)
    codes = CodeMap.build(Engine(site).library, DATA / "fhir" / "codes.yaml")
    source = Source(str(DATA / "fhir" / "bundle-mixed.json"))
    try:
        feed = Feed(codes, ZoneInfo("America/New_York"), include_past=True)
        results = list(read_appointments(source, feed))
    finally:
        source.close()
    assert [type(r) for r in results] == [Row, Skipped, Row, BadRow]
    first = results[0]
    assert first.number == 1
    assert first.refs == {
        "appointment": "Appointment/a1",
        "patient": "Patient/p1",
        "practitioner": "Practitioner/dr",
    }
    assert "_fhir" not in first.values and "fold" not in first.values
    assert results[1] == Skipped(
        2, "appointment status is cancelled", tally="cancelled", visit_id="Appointment/a2"
    )
    assert results[3].number == 4 and results[3].error.field == "procedure"


# Row → visit ---------------------------------------------------------------------------------


def test_visit_from_row():
    visit = visit_from_row(Row(5, {**REQUIRED, "medications": "Eliquis; Advil", "mrn": 77}))
    assert (visit.date, visit.time, visit.mrn) == (date(2026, 12, 3), time(8, 0), "77")
    assert visit.medications == ("Eliquis", "Advil")
    assert visit.sedation is None


@pytest.mark.parametrize("missing", ["procedure", "patient", "date", "time", "clinician"])
def test_visit_from_row_names_a_missing_field(missing):
    values = {k: v for k, v in REQUIRED.items() if k != missing}
    with pytest.raises(MissingField) as raised:
        visit_from_row(Row(1, values))
    assert raised.value.field == missing
    assert raised.value.message == f"{missing}: is required"


def test_sedation_default_is_for_rows_that_do_not_say():
    assert visit_from_row(Row(1, REQUIRED), sedation=True).sedation is True
    said = Row(1, {**REQUIRED, "sedation": "no"})
    assert visit_from_row(said, sedation=True).sedation is False


def test_date_format_applies_to_dates_and_birth_dates():
    row = Row(1, {**REQUIRED, "date": "12/03/2026", "dob": "05/06/1988"})
    visit = visit_from_row(row, date_format="%m/%d/%Y")
    assert (visit.date, visit.dob) == (date(2026, 12, 3), date(1988, 5, 6))
    with pytest.raises(UsageError, match="does not match --date-format"):
        visit_from_row(Row(1, REQUIRED), date_format="%m/%d/%Y")


def test_fold_comes_from_the_row():
    assert visit_from_row(Row(1, REQUIRED, fold=1)).fold == 1


# Options, statuses, the environment ----------------------------------------------------------


@pytest.mark.parametrize(
    "options,message",
    [
        (Options(), "batch: give --out-dir DIR, --merge FILE or --emit fhir"),
        (
            Options(emit="fhir", manifest="-"),
            "--manifest - and --fhir-output - would both write to standard output; "
            "send one of them to a file",
        ),
        (Options(out_dir=Path("x"), name="{surname}"), "--name: '{surname}' is not a placeholder"),
        (
            Options(merge=Path("p.pdf"), output_format="text"),
            "--merge makes a PDF packet; it cannot be used with --output-format text",
        ),
    ],
)
def test_options_validate(options, message):
    with pytest.raises(UsageError) as raised:
        options.validate()
    assert raised.value.message.startswith(message)


def test_valid_options_pass():
    Options(out_dir=Path("x")).validate()
    Options(emit="fhir", manifest="m.jsonl").validate()


def test_each_status_adds_to_its_own_count():
    summary = Summary()
    for status in Status:
        summary.count(status)
    assert (summary.rows, summary.written, summary.failed, summary.skipped) == (6, 1, 1, 1)
    assert (summary.duplicates, summary.cancelled, summary.superseded) == (1, 1, 1)
    assert json.dumps(Record(3, Status.DUPLICATE).public()["status"]) == '"duplicate"'
    assert str(Status.OK) == "ok"


def test_the_summary_breaks_a_count_down_only_when_it_says_more():
    summary = Summary(rows=4, written=2, cancelled=2, skipped=1, seconds=1.0)
    summary.reasons.update({("cancelled", "cancelled"): 2, ("skipped", "not SIU"): 1})
    # "2 cancelled (2 cancelled)" says the same thing twice.
    assert "2 written, 0 failed, 1 skipped (1 not SIU), 2 cancelled in" in summary.line()
    summary.reasons.update({("cancelled", "noshow"): 1})
    summary.cancelled = 3
    assert "3 cancelled (2 cancelled, 1 noshow) in" in summary.line()


def test_exit_statuses():
    assert [int(s) for s in ExitStatus] == [0, 1, 2, 130, 143]
    assert ExitStatus.for_signal(15) is ExitStatus.TERMINATED


def test_report_writes_to_the_environments_error_stream():
    err = io.StringIO()
    Report(Environment(stderr=err)).error(UsageError(plain("date: nope"), field="date"))
    assert err.getvalue() == "pars-docs: error: date: nope\n"


def test_a_pdf_is_never_written_to_a_terminal():
    out = io.BytesIO()
    with pytest.raises(UsageError, match="refusing to write a PDF to the terminal"):
        write_output("-", b"%PDF", env=Environment(stdout=out, stdout_isatty=True))
    write_output("-", b"%PDF", env=Environment(stdout=out, stdout_isatty=False))
    assert out.getvalue() == b"%PDF"


def test_make_says_which_option_is_missing(runner):
    result = runner.invoke(cli, ["make", "pars-defect-injection", "--patient", "A", "--site", SITE])
    assert result.exit_code == 2
    assert result.output == (
        "pars-docs: error: date: missing; give --date, --time, --clinician (or --fhir)\n"
    )


def test_the_python_api_goes_through_the_same_row_to_visit_step():
    with pytest.raises(MissingField, match="^clinician: is required$"):
        make_handout("pars-defect-injection", "Ana Díaz", "2026-12-03", "8:00", None, site=SITE)


@pytest.mark.parametrize("fmt", ["%m/%d/%Y", "%d.%m.%y", "%Y%m%d", "%b %d, %Y", "%m/%d/%Y %H:%M"])
def test_a_date_format_that_reads_a_whole_date(fmt):
    check_date_format(fmt)


# No day, no year, no directive at all, an unknown directive, a directive given twice (which
# Python's strptime cannot even compile): each would fail every row, or stop the run.
@pytest.mark.parametrize("fmt", ["%m/%Y", "%m/%d", "mm/dd/yyyy", "%Q", "%d/%d/%Y", "%"])
def test_a_date_format_that_cannot_is_refused_before_any_row(fmt):
    with pytest.raises(UsageError) as caught:
        check_date_format(fmt)
    assert caught.value.field == "date_format"
    assert caught.value.message.startswith(f"--date-format: '{fmt}' does not read a whole date")
