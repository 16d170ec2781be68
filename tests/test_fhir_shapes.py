"""FHIR as record systems send it: vendor identifiers, odd name shapes, PractitionerRole,
contained resources, R5, searchset pages, statuses, old versions, XML, and any JSON at all."""

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from helpers import DATA, pdf_text, squash
from hypothesis import given, settings
from hypothesis import strategies as st

from pars_docs.cli import cli
from pars_docs.errors import DataError
from pars_docs.load.library import Library
from pars_docs.load.site import MrnRule
from pars_docs.read.codes import CodeMap
from pars_docs.read.ehr import Feed
from pars_docs.read.fhir import appointment_rows, human_name
from pars_docs.read.rows import BadRow, Row, Skipped

SITE = DATA / "site-ny.yaml"
CODE = {"system": "urn:pars-docs:procedure", "code": "pars-defect-injection"}
LATER = "2030-12-03T14:00:00Z"  # 9:00 AM in New York
NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)


def appointment(**fields):
    base = {
        "resourceType": "Appointment",
        "id": "appt-1",
        "status": "booked",
        "start": LATER,
        "serviceType": [{"coding": [CODE]}],
        "participant": [
            {"actor": {"reference": "Patient/p1"}},
            {"actor": {"reference": "Practitioner/d1"}},
        ],
    }
    base.update(fields)
    return base


def bundle(*resources, **extra):
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
        **extra,
    }


PATIENT = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Díaz", "given": ["Ana"]}]}
DOCTOR = {
    "resourceType": "Practitioner",
    "id": "d1",
    "name": [{"family": "Lee", "given": ["Sam"], "prefix": ["Dr."]}],
}


@pytest.fixture(scope="module")
def codes():
    return CodeMap.build(Library(None))


def rows(data, codes, **options):
    options.setdefault("now", NOW)
    feed = Feed(codes, ZoneInfo("America/New_York"), **options)
    pages = data if isinstance(data, list) else [(data, "in.json")]
    return list(appointment_rows(pages, feed))


def one(data, codes, **options):
    """The one result of ``data``: a :class:`Row` or a :class:`Skipped`; a bad row's error
    is raised."""
    (row,) = rows(data, codes, **options)
    assert row.number == 1
    if isinstance(row, BadRow):
        raise row.error
    return row


def fields(data, codes, **options) -> dict:
    """The fields of the one :class:`Row` ``data`` holds."""
    row = one(data, codes, **options)
    assert isinstance(row, Row), row
    return row.values


# Identity --------------------------------------------------------------------------------------

EPIC_PATIENT = {
    "resourceType": "Patient",
    "id": "eq081-VQEgP8drUUqCWzHfw3",
    "identifier": [
        {
            "use": "usual",
            "type": {"text": "EPI"},
            "system": "urn:oid:1.2.840.114350",
            "value": "E2731",
        },
        {"use": "usual", "type": {"text": "EXTERNAL"}, "system": "urn:oid:1.2.3", "value": "Z6129"},
        {
            "use": "usual",
            "system": "http://hl7.org/fhir/sid/us-ssn",
            "type": {"text": "MRN"},  # mistyped: an SSN is never printed, whatever its type
            "value": "123-45-6789",
        },
        {
            "use": "usual",
            "type": {"text": "MRN"},
            "system": "urn:oid:1.2.840.114350.1.13",
            "value": "203713",
        },
    ],
    "name": [
        {"use": "usual", "text": "Derrick Lin"},
        {"use": "official", "family": "Lin", "given": ["Derrick"]},
    ],
    "birthDate": "1973-06-03",
}


def test_epic_mrn_is_typed_by_text_only(codes):
    row = one(bundle(appointment(), EPIC_PATIENT | {"id": "p1"}, DOCTOR), codes)
    assert isinstance(row, Row)
    assert row.values["mrn"] == "203713"
    assert row.refs["mrn_system"] == "urn:oid:1.2.840.114350.1.13"
    assert row.values["patient"] == "Derrick Lin"


