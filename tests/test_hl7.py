"""HL7 v2 SIU scheduling messages in: sample messages written from the v2.5.1 segment
definitions (tests/data/hl7/), with odd separators, escapes, repeated fields, MLLP framing and
missing optional segments."""

import json
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import DATA, pdf_text, squash
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from pars_docs.cli import cli
from pars_docs.errors import DataError
from pars_docs.load.library import Library
from pars_docs.read.codes import CodeMap
from pars_docs.read.ehr import Feed
from pars_docs.read.hl7v2 import appointment_rows, split_messages
from pars_docs.read.rows import BadRow, Row, Skipped

HL7 = DATA / "hl7"
SITE = DATA / "site-ny.yaml"
NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def feed():
    codes = CodeMap.build(Library(None), HL7 / "codes.yaml")
    return Feed(codes, ZoneInfo("America/New_York"), now=NOW)


def read(name, feed):
    text = (HL7 / name).read_text(encoding="utf-8")
    return list(appointment_rows(text, name, feed))


def test_a_new_appointment(feed):
    (row,) = read("siu-s12.hl7", feed)
    assert isinstance(row, Row) and row.number == 1
    assert row.values["patient"] == "Mrs. Siobhán M O^Brien"  # the legal name (type L); \S\ is ^
    assert row.values["mrn"] == "MRN-4401"  # PID-3's MR, never its SSN
    assert row.values["dob"] == "1980-05-17"
    assert row.values["clinician"] == "Dr. Sam Lee&Park"  # \T\ is &
    assert (row.values["date"], row.values["time"]) == ("2030-12-03", "08:00")
    assert row.values["procedure"] == "pars-defect-injection"
    assert row.values["visit_id"] == "FL-2001@CADENCE"  # SCH-2, the filler's id
    assert row.revision == 14141610  # MSH-7, 2026-11-20 08:30 -05:00, in minutes since 2000


def test_odd_separators_and_a_start_on_the_site_clock(feed):
    (row,) = read("siu-s14-odd-separators.hl7", feed)
    assert isinstance(row, Row)
    assert row.values["patient"] == "Zoë Quinn"
    assert row.values["mrn"] == "MRN-5"
    assert row.values["dob"] == "1975"  # PID-7 to the year only, kept as given
    # SCH-11.4, no offset
    assert (row.values["date"], row.values["time"]) == ("2030-12-04", "07:15")
    assert row.values["procedure"] == "pars-defect-decompression"
    assert row.values["clinician"] == "Ngozi Okafor MD"


def test_a_file_of_framed_messages(feed):
    rows = read("mllp-batch.hl7", feed)
    assert [r.number for r in rows] == [1, 2, 3, 4, 5]
    booked, moved, cancelled, no_aip, other = rows
    assert isinstance(booked, Row) and isinstance(moved, Row) and isinstance(no_aip, Row)
    assert booked.values["visit_id"] == moved.values["visit_id"] == "FL-9@CADENCE"
    assert (booked.values["date"], moved.values["date"], moved.values["time"]) == (
        "2030-12-10",
        "2030-12-11",
        "14:00",
    )
    assert moved.revision > booked.revision
    # A cancellation keeps its booking and revision (MSH-7, 2026-11-22 09:00 -05:00), so it
    # can replace the booking's earlier messages.
    assert cancelled == Skipped(
        3,
        "SIU^S15: the appointment was cancelled",
        status="cancelled",
        tally="cancelled",
        visit_id="FL-10@CADENCE",
        revision=14144520,
    )
    # AIG-3; no PID-7
    assert no_aip.values["clinician"] == "Dr. Kim Ha" and "dob" not in no_aip.values
    assert other == Skipped(
        5, "MSH-9 ADT^A08 is not an SIU scheduling message", status="skipped", tally="not SIU"
    )


