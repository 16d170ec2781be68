"""HL7 v2 read as each version writes it, on the third-party samples in ../shared/thirdparty/
(Microsoft FHIR-Converter v2.8 SIU messages, the IHE MESA v2.3 ones, Corepoint's S14): the start
from TQ1-7 (v2.5+), then AIS-4, then SCH-11.4; the current legal name; PID-3 systems as URIs;
SCH-25 statuses as table 0278 defines them; several HL7 files in one batch."""

import json
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import DATA

from pars_docs.cli import cli
from pars_docs.errors import DataError
from pars_docs.load.library import Library
from pars_docs.read.codes import CodeMap
from pars_docs.read.ehr import Feed, reading_name
from pars_docs.read.hl7v2 import appointment_rows, split_messages
from pars_docs.read.rows import BadRow, Row, Skipped

THIRDPARTY = Path(__file__).resolve().parents[2] / "shared" / "thirdparty"
MS = THIRDPARTY / "hl7" / "ms"
NOW = datetime(2019, 1, 1, tzinfo=timezone.utc)
SITE = DATA / "site-ny.yaml"


@pytest.fixture(scope="module")
def feed():
    assert THIRDPARTY.is_dir(), f"the third-party set is missing: {THIRDPARTY}"
    codes = CodeMap.build(Library(None), THIRDPARTY / "codes.yaml")
    return Feed(codes, ZoneInfo("America/New_York"), now=NOW)


def one(path: Path, feed, text: str | None = None):
    (result,) = appointment_rows(text or path.read_text(encoding="utf-8"), path.name, feed)
    return result


def test_v28_start_comes_from_tq1(feed):
    # SCH-11.4 says 2020-10-01 11:26+0215 and AIS has no start; TQ1-7 is the appointment.
    row = one(MS / "SIU-S12-02.hl7", feed)
    assert isinstance(row, Row)
    # 2021-08-18 11:30 +02:15 is 09:15 UTC, 05:15 in New York (EDT)
    assert (row.values["date"], row.values["time"]) == ("2021-08-18", "05:15")
    assert row.refs["end"] == "2021-08-18T12:30:00+02:15"  # TQ1-8


def test_a_start_only_in_tq1_is_read(feed):
    row = one(THIRDPARTY / "adapted" / "SIU-S12-02-tq1-only.hl7", feed)
    assert isinstance(row, Row) and row.values["time"] == "05:15"


def test_a_reschedule_follows_the_same_rule(feed):
    booked = one(MS / "SIU-S12-02.hl7", feed)
    moved = one(MS / "SIU-S13-02.hl7", feed)
    assert isinstance(moved, Row) and moved.visit_id == booked.visit_id
    assert moved.values["date"] == "2021-08-20" and moved.revision > booked.revision


def test_tq1_first_then_ais4_then_sch11(feed):
    text = (MS / "SIU-S13-01.hl7").read_text(encoding="utf-8")
    assert one(MS / "x.hl7", feed, text).values["time"] == "03:15"  # TQ1-7 09:30+0215
    no_tq1 = "\n".join(s for s in text.splitlines() if not s.startswith("TQ1"))
    no_tq1 = no_tq1.replace("20210924093000+0215|||50", "20210924100000+0215|||50", 1)
    assert one(MS / "x.hl7", feed, no_tq1).values["time"] == "03:45"  # AIS-4
    neither = no_tq1.replace("^Biopsy|20210924100000+0215|", "^Biopsy||")
    row = one(MS / "x.hl7", feed, neither)
    # SCH-11.4: 2020-10-01 11:26 +02:15 is 05:11 in New York
    assert (row.values["date"], row.values["time"]) == ("2020-10-01", "05:11")


def test_an_expired_legal_name_and_a_bad_name_are_never_printed(feed):
    # PID-5: a display name (D), and a legal name (L) whose XPN-13 expiry is 1924-10-15.
    row = one(MS / "SIU-S12-02.hl7", feed)
    assert row.values["patient"] == "Dr. Adam A Everyman III"  # sent as EVERYMAN ADAM
    text = (MS / "SIU-S12-02.hl7").read_text(encoding="utf-8")
    current = text.replace("^19241010^19241015|", "^19241010^20991231|")
    assert (
        one(MS / "x.hl7", feed, current).values["patient"] == "stanley Josh"
    )  # now legal; not all capitals, so as sent
    bad = text.replace("^^stanley^^^^L^", "^^stanley^^^^BAD^").replace("^^^^PF^", "^^^^PF^", 1)
    bad = bad.replace("^MD^D^", "^MD^BAD^")
    result = one(MS / "x.hl7", feed, bad)
    assert isinstance(result, BadRow)
    assert "patient: PID-5 has no current name" in result.error.message


