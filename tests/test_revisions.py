"""One booking sent more than once in a run: the newest revision wins, the others are
superseded; without revisions, a booking's id makes a repeat. (The FHIR and HL7 v2 cases are in
test_fhir_shapes.py and test_hl7.py.)"""

from helpers import SITE, assert_summary, lines, read_manifest, write

from pars_docs.batch.tasks import with_newer
from pars_docs.cli import cli
from pars_docs.read.ehr import superseded
from pars_docs.read.rows import BadRow, Row, Skipped

VISIT = "procedure,patient,date,time,clinician,mrn,visit_id"


def row(number, visit_id, revision, **values):
    return Row(number, {"visit_id": visit_id, "time": "08:00", **values}, revision=revision)


def test_the_newest_revision_of_each_booking_wins():
    results = [
        row(1, "A", 10),
        row(2, "B", 10),
        row(3, "A", 12, time="09:00"),
        row(4, "A", 11, time="10:00"),
        Skipped(5, "cancelled", visit_id="B", revision=11),
        row(6, "C", 5),
        BadRow(7, ValueError("unreadable")),  # type: ignore[arg-type]
        row(8, "C", 5),  # the same as row 6: a repeat, not a revision
    ]
    replaced = superseded(results)
    assert {n: r.number for n, r in replaced.items()} == {1: 3, 4: 3, 2: 5}


def test_a_skipped_row_is_never_superseded():
    results = [Skipped(1, "past", visit_id="A", revision=1), row(2, "A", 2)]
    assert superseded(results) == {}


def test_equal_revisions_that_differ_go_to_the_later_row():
    # Two messages in the same minute: feeds send them in order.
    results = [row(1, "A", 10), row(2, "A", 10, time="09:00")]
    assert {n: r.number for n, r in superseded(results).items()} == {1: 2}


def test_a_version_number_orders_changes_of_the_same_minute():
    def versioned(number, revision, version, **values):
        return Row(number, {"visit_id": "A", **values}, revision=revision, version=version)

    results = [
        versioned(1, 10, "12", time="09:00"),
        versioned(2, 10, "3", time="10:00"),  # 3 < 12: older, though later in the input
        versioned(3, None, "7", time="11:00"),  # no revision: older than any that has one
        versioned(4, 10, "draft", time="12:00"),  # not a number: orders as no version
    ]
    assert {n: r.number for n, r in superseded(results).items()} == {2: 1, 3: 1, 4: 1}


def test_rows_without_revisions_are_passed_on_as_they_are_read():
    read = []

    def source():
        for number in range(1, 4):
            read.append(number)
            yield Row(number, {"visit_id": "A"})

    items = with_newer(source())
    assert next(items) == (Row(1, {"visit_id": "A"}), None)
    assert read == [1]  # nothing read ahead: a long list streams
    assert [newer for _, newer in items] == [None, None]


def test_a_list_repeating_a_visit_id_makes_it_once(runner, tmp_path):
    """A visit id names one booking: a second row with it is a repeat, even at another time
    (a list has no revisions to say which is newer), and is reported."""
    path = write(
        tmp_path / "list.csv",
        lines(
            "pars-defect-injection,Ana Díaz,2030-12-03,8:00,Dr. Lee,A1,CSN-1",
            "pars-defect-injection,Ana Díaz,2030-12-03,9:00,Dr. Lee,A1,CSN-1",
            "pars-defect-injection,Ana Díaz,2030-12-04,9:00,Dr. Lee,A1,CSN-2",
            header=VISIT,
        ),
    )
    manifest = tmp_path / "m.csv"
    result = runner.invoke(
        cli,
        ["batch", str(path), "--site", str(SITE), "--out-dir", str(tmp_path / "o"), "-j", "1"]
        + ["--manifest", str(manifest)],
    )
    assert result.exit_code == 0, result.output
    assert_summary(result, 3, 2, 0, "1 duplicate")
    assert "row 3: warning: same visit id as row 2; not made again" in result.output
    records = read_manifest(manifest)
    assert [r["status"] for r in records] == ["ok", "duplicate", "ok"]
    assert records[1]["output"] == records[0]["output"]


def test_a_caller_follows_the_rows_as_they_are_settled(tmp_path):
    """The desk's progress bar counts settled rows: a feed is read whole before the first
    handout, so counting rows as they are read would show it done at once."""
    from pars_docs import load_site
    from pars_docs.batch.ledger import Progress
    from pars_docs.batch.options import Options
    from pars_docs.batch.run import run_batch

    class Seen(Progress):
        def __init__(self):
            super().__init__(False, None)
            self.done = []

        def update(self, done):
            self.done.append(done)

    visit = {"procedure": "pars-defect-injection", "patient": "Ana Díaz", "date": "2030-12-03"}
    visit |= {"clinician": "Dr. Lee"}
    results = [
        row(1, "A", 10, **visit),
        row(2, "A", 11, **visit, time="09:00"),
        row(3, "B", 10, **visit, time="10:00"),
    ]
    seen = Seen()
    summary = run_batch(results, load_site(SITE), Options(out_dir=tmp_path, jobs=1), progress=seen)
    assert (summary.written, summary.superseded) == (2, 1)
    assert seen.done == [1, 2, 3]