def test_every_problem_of_a_message_at_once(feed):
    bad, good = read("problems.hl7", feed)
    assert isinstance(bad, BadRow) and bad.number == bad.error.row == 1
    assert isinstance(bad.error, DataError)
    assert bad.error.message.startswith(
        "date: no start time (TQ1-7, AIS-4 or SCH-11.4); clinician: "
    )
    assert "http://www.ama-assn.org/go/cpt|99999" in bad.error.message  # C4 read as CPT
    assert isinstance(good, Row) and "mrn" not in good.values  # PID-3 holds only an SSN


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("MSH|^~\\&|A\rSCH|1\rMSH|^~\\&|B\rSCH|2\r", 2),
        ("MSH|^~\\&|A\r\nSCH|1\r\n\r\nMSH|^~\\&|B\nSCH|2\n", 2),
        ("\x0bMSH|^~\\&|A\rSCH|1\x1c\r\x0bMSH|^~\\&|B\rSCH|2\x1c\r", 2),
        ("FHS|^~\\&\rBHS|^~\\&\rMSH|^~\\&|A\rSCH|1\rBTS|1\rFTS|1\r", 1),
    ],
)
def test_message_framing(text, count):
    messages = split_messages(text)
    assert len(messages) == count
    assert all(m.startswith("MSH") and "\n" not in m for m in messages)


def test_status_cancelled_in_sch25(feed):
    text = (HL7 / "mllp-batch.hl7").read_text(encoding="utf-8")
    first = split_messages(text)[0].replace("||Booked", "||Noshow")
    (row,) = list(appointment_rows(first, "x", feed))
    assert row == Skipped(
        1,
        "SCH-25 filler status is noshow",
        status="cancelled",
        tally="noshow",
        visit_id="FL-9@CADENCE",
        revision=14141640,
    )


def test_batch_of_hl7_messages(runner, tmp_path):
    manifest = tmp_path / "m.jsonl"
    out = tmp_path / "o"
    result = runner.invoke(
        cli,
        ["batch", str(HL7 / "mllp-batch.hl7"), "--site", str(SITE), "--codes"]
        + [str(HL7 / "codes.yaml"), "--out-dir", str(out), "-j", "1"]
        + ["--manifest", str(manifest), "--output-format", "ics", "--include-past"],
    )
    assert result.exit_code == 0, result.output
    assert (
        "5 rows: 2 written, 0 failed, 1 skipped (1 not SIU), 1 cancelled, 1 superseded in"
    ) in result.output
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [r["status"] for r in records] == ["superseded", "ok", "cancelled", "ok", "skipped"]
    # The booking (S12) and its reschedule (S13) give one handout: the reschedule's.
    assert records[0]["reason"] == (
        "superseded by row 2, a later revision of the same booking; only that one is made"
    )
    assert records[0]["output"] is None
    assert sorted(p.name for p in out.glob("*.ics")) == sorted(
        Path(r["output"]).name for r in records if r["output"]
    )
    events = Calendar.from_ical(open(records[1]["output"], "rb").read()).walk("VEVENT")
    starts = [e["DTSTART"].dt for e in events]
    days = {(s.date() if isinstance(s, datetime) else s).isoformat() for s in starts}
    assert "2030-12-11" in days and "2030-12-10" not in days


def messages(*numbers: int) -> str:
    """Messages of mllp-batch.hl7 (numbered from 1), one file's text."""
    found = split_messages((HL7 / "mllp-batch.hl7").read_text(encoding="utf-8"))
    return "\r\n".join(found[n - 1] for n in numbers) + "\r\n"


def test_a_reschedule_in_a_later_run_updates_the_calendar(runner, tmp_path):
    """The booking one night and its reschedule the next: the same events (UIDs), a higher
    SEQUENCE, so a calendar client moves them instead of adding new ones."""
    calendars = []
    for night, number in enumerate((1, 2)):
        path = tmp_path / f"night{night}.hl7"
        path.write_text(messages(number), encoding="utf-8")
        out = tmp_path / f"o{night}"
        result = runner.invoke(
            cli,
            ["batch", str(path), "--site", str(SITE), "--codes", str(HL7 / "codes.yaml")]
            + ["--out-dir", str(out), "-j", "1", "--output-format", "ics"],
        )
        assert result.exit_code == 0, result.output
        (ics,) = out.glob("*.ics")
        calendars.append(Calendar.from_ical(ics.read_bytes()))
    first, moved = calendars
    uids = [sorted(str(e["UID"]) for e in c.walk("VEVENT")) for c in (first, moved)]
    assert uids[0] == uids[1]
    sequences = [{int(e["SEQUENCE"]) for e in c.walk("VEVENT")} for c in (first, moved)]
    assert max(sequences[0]) < min(sequences[1])