def test_expired_identifier_is_never_the_mrn(feed):
    text = (MS / "SIU-S12-02.hl7").read_text(encoding="utf-8")
    assert one(MS / "x.hl7", feed, text).values["mrn"] == "PATID1234"
    expired = text.replace("^MR^GOOD HEALTH HOSPITAL~", "^MR^GOOD HEALTH HOSPITAL^^19241012~")
    assert "mrn" not in one(MS / "x.hl7", feed, expired).values


@pytest.mark.parametrize(
    ("authority", "mapping", "system"),
    [
        ("GHH&2.16.840.1.113883.19.5&ISO", {}, "urn:oid:2.16.840.1.113883.19.5"),
        (
            "GHH&6f2a8a5e-3b3c-4c8e-9a0e-0e6d1c7b7e11&UUID",
            {},
            "urn:uuid:6f2a8a5e-3b3c-4c8e-9a0e-0e6d1c7b7e11",
        ),
        ("GHH", {"GHH": "https://ghh.example/mrn"}, "https://ghh.example/mrn"),
        ("GHH", {}, None),  # a bare namespace is not a URI: no system is claimed
    ],
)
def test_pid3_systems_become_uris(feed, authority, mapping, system):
    text = (MS / "SIU-S12-02.hl7").read_text(encoding="utf-8")
    text = text.replace("PATID1234^5^M11^test1&2.16.1&HCD^MR", f"PATID1234^5^M11^{authority}^MR")
    mapped = Feed(feed.codes, feed.tz, now=NOW, identifier_systems=mapping)
    row = one(MS / "x.hl7", mapped, text)
    assert row.values["mrn"] == "PATID1234"
    assert row.refs.get("mrn_system") == system


@pytest.mark.parametrize(
    ("sent", "reason", "status", "tally"),
    [
        ("ARRIVED", "SCH-25 filler status is arrived", "skipped", "arrived"),
        ("Started", "SCH-25 filler status is Started (started)", "skipped", "started"),
        ("Dc", "SCH-25 filler status is Dc (discontinued)", "cancelled", "discontinued"),
        ("Deleted", "SCH-25 filler status is deleted", "cancelled", "deleted"),
        ("Blocked", "SCH-25 filler status is blocked", "skipped", "blocked"),
        ("Complete", "SCH-25 filler status is Complete (complete)", "skipped", "complete"),
    ],
)
def test_statuses_as_table_0278_defines_them(feed, sent, reason, status, tally):
    text = (MS / "SIU-S12-02.hl7").read_text(encoding="utf-8")
    result = one(MS / "x.hl7", feed, text.replace("|||Booked\n", f"|||{sent}\n", 1))
    assert isinstance(result, Skipped)
    assert (result.reason, result.status, result.tally) == (
        reason.replace(f"{sent} ({sent.lower()})", sent.lower()),
        status,
        tally,
    )


def test_overbooked_and_booked_get_a_handout(feed):
    text = (MS / "SIU-S12-02.hl7").read_text(encoding="utf-8")
    assert isinstance(one(MS / "x.hl7", feed, text.replace("|||Booked\n", "|||Overbook\n")), Row)


def test_corepoint_arrived_is_skipped_like_fhir_arrived(feed):
    result = one(THIRDPARTY / "hl7" / "corepoint" / "siu-s14.hl7", feed)
    assert isinstance(result, Skipped) and result.tally == "arrived"


def test_two_pid_segments_are_refused(feed):
    text = (MS / "SIU-S12-02.hl7").read_text(encoding="utf-8")
    pid = next(s for s in text.splitlines() if s.startswith("PID"))
    twice = text.replace(pid, pid + "\n" + pid.replace("PATID1234", "OTHER9"))
    result = one(MS / "x.hl7", feed, twice)
    assert isinstance(result, BadRow) and isinstance(result.error, DataError)
    assert result.error.message.startswith("PID: the message has 2 PID segments")
    assert "\n" not in result.error.message