def test_the_site_names_its_mrn_system(codes):
    rule = MrnRule(system="urn:oid:1.2.3", type_code=None, type_text=None)
    row = fields(bundle(appointment(), EPIC_PATIENT | {"id": "p1"}, DOCTOR), codes, mrn=rule)
    assert row["mrn"] == "Z6129"


def test_no_recognised_mrn_prints_none(codes):
    patient = PATIENT | {
        "identifier": [
            {"system": "urn:oid:9.9", "value": "INTERNAL-1"},
            {"type": {"coding": [{"code": "SS"}]}, "value": "123-45-6789"},
        ]
    }
    row = one(bundle(appointment(), patient, DOCTOR), codes)
    assert isinstance(row, Row)
    assert "mrn" not in row.values and "mrn_system" not in row.refs


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ([{"family": ["van", "Dijk"], "given": "Anna"}], "Anna van Dijk"),  # DSTU2 list, string
        ({"prefix": "Mrs.", "given": ["Isabella"], "family": "Jones"}, "Mrs. Isabella Jones"),
        ([{"use": "old", "text": "Old Name"}, {"use": "official", "family": "New"}], "New"),
        ([{"use": "nickname", "text": "Bella"}, {"given": ["Isabella"]}], "Isabella"),
        ([{"family": 42}, {"text": "  "}, {"given": ["Jo"], "suffix": "Jr."}], "Jo Jr."),
        ("Jo Roe", None),
        ([], None),
    ],
)
def test_human_names(names, expected):
    assert human_name(names) == expected


def test_partial_birth_dates_are_kept_and_printed_as_given(runner, tmp_path, codes):
    for birth, shown in (
        ("1980", "Date of birth 1980"),
        ("1980-11", "Date of birth November 1980"),
    ):
        path = tmp_path / "b.json"
        path.write_text(json.dumps(bundle(appointment(), PATIENT | {"birthDate": birth}, DOCTOR)))
        out = tmp_path / "h.pdf"
        result = runner.invoke(
            cli, ["make", "--fhir", str(path), "--site", str(SITE), "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert shown in squash(pdf_text(out))


# Shapes ----------------------------------------------------------------------------------------


def test_practitioner_role_resolves_to_its_practitioner(codes):
    role = {
        "resourceType": "PractitionerRole",
        "id": "r1",
        "practitioner": {"reference": "Practitioner/d1"},
    }
    appt = appointment(
        participant=[
            {"actor": {"reference": "Patient/p1"}},
            {"actor": {"reference": "PractitionerRole/r1"}},
        ]
    )
    row = one(bundle(appt, PATIENT, DOCTOR, role), codes)
    assert isinstance(row, Row)
    assert row.values["clinician"] == "Dr. Sam Lee"
    assert row.refs["practitioner"] == "Practitioner/d1"


def test_practitioner_role_not_in_the_bundle_uses_its_display(codes):
    appt = appointment(
        participant=[
            {"actor": {"reference": "Patient/p1"}},
            {"actor": {"reference": "PractitionerRole/r9", "display": "Dr. Kim Ha"}},
        ]
    )
    row = fields(bundle(appt, PATIENT), codes)
    assert row["clinician"] == "Dr. Kim Ha"


def test_contained_resources(codes):
    appt = appointment(
        contained=[
            PATIENT | {"id": "pat"},
            {"resourceType": "Practitioner", "id": "doc", "name": {"text": "Dr. Ngozi Okafor"}},
        ],
        participant=[{"actor": {"reference": "#pat"}}, {"actor": {"reference": "#doc"}}],
    )
    row = one(appt, codes)
    assert isinstance(row, Row)
    assert (row.values["patient"], row.values["clinician"]) == ("Ana Díaz", "Dr. Ngozi Okafor")
    assert "patient" not in row.refs  # a contained resource has no server address


def test_r5_subject(codes):
    appt = appointment(
        subject={"reference": "Patient/p1"},
        participant=[{"actor": {"reference": "Practitioner/d1"}}],
        serviceType=[{"concept": {"coding": [CODE]}}],  # R5 CodeableReference
    )
    row = fields(bundle(appt, PATIENT, DOCTOR), codes)
    assert row["patient"] == "Ana Díaz" and row["procedure"] == "pars-defect-injection"


def test_absolute_and_versioned_references(codes):
    appt = appointment(
        participant=[
            {"actor": {"reference": "https://fhir.example.org/r4/Patient/p1/_history/3"}},
            {"actor": {"reference": "https://fhir.example.org/r4/Practitioner/d1"}},
        ]
    )
    row = fields(bundle(appt, PATIENT, DOCTOR), codes)
    assert row["patient"] == "Ana Díaz" and row["clinician"] == "Dr. Sam Lee"


def test_a_row_reports_all_its_problems_at_once(codes):
    appt = appointment(
        start="2030-12-03",
        participant=[{"actor": {"reference": "Patient/nowhere"}}],
        serviceType=[],
    )
    with pytest.raises(DataError) as caught:
        one(bundle(appt), codes)
    message = caught.value.message
    assert caught.value.field == "date"
    for part in (
        "date: start '2030-12-03' is not a FHIR instant with a UTC offset",
        "patient: Patient/nowhere is not in the bundle and has no display name",
        "clinician: the appointment has no Practitioner or PractitionerRole with a name",
        "procedure: no instruction set for the codes (none)",
    ):
        assert part in message


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("proposed", "skipped"),
        ("pending", "skipped"),
        ("fulfilled", "skipped"),
        ("checked-in", "skipped"),
        ("arrived", "skipped"),
        ("cancelled", "cancelled"),
        ("entered-in-error", "cancelled"),
        ("noshow", "cancelled"),
    ],
)
def test_statuses_that_get_no_handout(codes, status, kind):
    row = one(bundle(appointment(status=status), PATIENT, DOCTOR), codes)
    assert row == Skipped(
        1,
        f"appointment status is {status}",
        status=kind,
        tally=status,
        visit_id="Appointment/appt-1",
    )