@pytest.mark.parametrize("order", [(1, 2), (2, 1)])
def test_the_newest_message_of_a_booking_wins_in_any_order(runner, tmp_path, order):
    path = tmp_path / "feed.hl7"
    path.write_text(messages(*order), encoding="utf-8")
    manifest = tmp_path / "m.jsonl"
    out = tmp_path / "o"
    result = runner.invoke(
        cli,
        ["batch", str(path), "--site", str(SITE), "--codes", str(HL7 / "codes.yaml")]
        + ["--out-dir", str(out), "-j", "1", "--manifest", str(manifest)],
    )
    assert result.exit_code == 0, result.output
    assert "2 rows: 1 written, 0 failed, 1 superseded in" in result.output
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    newest = order.index(2) + 1  # the S13, whichever row it is
    assert {r["row"]: r["status"] for r in records} == {
        newest: "ok",
        3 - newest: "superseded",
    }
    (pdf,) = out.glob("*.pdf")
    text = squash(pdf_text(pdf))
    assert "Date Wednesday, December 11, 2030 Start time 2:00 PM" in text
    assert "December 10" not in text


def test_a_later_cancellation_supersedes_the_booking(runner, tmp_path):
    path = tmp_path / "feed.hl7"
    cancel = split_messages((HL7 / "mllp-batch.hl7").read_text(encoding="utf-8"))[2]
    cancel = cancel.replace("FL-10^CADENCE", "FL-9^CADENCE")  # the booking of message 1
    path.write_text(messages(1) + cancel + "\r\n", encoding="utf-8")
    manifest = tmp_path / "m.jsonl"
    result = runner.invoke(
        cli,
        ["batch", str(path), "--site", str(SITE), "--codes", str(HL7 / "codes.yaml")]
        + ["--out-dir", str(tmp_path / "o"), "-j", "1", "--manifest", str(manifest)],
    )
    assert result.exit_code == 0, result.output
    assert "2 rows: 0 written, 0 failed, 1 cancelled, 1 superseded" in result.output
    first, _ = (json.loads(line) for line in manifest.read_text().splitlines())
    assert first["status"] == "superseded"
    assert first["reason"] == (
        "superseded by row 2, a later revision of the same booking, which gets no handout "
        "(SIU^S15: the appointment was cancelled)"
    )
    assert not list((tmp_path / "o").glob("*.pdf"))


def test_hl7_without_a_site_profile_is_refused(runner, tmp_path, monkeypatch):
    monkeypatch.delenv("PARS_DOCS_SITE", raising=False)
    result = runner.invoke(
        cli,
        ["batch", str(HL7 / "siu-s12.hl7"), "--out-dir", str(tmp_path), "--codes"]
        + [str(HL7 / "codes.yaml")],
    )
    assert result.exit_code == 2
    assert "HL7 v2 input: its times are instants" in result.output


def test_the_handout_from_a_message(runner, tmp_path):
    out = tmp_path / "o"
    result = runner.invoke(
        cli,
        ["batch", str(HL7 / "siu-s12.hl7"), "--site", str(SITE), "--codes"]
        + [str(HL7 / "codes.yaml"), "--out-dir", str(out), "-j", "1"],
    )
    assert result.exit_code == 0, result.output
    (pdf,) = out.glob("*.pdf")
    text = squash(pdf_text(pdf))
    assert "Patient Mrs. Siobhán M O^Brien" in text
    assert "Date of birth May 17, 1980" in text and "MRN-4401" in text
    assert "Start time 8:00 AM" in text and "999-12-3456" not in text