@pytest.mark.parametrize(
    ("sent", "printed"),
    [
        ("LEE, SAM J", "Sam J Lee"),
        ("O'BRIEN-SMITH, MARY", "Mary O'Brien-Smith"),
        ("MCDONALD, RONALD", "Ronald McDonald"),
        ("Smith, Jr", "Smith, Jr"),
        ("EVERYMAN ADAM III", "Everyman Adam III"),
        ("Dr. ADAM EVERYMAN", "Dr. Adam Everyman"),
        ("Siobhán O'Brien", "Siobhán O'Brien"),
        ("de la Cruz, María", "María de la Cruz"),
    ],
)
def test_names_in_reading_order_and_normal_case(sent, printed):
    assert reading_name(sent) == printed
    assert reading_name(sent, as_sent=True) == sent


def test_names_as_sent_when_the_site_says(feed):
    text = (MS / "SIU-S12-02.hl7").read_text(encoding="utf-8")
    kept = Feed(feed.codes, feed.tz, now=NOW, names_as_sent=True)
    assert one(MS / "x.hl7", kept, text).values["patient"] == "Dr. ADAM A EVERYMAN III"


def test_batch_takes_several_hl7_files(runner, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text(encoding="utf-8") + "fallback_language: en\n", "utf-8")
    manifest = tmp_path / "m.jsonl"
    files = [MS / "SIU-S12-02.hl7", MS / "SIU-S13-02.hl7", MS / "SIU-S12_1.hl7"]
    result = runner.invoke(
        cli,
        ["batch", *map(str, files), "--site", str(site), "--codes"]
        + [str(THIRDPARTY / "codes.yaml"), "--out-dir", str(tmp_path / "o"), "-j", "1"]
        + ["--manifest", str(manifest), "--output-format", "text", "--as-of", "2019-01-01"],
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    by_row = {r["row"]: r for r in records}
    assert sorted(by_row) == [1, 2, 3]  # numbered on across files
    # the S13 of the second file replaces the S12 of the first (the same booking, newer)
    assert by_row[2]["status"] == "ok"
    assert by_row[1]["status"] == by_row[3]["status"] == "superseded"
    assert by_row[2]["language"] == "ar"  # PID-15 'ara': Arabic, which every set now has


def test_hl7_and_csv_together_are_refused(runner, tmp_path):
    csv = tmp_path / "a.csv"
    csv.write_text("procedure,patient,date,time,clinician\n", encoding="utf-8")
    result = runner.invoke(
        cli, ["batch", str(MS / "SIU-S12-02.hl7"), str(csv), "--out-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "read together only as the pages of one FHIR search, or as HL7 v2 files" in (
        result.output
    )


def test_messages_split_per_file():
    assert len(split_messages((MS / "SIU-S12-02.hl7").read_text(encoding="utf-8"))) == 1


def test_the_document_reference_records_the_end_and_its_own_entry_id(runner, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text(encoding="utf-8") + "fallback_language: en\n", "utf-8")
    out = tmp_path / "docs.json"
    result = runner.invoke(cli, [
        "batch", str(MS / "SIU-S12-02.hl7"), "--site", str(site), "--codes",
        str(THIRDPARTY / "codes.yaml"), "--as-of", "2019-01-01", "--emit", "fhir",
        "--fhir-bundle", "transaction", "--fhir-output", str(out), "-j", "1",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(out.read_text(encoding="utf-8"))["entry"]
    resource = entry["resource"]
    assert resource["docStatus"] == "final"
    period = resource["context"]["period"]
    assert datetime.fromisoformat(period["start"]) == datetime.fromisoformat(
        "2021-08-18T11:30:00+02:15"
    )
    assert period["end"] == "2021-08-18T12:30:00+02:15"  # TQ1-8
    identifier = resource["identifier"][0]["value"]
    assert entry["fullUrl"].startswith("urn:uuid:") and entry["fullUrl"] != identifier
    assert entry["request"]["ifNoneExist"] == f"identifier=urn:ietf:rfc:3986|{identifier}"