def test_a_past_appointment_is_skipped_unless_asked(codes):
    data = bundle(appointment(start="2026-11-01T14:00:00Z"), PATIENT, DOCTOR)
    past = one(data, codes)
    assert isinstance(past, Skipped) and past.tally == "past"
    assert fields(data, codes, include_past=True)["date"] == "2026-11-01"


@pytest.mark.parametrize(
    ("extra", "version"),
    [({"type": {"text": "x"}}, "DSTU2"), ({"reason": [{"text": "x"}]}, "STU3")],
)
def test_older_fhir_versions_are_named(codes, extra, version):
    with pytest.raises(DataError) as caught:
        one(bundle(appointment(**extra), PATIENT, DOCTOR), codes)
    assert f"looks like FHIR {version}; pars-docs reads FHIR R4" in caught.value.message


def test_appointment_notes_only_when_the_site_enables_them(codes):
    appt = appointment(patientInstruction="Bring your scans.", comment="Park in lot B.")
    data = bundle(appt, PATIENT, DOCTOR)
    assert "note" not in fields(data, codes)
    assert fields(data, codes, notes=True)["note"] == "Bring your scans.\nPark in lot B."
    r5 = appointment(patientInstruction=[{"concept": {"text": "Fast."}}], note=[{"text": "Hi"}])
    assert fields(bundle(r5, PATIENT, DOCTOR), codes, notes=True)["note"] == "Fast.\nHi"


# Pages -----------------------------------------------------------------------------------------


def test_searchset_pages_given_together(codes):
    first = bundle(
        appointment(),
        PATIENT,
        link=[
            {"relation": "self", "url": "https://x/Appointment?page=1"},
            {"relation": "next", "url": "https://x/Appointment?page=2"},
        ],
    )
    second = bundle(
        appointment(id="appt-2"),
        DOCTOR,
        link=[{"relation": "self", "url": "https://x/Appointment?page=2"}],
    )
    warnings = []
    found = rows([(first, "p1.json"), (second, "p2.json")], codes, warn=warnings.append)
    assert all(isinstance(r, Row) for r in found) and [r.number for r in found] == [1, 2]
    assert [r.values["visit_id"] for r in found] == ["Appointment/appt-1", "Appointment/appt-2"]
    assert found[0].values["clinician"] == "Dr. Sam Lee"  # the Practitioner is on another page
    assert warnings == []
    rows([(first, "p1.json")], codes, warn=warnings.append)
    assert warnings == [
        "warning: p1.json is one page of a search, and its next page "
        "(https://x/Appointment?page=2) was not given: appointments on later pages are not "
        "read; give every page's file together"
    ]