segment_text = st.lists(
    st.one_of(
        st.text(alphabet="|^~\\&#$@!%FSTRE0123456789ABC-+. \r\n\x0b\x1c", max_size=40),
        st.sampled_from(
            ["MSH|^~\\&|A|B|||20301203||SIU^S12|1|P|2.5.1", "SCH||F1", "PID|1||X^^^^MR||Roe^Jo",
             "AIS|1||PDI^x^L|20301203080000", "AIP|1||D^Lee^Sam", "MSH#$@!%#", "\\X0A\\"]
        ),
    ),
    max_size=8,
).map("\r".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(segment_text)
def test_any_text_fails_cleanly_or_reads(feed, text):
    try:
        for row in appointment_rows(text, "x.hl7", feed):
            assert isinstance(row, (Row, Skipped, BadRow))
            if isinstance(row, BadRow):
                assert isinstance(row.error, DataError)
    except DataError:
        pass  # no message at all


# One message through make ----------------------------------------------------------------------


def make_from(runner, tmp_path, text: str, *options: str):
    path = tmp_path / "message.txt"  # no .hl7: read as HL7 v2 by its MSH segment
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "h.pdf"
    result = runner.invoke(
        cli,
        ["make", "--fhir", str(path), "--site", str(SITE), "--codes", str(HL7 / "codes.yaml")]
        + [*options, "-o", str(out)],
    )
    return result, out


def test_make_reads_one_hl7_message(runner, tmp_path):
    result, out = make_from(runner, tmp_path, (HL7 / "siu-s12.hl7").read_text(encoding="utf-8"))
    assert result.exit_code == 0, result.output
    text = squash(pdf_text(out))
    assert "Patient Mrs. Siobhán M O^Brien" in text and "MRN-4401" in text
    assert "Start time 8:00 AM" in text


@pytest.mark.parametrize("numbers", [(1, 2), (2, 1), (2, 1, 2)])
def test_make_takes_the_newest_message_of_one_booking(runner, tmp_path, numbers):
    result, out = make_from(runner, tmp_path, messages(*numbers))
    assert result.exit_code == 0, result.output
    assert "Date Wednesday, December 11, 2030 Start time 2:00 PM" in squash(pdf_text(out))


def test_make_options_fill_what_a_message_lacks(runner, tmp_path):
    lacking = messages(1).replace("AIP|1||D1^Lee^Sam^^^Dr.", "")
    result, _ = make_from(runner, tmp_path, lacking)
    assert result.exit_code == 1
    assert "clinician: no AIP-3 name or AIG-3 text (give --clinician)" in result.output
    result, out = make_from(runner, tmp_path, lacking, "--clinician", "Dr. Kim Ha")
    assert result.exit_code == 0, result.output
    assert "Your clinician Dr. Kim Ha" in squash(pdf_text(out))


@pytest.mark.parametrize(
    ("numbers", "status", "message"),
    [
        ((5,), 1, "no appointment to make a handout for: MSH-9 ADT^A08 is not an SIU"),
        ((1, 4), 2, "holds 2 appointments to make; use pars-docs batch for more than one"),
    ],
)
def test_make_refuses_a_message_file_without_one_appointment(
    runner, tmp_path, numbers, status, message
):
    result, out = make_from(runner, tmp_path, messages(*numbers))
    assert result.exit_code == status
    assert message in result.output and not out.exists()


def test_the_packet_index_lists_a_superseded_row(runner, tmp_path):
    path = tmp_path / "feed.hl7"
    path.write_text(messages(1, 2), encoding="utf-8")
    packet = tmp_path / "packet.pdf"
    result = runner.invoke(
        cli,
        ["batch", str(path), "--site", str(SITE), "--codes", str(HL7 / "codes.yaml")]
        + ["--merge", str(packet), "--index", "-j", "1"],
    )
    assert result.exit_code == 0, result.output
    text = squash(pdf_text(packet))
    assert (
        "1 Ana Díaz Replaced superseded by row 2, a later revision of the same booking; only "
        "that one is made"
    ) in text