def test_batch_reads_pages_and_warns_of_missing_ones(runner, tmp_path):
    page = bundle(
        appointment(),
        PATIENT,
        DOCTOR,
        link=[{"relation": "next", "url": "https://x/Appointment?page=2"}],
    )
    path = tmp_path / "p1.json"
    path.write_text(json.dumps(page))
    result = runner.invoke(
        cli, ["batch", str(path), "--site", str(SITE), "--out-dir", str(tmp_path / "o"), "-j", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "its next page (https://x/Appointment?page=2) was not given" in result.output


# Revisions of one booking ---------------------------------------------------------------------


def revised(updated: str, start: str = LATER, **fields):
    return appointment(
        start=start, meta={"versionId": updated[:10], "lastUpdated": updated}, **fields
    )


def run_batch_on(runner, tmp_path, *pages):
    paths = []
    for number, page in enumerate(pages, 1):
        path = tmp_path / f"page{number}.json"
        path.write_text(json.dumps(page))
        paths.append(str(path))
    manifest = tmp_path / "m.jsonl"
    out = tmp_path / "o"
    result = runner.invoke(
        cli,
        ["batch", *paths, "--site", str(SITE), "--out-dir", str(out), "-j", "1"]
        + ["--manifest", str(manifest)],
    )
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    return result, records, sorted(out.glob("*.pdf"))


@pytest.mark.parametrize("newer_first", [False, True])
def test_the_newest_version_of_an_appointment_wins(runner, tmp_path, newer_first):
    old = revised("2030-11-20T10:00:00Z")
    new = revised("2030-11-21T10:00:00Z", start="2030-12-04T15:00:00Z")  # 10:00 AM
    first, second = (new, old) if newer_first else (old, new)
    result, records, pdfs = run_batch_on(
        runner, tmp_path, bundle(first, PATIENT, DOCTOR), bundle(second)
    )
    assert result.exit_code == 0, result.output
    assert "2 rows: 1 written, 0 failed, 1 superseded in" in result.output
    older_row, newer_row = (2, 1) if newer_first else (1, 2)
    by_row = {r["row"]: r for r in records}
    assert by_row[newer_row]["status"] == "ok"
    assert by_row[older_row]["status"] == "superseded"
    assert by_row[older_row]["reason"] == (
        f"superseded by row {newer_row}, a later revision of the same booking; only that one "
        "is made"
    )
    (pdf,) = pdfs
    assert "Date Wednesday, December 4, 2030 Start time 10:00 AM" in squash(pdf_text(pdf))


def test_the_same_version_given_twice_is_a_repeat(runner, tmp_path):
    same = revised("2030-11-20T10:00:00Z")
    result, records, pdfs = run_batch_on(
        runner, tmp_path, bundle(same, PATIENT, DOCTOR), bundle(same, PATIENT, DOCTOR)
    )
    assert result.exit_code == 0, result.output
    assert "2 rows: 1 written, 0 failed, 1 duplicate in" in result.output
    assert [r["status"] for r in records] == ["ok", "duplicate"]
    assert records[1]["reason"] == "same visit id as row 1; not made again"
    assert len(pdfs) == 1


def test_a_newer_cancelled_version_supersedes_the_booked_one(runner, tmp_path):
    booked = revised("2030-11-20T10:00:00Z")
    cancelled = revised("2030-11-21T10:00:00Z", status="cancelled")
    result, records, pdfs = run_batch_on(
        runner, tmp_path, bundle(booked, cancelled, PATIENT, DOCTOR)
    )
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in records] == ["superseded", "cancelled"]
    assert records[0]["reason"].endswith("which gets no handout (appointment status is cancelled)")
    assert pdfs == []


@pytest.mark.parametrize("updated", ["2030-11-20T10:00:20Z", None])
@pytest.mark.parametrize("newer_first", [False, True])
def test_the_higher_version_id_wins_within_a_minute(runner, tmp_path, updated, newer_first):
    """Two changes in the same minute (or without meta.lastUpdated): meta.versionId says
    which is newer, whatever the order of the files."""
    meta = {"lastUpdated": updated} if updated else {}
    old = appointment(meta={**meta, "versionId": "9"})
    new = appointment(meta={**meta, "versionId": "10"}, start="2030-12-04T15:00:00Z")
    if updated:
        new["meta"]["lastUpdated"] = "2030-11-20T10:00:50Z"  # the same minute
    first, second = (new, old) if newer_first else (old, new)
    result, records, pdfs = run_batch_on(
        runner, tmp_path, bundle(first, PATIENT, DOCTOR), bundle(second)
    )
    assert result.exit_code == 0, result.output
    statuses = [r["status"] for r in records]
    assert statuses == (["ok", "superseded"] if newer_first else ["superseded", "ok"])
    (pdf,) = pdfs
    assert "Date Wednesday, December 4, 2030 Start time 10:00 AM" in squash(pdf_text(pdf))


def test_versions_of_different_appointments_are_not_compared(codes):
    from pars_docs.read.ehr import superseded

    found = rows(
        bundle(
            revised("2030-11-20T10:00:00Z"),
            revised("2030-11-21T10:00:00Z", id="appt-2"),
            appointment(id="appt-1"),  # no lastUpdated: its revision is unknown
            PATIENT,
            DOCTOR,
        ),
        codes,
    )
    assert [r.revision for r in found] == [16245240, 16246680, None]
    assert superseded(found) == {}


# Time and the command line ---------------------------------------------------------------------


def test_fhir_without_a_site_profile_is_refused(runner, tmp_path, monkeypatch):
    monkeypatch.delenv("PARS_DOCS_SITE", raising=False)
    path = tmp_path / "a.json"
    path.write_text(json.dumps(bundle(appointment(), PATIENT, DOCTOR)))
    result = runner.invoke(cli, ["make", "--fhir", str(path), "-o", str(tmp_path / "h.pdf")])
    assert result.exit_code == 2
    assert "--fhir: its times are instants" in result.output
    assert "give the clinic's time zone with --timezone" in result.output
    out = tmp_path / "h.pdf"
    result = runner.invoke(
        cli, ["make", "--fhir", str(path), "--timezone", "America/Chicago", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Start time 8:00 AM" in squash(pdf_text(out))  # 14:00Z in Chicago


def test_options_fill_what_the_fhir_data_lacks(runner, tmp_path):
    appt = appointment(participant=[{"actor": {"reference": "Patient/p1"}}])
    path = tmp_path / "a.json"
    path.write_text(json.dumps(bundle(appt, PATIENT)))
    out = tmp_path / "h.pdf"
    result = runner.invoke(cli, ["make", "--fhir", str(path), "--site", str(SITE), "-o", str(out)])
    assert result.exit_code == 1
    assert "clinician: the appointment has no Practitioner" in result.output
    result = runner.invoke(
        cli,
        ["make", "pars-defect-decompression", "--clinician", "Dr. Ha", "--fhir", str(path)]
        + ["--site", str(SITE), "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    text = squash(pdf_text(out))
    assert "Your clinician Dr. Ha" in text and "decompression" in text


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (
            '<Bundle xmlns="http://hl7.org/fhir"><type value="searchset"/></Bundle>',
            "holds no Appointment",
        ),
        ("MSH|^~\\&|A|B|||20261120||SIU^S12|1|P|2.5.1\rSCH|1\r", None),
    ],
)
def test_other_formats_are_not_read_as_csv(runner, tmp_path, head, message):
    path = tmp_path / "in.csv"
    path.write_text(head)
    result = runner.invoke(
        cli, ["batch", str(path), "--site", str(SITE), "--out-dir", str(tmp_path / "o")]
    )
    assert "no column for" not in result.output
    if message:
        assert result.exit_code == 1 and message in result.output
    else:  # read as HL7 v2: the one message fails on its own
        assert "row 1: date: no start time" in result.output


# Any JSON at all -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from(
    [
        "resourceType",
        "id",
        "status",
        "start",
        "participant",
        "actor",
        "reference",
        "name",
        "family",
        "given",
        "prefix",
        "text",
        "identifier",
        "type",
        "coding",
        "code",
        "value",
        "system",
        "birthDate",
        "serviceType",
        "contained",
        "subject",
        "basedOn",
        "entry",
        "resource",
        "fullUrl",
        "link",
        "practitioner",
        "meta",
        "lastUpdated",
        "display",
    ]
)
fhir_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(
        [
            "Appointment",
            "Bundle",
            "Patient",
            "Practitioner",
            "PractitionerRole",
            "booked",
            "#p",
            "Patient/p",
            "2030-01-01T09:00:00Z",
            "1980",
            "MR",
            "MRN",
        ]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, fhir_like, fhir_like.map(lambda r: appointment(participant=r))))
def test_any_json_fails_cleanly_or_reads(codes, data):
    feed = Feed(codes, ZoneInfo("America/New_York"), now=NOW, notes=True)
    try:
        for row in appointment_rows([(data, "x.json")], feed):
            assert isinstance(row, (Row, Skipped, BadRow))
            if isinstance(row, BadRow):
                assert isinstance(row.error, DataError)
                assert row.error.message and "\n" not in row.error.message
    except DataError:
        pass  # the whole file is not a FHIR Appointment or Bundle


# FHIR XML --------------------------------------------------------------------------------------


def test_fhir_xml_is_read_like_json(codes):
    from pars_docs.read.fhir_xml import read_xml

    data = read_xml((DATA / "fhir" / "bundle-r4.xml").read_text(encoding="utf-8"), "b.xml")
    row = one(data, codes)
    assert isinstance(row, Row)
    values = row.values
    assert values["patient"] == "Peter James Chalmers"
    assert values["clinician"] == "Dr Adam Careful"
    assert (values["mrn"], values["dob"]) == ("MRN-123", "1974-12")
    assert (values["date"], values["time"]) == ("2030-12-03", "09:00")
    assert values["visit_id"] == "Appointment/example"
    assert row.revision == 16245240  # meta.lastUpdated 2030-11-20T10:00Z, minutes since 2000


def test_fhir_xml_through_the_command_line(runner, tmp_path):
    out = tmp_path / "h.pdf"
    result = runner.invoke(
        cli,
        ["make", "--fhir", str(DATA / "fhir" / "bundle-r4.xml"), "--site", str(SITE)]
        + ["-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    text = squash(pdf_text(out))
    assert "Patient Peter James Chalmers" in text and "Date of birth December 1974" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('<Bundle xmlns="http://hl7.org/fhir"><entry>', "not well-formed XML"),
        ("<note><to>x</to></note>", "this is XML; pars-docs reads CSV"),
    ],
)
def test_broken_or_foreign_xml_is_refused(runner, tmp_path, text, message):
    path = tmp_path / "in.xml"
    path.write_text(text)
    result = runner.invoke(
        cli, ["batch", str(path), "--site", str(SITE), "--out-dir", str(tmp_path / "o")]
    )
    assert result.exit_code == 1 and message in result.output


def test_a_csv_row_reports_all_its_problems_at_once(runner, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(
        "procedure,patient,date,time,clinician,dob\n"
        "pars-defect-injection,Ana,2030-02-30,25:00,Dr. Lee,1980-13-01\n"
    )
    result = runner.invoke(
        cli,
        ["batch", str(path), "--site", str(SITE), "--out-dir", str(tmp_path / "o"), "--verbose"],
    )
    assert result.exit_code == 1
    assert (
        "row 2: date: '2030-02-30' is not a real date (February 2030 has 28 days); "
        "dob: '1980-13-01' has no month 13; time: '25:00' is not a time of day" in result.output
    )
