"""The desk web application through Flask's test client: errors beside their fields with the
command line's messages, uploads, and the safety rules (CSRF, Host, size, headers, logs, disk).
The same pages in a real browser: test_web_browser.py."""

import io
import json
import logging
import re
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import DATA, pdf_text, squash, start_desk
from pypdf import PdfReader

from pars_docs import load_site
from pars_docs.cli import cli
from pars_docs.errors import UsageError
from pars_docs.load.library import Library
from pars_docs.web import security
from pars_docs.web.server import build

BASE = "http://127.0.0.1:8765"
GOOD = {
    "procedure": "pars-defect-injection",
    "patient": "Ana Díaz",
    "date": "2026-12-03",
    "time": "08:00",
    "clinician": "Dr. Sam Lee",
    "mrn": "A-77",
}


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("serve")


@pytest.fixture(scope="module")
def app(work_dir):
    return build(load_site(DATA / "site-ny.yaml"), "127.0.0.1", 8765, None, work_dir, warm=False)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_of(client, path="/"):
    page = client.get(path, base_url=BASE).text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def post(client, path, data, **kw):
    data = {"csrf": csrf_of(client), **data}
    return client.post(path, base_url=BASE, data=data, **kw)


def errors_of(html: str) -> dict[str, str]:
    """{field id: its error text}, read from the markup beside each field."""
    found = re.findall(
        r'<p class="error" id="([\w-]+)-error">(?:<span[^>]*>[^<]*</span>)?(.*?)</p>', html
    )
    return {name: text.replace("&#39;", "'").replace("&lt;", "<") for name, text in found}


def cli_error(runner, *args) -> str:
    # --verbose: the message as a person at a terminal reads it, values included
    result = runner.invoke(cli, ["make", *args, "--verbose", "-o", "-"])
    assert result.exit_code != 0
    return result.output.strip().splitlines()[-1].removeprefix("pars-docs: error: ")


def test_a_handout_is_made_and_previewed(client):
    response = post(client, "/handout", {**GOOD, "medication": ["Eliquis", ""], "sedation": "yes"})
    assert response.status_code == 303
    preview = response.headers["Location"]
    assert "Ana" not in preview and "2026" not in preview  # no patient value in a URL
    page = client.get(preview, base_url=BASE).text
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) >= 2
    image = client.get(images[0], base_url=BASE)
    assert image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")
    pdf = client.get(preview + "/handout.pdf", base_url=BASE)
    assert pdf.headers["Content-Disposition"].startswith("attachment;")
    assert pdf.headers["Cache-Control"] == "no-store"
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    inline = client.get(preview + "/handout.pdf?view=1", base_url=BASE)
    assert inline.headers["Content-Disposition"].startswith("inline;")
    assert "pars-defect-injection-2026-12-03-0800.pdf" in pdf.headers["Content-Disposition"]
    text = squash(pdf_text(pdf.data))
    assert "Ana Díaz" in text and "Eliquis" in text and "December 3" in text


def test_the_preview_is_the_same_pdf_the_cli_makes(client, make, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")
    response = post(client, "/handout", {**GOOD, "time": "8:00 AM", "mrn": ""})
    made = client.get(response.headers["Location"] + "/handout.pdf", base_url=BASE).data
    result, out = make()
    assert result.exit_code == 0, result.output
    assert made == out.read_bytes()


# Words of the command line that no page may show (issue 23: in a nurse's words).
COMMAND_WORDS = re.compile(r"--[a-z]|YYYY|\.yaml|pars-docs [a-z]|strftime|%[dmYHM]|^[a-z_]+: ")


def test_every_error_at_once_beside_its_field_in_a_nurses_words(client):
    """An empty name, the hour the clocks skip and an unknown medicine: one round, not
    three; each beside its field; none in the command line's words."""
    form = {
        **GOOD,
        "patient": "",
        "date": "2027-03-14",
        "time": "02:30",
        "dob": "1990-13-01",
        "medication": ["Eliquis", "Elikwis", "lisinopril"],
    }
    response = post(client, "/handout", form)
    assert response.status_code == 422
    errors = errors_of(response.text)
    assert errors == {
        "patient": "Type the patient’s name.",
        "dob": "There is no month 13; check the date.",
        "time": "2:30 AM does not happen on March 14: the clocks go forward an hour that "
        "night. Choose another time.",
        "medication-2": "We do not know the medicine “Elikwis”.",
        "medication-3": "We do not know the medicine “lisinopril”.",
    }
    # The focus goes to the first, in the form's order.
    assert 'data-first-error="patient"' in response.text
    # Beside the unknown one: the closest names to fix the spelling, or "Ask us about".
    assert 'data-name="Eliquis" aria-label="Use Eliquis in medicine box 2"' in response.text
    assert 'name="ask" value="lisinopril"> Or print “Ask us about lisinopril”' in response.text
    # The form keeps what was typed, and marks the fields.
    assert 'value="Elikwis"' in response.text and 'value="A-77"' in response.text
    assert 'id="date" name="date" type="date" value="2027-03-14" aria-required="true"' in (
        response.text
    )
    assert 'aria-invalid="true" aria-describedby="medication-2-error"' in response.text
    for message in errors.values():
        assert not COMMAND_WORDS.search(message), message


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"procedure": ""}, "procedure", "Choose the procedure."),
        ({"procedure": "x"}, "procedure", "This is not one of the clinic’s procedures"),
        ({"date": ""}, "date", "Choose the date of the procedure."),
        ({"date": "12/03/2026"}, "date", "Type the date as month/day/year, or choose it"),
        ({"date": "2026-02-30"}, "date", "That date does not exist (February 2026 has 28 days)"),
        ({"date": "1700-12-03"}, "date", "The year 1700 cannot be right; check the date."),
        ({"date": "2025-12-03"}, "date", "This appointment is already over."),
        ({"time": "25:00"}, "time", "Type the time as 8:30 AM, or choose it with the clock"),
        ({"dob": "abc"}, "dob", "Type the date of birth as year-month-day (1961-04-02)"),
        ({"clinician": " "}, "clinician", "Type the clinician’s name"),
        ({"note": "a" * 1001}, "note", "This is 1001 characters; shorten it to 1000."),
        ({"patient": "Ana\x07"}, "patient", "Remove the invisible character (U+0007)"),
    ],
)
def test_no_command_line_words_in_any_message(client, changes, field, message):
    errors = errors_of(post(client, "/handout", {**GOOD, **changes}).text)
    assert errors[field].startswith(message), errors
    assert not COMMAND_WORDS.search(errors[field]), errors[field]


def test_an_unknown_medicine_is_asked_about_or_its_spelling_fixed(client):
    """The nurse ticks "Ask us about lisinopril" and fixes Elikwis: the handout is made, and
    asks the patient to call about lisinopril."""
    form = {**GOOD, "medication": ["Eliquis", "lisinopril"], "ask": "lisinopril"}
    response = post(client, "/handout", form)
    assert response.status_code == 303, errors_of(response.text)
    location = response.headers["Location"]
    page = client.get(location, base_url=BASE).text
    assert "unknown medicine &#39;lisinopril&#39;. The handout asks the patient to call" in page
    text = squash(pdf_text(client.get(location + "/handout.pdf", base_url=BASE).data))
    assert "lisinopril" in text and "Eliquis" in text
    # Changing the details keeps the choice.
    again = client.get("/?from=" + location.rsplit("/", 1)[1], base_url=BASE).text
    assert '<input type="hidden" name="ask" value="lisinopril">' in again
    # Without the tick it is not made.
    refused = post(client, "/handout", {**form, "ask": ""})
    assert refused.status_code == 422


def test_reprint_makes_a_handout_for_an_appointment_already_over(client):
    response = post(client, "/handout", {**GOOD, "date": "2025-12-03", "reprint": "yes"})
    assert response.status_code == 303
    pdf = client.get(response.headers["Location"] + "/handout.pdf", base_url=BASE).data
    assert "Reprint made on" in squash(pdf_text(pdf))


def test_a_fixed_sedation_refused_like_the_cli(client):
    form = {**GOOD, "procedure": "pars-defect-decompression", "sedation": "no"}
    errors = errors_of(post(client, "/handout", form).text)
    assert errors["sedation"].startswith("This procedure is always done with sedation")


def test_the_form_offers_what_make_offers(client):
    page = client.get("/", base_url=BASE).text
    # Procedures by title; sedation offered only where the set lets it be chosen.
    assert re.search(r'value="pars-defect-injection" data-sedation-choice="yes"', page)
    assert re.search(r'value="pars-defect-decompression" data-sedation-choice="no"', page)
    assert ">Pars defect injection</option>" in page
    for name in ("Eliquis", "apixaban", "Advil", "warfarin"):
        assert f'<option value="{name}">' in page
    assert "America/New_York" in page  # the site's zone is shown beside the time
    assert 'type="date"' in page and 'type="time"' in page
    assert "Riverside Spine &amp; Pain &lt;Center&gt;" in page  # escaped


def test_a_site_clinician_list_is_offered(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text() + "clinicians: [Dr. Sam Lee, Dr. Ann Ortiz]\n"
    )
    app = build(load_site(site), "127.0.0.1", 8765, None, tmp_path, warm=False)
    page = app.test_client().get("/", base_url=BASE).text
    assert 'list="clinician-names"' in page
    assert '<option value="Dr. Ann Ortiz">' in page


def test_post_without_the_csrf_token_is_refused(client):
    response = client.post("/packet", base_url=BASE, data=GOOD)
    assert response.status_code == 400
    assert "out of date" in response.text
    stolen = {**GOOD, "csrf": "guessed"}
    assert client.post("/packet", base_url=BASE, data=stolen).status_code == 400


def test_the_handout_form_with_an_old_token_comes_back_as_a_fresh_form(client):
    """After a restart or a lost cookie, the handout form is not made from an old token: it
    comes back as a fresh form (with this session's token), which the page fills in again
    from what it kept in the browser; nothing typed is sent back by the server."""
    for data in (GOOD, {**GOOD, "csrf": "guessed"}):
        response = client.post("/handout", base_url=BASE, data=data)
        assert response.status_code == 303
        assert response.headers["Location"] == "/?restore=1"
    page = client.get("/?restore=1", base_url=BASE).text
    assert 'id="kept-note"' in page and "data-restore" in page
    assert "Ana Díaz" not in page
    assert 'id="kept-note"' not in client.get("/", base_url=BASE).text
    # The fresh token makes the handout.
    response = client.post("/handout", base_url=BASE, data={**GOOD, "csrf": csrf_of(client)})
    assert response.status_code == 303 and response.headers["Location"].startswith("/handout/")


def test_a_cross_site_origin_is_refused(client):
    data = {**GOOD, "csrf": csrf_of(client)}
    headers = {"Origin": "http://evil.example"}
    response = client.post("/handout", base_url=BASE, data=data, headers=headers)
    assert response.status_code == 403


def test_only_loopback_host_names_are_answered(client):
    assert client.get("/", base_url="http://attacker.example:8765").status_code == 400
    assert client.get("/", base_url="http://localhost:8765").status_code == 200


def test_every_response_carries_the_safety_headers(client):
    for path in ("/", "/packet", "/no-such-page", "/static/desk.css"):
        response = client.get(path, base_url=BASE)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_use_no_third_party_assets(client):
    page = client.get("/", base_url=BASE).text + client.get("/packet", base_url=BASE).text
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<script>" not in page and " style=" not in page and " on" + "click=" not in page


@pytest.mark.parametrize(
    "path",
    [
        "/static/../setup.cfg",
        "/static/%2e%2e/desk.py",
        "/static/..%2fdesk.py",
        "/handout/../../etc/passwd",
        "/packet/x/..%2f..%2fmanifest.csv",
        "/packet/nope/packet.pdf",
        "/handout/nope/page-1.png",
    ],
)
def test_path_tricks_find_nothing(client, path):
    response = client.get(path, base_url=BASE)
    assert response.status_code in (400, 404)
    assert b"[metadata]" not in response.data and b"import" not in response.data


def test_no_patient_value_in_the_log(client, caplog):
    caplog.set_level(logging.DEBUG)
    response = post(client, "/handout", {**GOOD, "patient": "Zebulon Quartz", "date": "bad"})
    assert response.status_code == 422
    post(client, "/handout", {**GOOD, "patient": "Zebulon Quartz"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /handout 422" in logged
    assert "Zebulon" not in logged and "2026-12-03" not in logged and "A-77" not in logged


def upload(client, content: bytes, name="list.csv", **fields):
    data = {"csrf": csrf_of(client, "/packet"), "input": (io.BytesIO(content), name), **fields}
    return client.post("/packet", base_url=BASE, data=data, content_type="multipart/form-data")


def wait(client, location):
    import time

    for _ in range(600):
        status = client.get(location + "/status", base_url=BASE).json
        if status["state"] not in ("running", "packing"):
            return status
        time.sleep(0.1)
    raise AssertionError("the packet did not finish")


def test_a_packet_with_a_bad_row(client, work_dir):
    csv = (DATA / "batch" / "appointments.csv").read_bytes()
    csv += b"pars-defect-injection,Bad Row,2026-13-01,9:00,Dr. X,Z9,,,\n"
    response = upload(client, csv, duplex="yes", index="yes")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert wait(client, location)["state"] == "done"
    page = client.get(location, base_url=BASE).text
    assert "1 row FAILED" in page
    assert re.search(r'<tr id="row-5" class="status-failed">', page)
    assert "date: &#39;…&#39; has no month 13" in page
    packet = client.get(location + "/packet.pdf", base_url=BASE).data
    text = squash(pdf_text(packet))
    assert "Ana Díaz" in text and "Zoë Ødegård" in text
    # The bad row has no handout: the index lists it, with why, and nothing else names it.
    assert text.count("Bad Row") == 1
    assert "Rows with no handout of their own Row Patient Status Why 5 Bad Row Not made" in text
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(location + "/handouts.zip", base_url=BASE).data)
    )
    assert len(archive.namelist()) == 3
    manifest = client.get(location + "/manifest.csv", base_url=BASE).data.decode()
    assert manifest.splitlines()[0].startswith("row,status,output")
    assert "\n5,failed,," in manifest
    assert str(work_dir) not in manifest  # outputs name the files, not the server's folder
    assert list(work_dir.iterdir()) == []  # the run's folder is gone once it is read


@pytest.mark.parametrize(
    "content, name, field, expected",
    [
        (b"", "empty.csv", "input", "INPUT: choose a file to upload"),
        # Not UTF-8: read as Windows text, in which it holds no columns.
        (b"\xff\xfe\x00garbage", "list.csv", "input", "list.csv: no column for procedure"),
        (b"a,b\n1,2\n", "list.csv", "input", "list.csv: no column for procedure"),
        (b"[{", "list.json", "input", "list.json"),
        (b'{"resourceType": "Bundle", "entry": 3}', "b.json", "input", "b.json"),
    ],
)
def test_a_bad_upload_is_a_message_on_the_page(client, work_dir, content, name, field, expected):
    response = upload(client, content, name)
    assert response.status_code == 422
    assert "Traceback" not in response.text
    (shown,) = errors_of(response.text).items()  # one message, beside its field
    assert shown[0] == field and shown[1].startswith(expected), shown
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', response.text)
    assert str(work_dir) not in response.text
    assert list(work_dir.iterdir()) == []


def cli_batch_error(runner, tmp_path, listing: bytes, *args) -> str:
    path = tmp_path / "list.csv"
    path.write_bytes(listing)
    result = runner.invoke(
        cli,
        ["batch", str(path), "--site", str(DATA / "site-ny.yaml"), "--out-dir", str(tmp_path)]
        + [*args, "--verbose"],
    )
    assert result.exit_code == 2, result.output
    return result.output.strip().splitlines()[-1].removeprefix("pars-docs: error: ")


@pytest.mark.parametrize(
    ("fields", "map_file", "cli_args", "field"),
    [
        ({"columns": "patient"}, None, ["--column", "patient"], "columns"),
        ({"columns": "pt=Name"}, None, ["--column", "pt=Name"], "columns"),
        ({}, b"pt: Name\n", ["--map", "{map}"], "map"),
    ],
)
def test_an_upload_error_is_beside_its_field_without_command_words(
    client, runner, tmp_path, work_dir, fields, map_file, cli_args, field
):
    """The command line's message for the same mistake, with each option named as the field
    the upload form shows it in (issue 23: no command-line words on any page)."""
    from pars_docs.web.routes.packets import packet_words

    listing = (DATA / "batch" / "appointments.csv").read_bytes()
    if map_file is not None:
        (tmp_path / "map.yaml").write_bytes(map_file)
        fields = {**fields, "map": (io.BytesIO(map_file), "map.yaml")}
    cli_args = [a.replace("{map}", str(tmp_path / "map.yaml")) for a in cli_args]
    expected = cli_batch_error(runner, tmp_path, listing, *cli_args)
    response = upload(client, listing, **fields)
    assert response.status_code == 422
    shown = errors_of(response.text)
    expected = packet_words(expected.replace(str(tmp_path / "map.yaml"), "the mapping file"))
    assert shown == {field: expected.replace("'", "&#39;").replace("&#39;", "'")}
    assert "--" not in shown[field]
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', response.text)
    assert f'data-first-error="{field}"' in response.text
    # What was typed is kept.
    for value in fields.values():
        if isinstance(value, str):
            assert f">{value}<" in response.text or f'value="{value}"' in response.text
    assert list(work_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"date_format": "mm/dd/yyyy"}, "date_format", "Choose the date format from the list."),
        ({"encoding": "klingon"}, "encoding", "Choose the text encoding from the list."),
    ],
)
def test_dates_and_encodings_are_chosen_from_examples(client, fields, field, message):
    page = client.get("/packet", base_url=BASE).text
    assert '<option value="%m/%d/%Y">12/03/2026 (month first)</option>' in page
    assert '<option value="%d/%m/%Y">03/12/2026 (day first)</option>' in page
    assert '<option value="cp1252">Excel on Windows</option>' in page
    assert "%m" not in re.sub(r'value="[^"]*"', "", page)  # no strftime pattern is shown
    listing = (DATA / "batch" / "appointments.csv").read_bytes()
    assert errors_of(upload(client, listing, **fields).text) == {field: message}


def test_a_list_saved_from_excel_on_windows_is_read_as_windows_text(client):
    listing = (DATA / "batch" / "appointments.csv").read_text(encoding="utf-8")
    response = upload(client, listing.encode("cp1252"))
    assert response.status_code == 303
    location = response.headers["Location"]
    assert wait(client, location)["state"] == "done"
    text = squash(pdf_text(client.get(location + "/packet.pdf", base_url=BASE).data))
    assert "Ana Díaz" in text and "Zoë Ødegård" in text


def test_the_upload_form_says_which_options_are_for_fhir_and_hl7(client):
    page = client.get("/packet", base_url=BASE).text
    assert "For FHIR and HL7 v2 lists only" in page
    assert 'id="timezone"' in page and 'name="include_past"' in page
    assert "Empty: the clinic’s, America/New_York." in page
    assert "HL7 v2 SIU messages" in page and ".hl7" in page


FEED_TIME = "2030-12-03T14:00:00Z"  # 9:00 AM in New York, 8:00 AM in Chicago


def fhir_list(*starts: str) -> bytes:
    appointments = [
        {
            "resourceType": "Appointment",
            "id": f"a{number}",
            "status": "booked",
            "start": start,
            "serviceType": [
                {"coding": [{"system": "urn:pars-docs:procedure", "code": "pars-defect-injection"}]}
            ],
            "participant": [
                {"actor": {"reference": "Patient/p1", "display": f"Ana Díaz {number}"}},
                {"actor": {"reference": "Practitioner/d1", "display": "Dr. Sam Lee"}},
            ],
        }
        for number, start in enumerate(starts, 1)
    ]
    bundle = {"resourceType": "Bundle", "type": "collection"}
    bundle["entry"] = [{"resource": a} for a in appointments]
    return json.dumps(bundle).encode()


def test_a_fhir_upload_without_a_site_profile_needs_a_time_zone(tmp_path, monkeypatch):
    monkeypatch.delenv("PARS_DOCS_SITE", raising=False)
    app = build(load_site(), "127.0.0.1", 8765, None, tmp_path, warm=False)
    client = app.test_client()
    page = client.get("/packet", base_url=BASE).text
    assert "Needed: no site profile names it." in page
    listing = fhir_list(FEED_TIME, "2020-01-06T14:00:00Z")
    response = upload(client, listing, name="tomorrow.json")
    assert response.status_code == 422
    shown = errors_of(response.text)
    assert list(shown) == ["timezone"]
    assert shown["timezone"].startswith(
        "A FHIR list's times are instants, and without a site profile the handouts "
        "would print them on this computer's clock"
    )
    assert shown["timezone"].endswith("or start the desk with a site profile")
    assert 'data-first-error="timezone"' in response.text
    response = upload(client, listing, name="tomorrow.json", timezone="Mars/Olympus")
    assert errors_of(response.text) == {
        "timezone": "Unknown time zone 'Mars/Olympus' (use an IANA name such as America/Chicago)"
    }
    # A list of clock times needs no zone.
    csv = (DATA / "batch" / "appointments.csv").read_bytes()
    assert upload(client, csv).status_code == 303
    response = upload(client, listing, name="tomorrow.json", timezone="America/Chicago")
    assert response.status_code == 303, errors_of(response.text)
    location = response.headers["Location"]
    assert wait(client, location)["state"] == "done"
    page = client.get(location, base_url=BASE).text
    assert "2 rows: 1 made, 0 failed, 1 skipped." in page
    assert "the appointment start has passed; --include-past reprints it" in page
    packet = squash(pdf_text(client.get(location + "/packet.pdf", base_url=BASE).data))
    assert "Start time 8:00 AM" in packet  # on Chicago's clock
    # Reprints: the past appointment too.
    response = upload(
        client, listing, name="tomorrow.json", timezone="America/Chicago", include_past="yes"
    )
    location = response.headers["Location"]
    assert wait(client, location)["state"] == "done"
    assert "2 rows: 2 made, 0 failed." in client.get(location, base_url=BASE).text
    app.extensions["pars_docs"]["packets"].stop_all()
    assert list(tmp_path.iterdir()) == []


def test_an_hl7_upload_makes_the_newest_message_of_a_booking(client, work_dir):
    from pars_docs.read.hl7v2 import split_messages

    text = (DATA / "hl7" / "mllp-batch.hl7").read_text(encoding="utf-8")
    booked, moved = split_messages(text)[:2]
    # The site's code map has no local codes: the booking's code is given as the set's id.
    coded = [
        message.replace("PDI^", "pars-defect-injection^").replace(
            "^L|", "^urn:pars-docs:procedure|"
        )
        for message in (booked, moved)
    ]
    listing = "\r\n".join(coded).encode()
    response = upload(client, listing, name="feed.hl7")
    assert response.status_code == 303, errors_of(response.text)
    location = response.headers["Location"]
    assert wait(client, location)["state"] == "done"
    page = client.get(location, base_url=BASE).text
    assert "2 rows: 1 made, 0 failed, 1 superseded by a later change." in page
    assert re.search(r'<tr id="row-1" class="status-superseded">', page)
    assert "superseded by row 2, a later revision of the same booking" in page


def test_an_upload_over_the_limit_is_refused_with_a_page(client):
    response = upload(client, b"x" * (11 * 1024 * 1024))
    assert response.status_code == 413
    assert "The file is too large: the limit is 10 MB" in response.text


def test_beyond_loopback_a_token_is_required(tmp_path, monkeypatch):
    site = load_site(DATA / "site-ny.yaml")
    with pytest.raises(UsageError, match="PARS_DOCS_TOKEN"):
        build(site, "0.0.0.0", 8765, None, tmp_path, warm=False)
    app = build(site, "0.0.0.0", 8765, "correct horse battery", tmp_path, warm=False)
    client = app.test_client()
    assert client.get("/", base_url="http://10.1.2.3:8765").status_code == 302
    csrf = csrf_of(client, "/login")
    wrong = client.post("/login", base_url=BASE, data={"csrf": csrf, "token": "guess"})
    assert wrong.status_code == 401
    right = client.post(
        "/login", base_url=BASE, data={"csrf": csrf, "token": "correct horse battery"}
    )
    assert right.status_code == 303
    assert client.get("/", base_url=BASE).status_code == 200


def test_the_token_comes_from_a_file_or_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(security.TOKEN_ENV, raising=False)
    assert security.read_token(None) is None
    monkeypatch.setenv(security.TOKEN_ENV, "from the environment")
    assert security.read_token(None) == "from the environment"
    token = tmp_path / "token"
    token.write_text("from a file, long enough\n")
    assert security.read_token(str(token)) == "from a file, long enough"
    token.write_text("short")
    with pytest.raises(UsageError, match="at least 12 characters"):
        security.read_token(str(token))


def test_serve_refuses_another_address_without_a_token(runner, monkeypatch):
    monkeypatch.delenv(security.TOKEN_ENV, raising=False)
    result = runner.invoke(
        cli, ["serve", "--host", "0.0.0.0", "--site", str(DATA / "site-ny.yaml")]
    )
    assert result.exit_code == 2
    assert "--host 0.0.0.0: other computers could reach the page" in result.output
    assert "Traceback" not in result.output


def test_serve_has_no_token_option_on_the_command_line(runner):
    result = runner.invoke(cli, ["serve", "--help"])
    assert "--token-file" in result.output
    assert "--token " not in result.output and "--password" not in result.output


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_cleanly_and_leaves_nothing(tmp_path):
    process, _ = start_desk(tmp_path)
    assert [p.name[:16] for p in tmp_path.iterdir()] == ["pars-docs-serve-"]
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=30)[1]
    assert process.returncode == 0
    assert "stopping" in rest and "Traceback" not in rest
    assert list(tmp_path.iterdir()) == []


def test_the_serve_command_imports_flask_only_when_run():
    code = "import sys, pars_docs.cli; print('flask' in sys.modules, 'waitress' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_a_file_under_the_work_dir_never_names_the_upload(client, work_dir):
    seen = []
    original = Path.write_bytes

    def spy(self, data):
        seen.append(self)
        return original(self, data)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "write_bytes", spy)
        response = upload(
            client, (DATA / "batch" / "appointments.csv").read_bytes(), "Ana Diaz.csv"
        )
    wait(client, response.headers["Location"])
    assert seen and all("Ana" not in str(p) for p in seen)
    assert all(str(p).startswith(str(work_dir)) for p in seen)


@pytest.mark.slow
def test_progress_is_shown_while_a_packet_runs(client, work_dir):
    lines = ["procedure,patient,date,time,clinician,mrn"]
    lines += [
        f"pars-defect-injection,Patient {i},2026-12-{1 + i % 28:02d},{7 + i % 9}:00,Dr. Lee,M{i}"
        for i in range(80)
    ]
    response = upload(client, "\n".join(lines).encode())
    location = response.headers["Location"]
    page = client.get(location, base_url=BASE).text
    assert '<progress id="progress" max="80"' in page
    assert "Making handouts:" in page and "of 80 rows" in page
    folders = list(work_dir.iterdir())
    assert len(folders) == 1 and folders[0].stat().st_mode & 0o077 == 0  # private while it runs
    status = client.get(location + "/status", base_url=BASE).json
    assert status["total"] == 80 and status["state"] in ("running", "packing")
    assert wait(client, location)["state"] == "done"
    assert "80 rows: 80 made, 0 failed" in client.get(location, base_url=BASE).text
    assert list(work_dir.iterdir()) == []


def test_stopping_the_server_mid_run_leaves_nothing(tmp_path):
    app = build(load_site(DATA / "site-ny.yaml"), "127.0.0.1", 8765, None, tmp_path, warm=False)
    client = app.test_client()
    lines = ["procedure,patient,date,time,clinician"]
    lines += [
        f"pars-defect-injection,Patient {i},2026-12-03,{7 + i % 9}:00,Dr. Lee" for i in range(300)
    ]
    location = upload(client, "\n".join(lines).encode()).headers["Location"]
    packets = app.extensions["pars_docs"]["packets"]
    job = packets.get(location.rsplit("/", 1)[1])
    assert job.process.is_alive() and list(tmp_path.iterdir())
    packets.stop_all()
    assert not job.process.is_alive()
    assert list(tmp_path.iterdir()) == []
    assert client.get(location, base_url=BASE).status_code == 404


def test_hostile_text_is_shown_not_run(client):
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    page = post(client, "/handout", {**GOOD, "patient": hostile, "date": "bad"}).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    response = upload(client, b"a,b\n1,2\n", name="<img src=x onerror=alert(2)>.csv")
    assert "<img src=x" not in response.text and "&lt;img src=x" in response.text


def test_at_most_two_packets_run_at_once(tmp_path):
    app = build(load_site(DATA / "site-ny.yaml"), "127.0.0.1", 8765, None, tmp_path, warm=False)
    client = app.test_client()
    lines = ["procedure,patient,date,time,clinician"]
    lines += [f"pars-defect-injection,P {i},2026-12-03,{7 + i % 9}:00,Dr. Lee" for i in range(200)]
    listing = "\n".join(lines).encode()
    try:
        assert upload(client, listing).status_code == 303
        assert upload(client, listing).status_code == 303
        third = upload(client, listing)
        assert third.status_code == 422
        assert "2 packets are being made already" in third.text
    finally:
        app.extensions["pars_docs"]["packets"].stop_all()
    assert list(tmp_path.iterdir()) == []


def test_what_staff_should_check_is_shown_over_the_preview(client):
    # "Now" is 2026-01-01 (conftest): Eliquis should have been stopped days before the 2nd.
    response = post(client, "/handout", {**GOOD, "date": "2026-01-02", "medication": "Eliquis"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"], base_url=BASE).text
    assert 'id="warnings"' in page and "Check before printing" in page
    assert "too late to stop Eliquis on time" in page
    calm = post(client, "/handout", GOOD)
    assert 'id="warnings"' not in client.get(calm.headers["Location"], base_url=BASE).text


def test_the_other_renditions_of_a_made_handout(client):
    location = post(client, "/handout", GOOD).headers["Location"]
    text = client.get(location + "/handout.txt", base_url=BASE)
    assert text.mimetype == "text/plain" and "Ana Díaz" in text.text
    assert (
        'filename="pars-defect-injection-2026-12-03-0800.txt"'
        in (text.headers["Content-Disposition"])
    )
    calendar = client.get(location + "/handout.ics", base_url=BASE)
    assert calendar.data.startswith(b"BEGIN:VCALENDAR")
    assert client.get(location + "/handout.json", base_url=BASE).json
    assert client.get(location + "/handout.exe", base_url=BASE).status_code == 404


def test_the_language_is_chosen_from_the_librarys_languages(client, tmp_path):
    page = client.get("/", base_url=BASE).text
    select = re.search(r'<select id="language" name="language"[^>]*>(.*?)</select>', page, re.S)
    assert select, "the language is a select, not a box to type a code in"
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1))
    # The clinic's default first (empty: the handout takes the site's language), then each.
    named = [(value, name) for value, _, name in options]
    assert named[0] == ("", "The clinic’s (English)")
    # Then every language a set can be printed in; the built-in translations are drafts,
    # and the list says so (issue 21).
    assert [value for value, _ in named[1:]] == Library().all_languages()
    assert ("en", "English") in named
    assert ("es", "Spanish (español): draft") in named
    assert ("vi", "Vietnamese (Tiếng Việt): draft") in named
    assert ("ru", "Russian (русский): draft") in named
    assert ("pt", "Portuguese (português): draft") in named
    assert ("fr", "French (français): draft") in named
    assert ("ht", "Haitian Creole (kreyòl ayisyen): draft") in named
    # The language as tagged, named in its own words as its page words give it: not the
    # locale Babel picks for the tag ("Filipino (Philippines)"), and no nested brackets.
    assert ("tl", "Tagalog: draft") in named
    assert ("zh-Hans", "Simplified Chinese (简体中文): draft") in named
    assert ("zh-Hant", "Traditional Chinese (繁體中文): draft") in named
    assert all(name.endswith(": draft") for value, name in named[1:] if value != "en")
    assert options[0][1] == " selected"
    # Chosen and sent back after an error elsewhere, the choice stays.
    page = post(client, "/handout", {**GOOD, "date": "2026-02-30", "language": "vi"}).text
    assert '<option value="vi" selected>' in page
    # A site whose default is Spanish names it as the clinic's.
    site = tmp_path / "site.yaml"
    site.write_text((DATA / "site-ny.yaml").read_text().replace("language: en", "language: es-US"))
    app = build(load_site(site), "127.0.0.1", 8765, None, tmp_path, warm=False)
    page = app.test_client().get("/", base_url=BASE).text
    assert '<option value="" selected>The clinic’s (Spanish: draft)</option>' in page
    assert "The clinic’s (Letter)" in page  # the paper, named as its own option is


def test_the_desk_makes_a_handout_in_the_patients_language(client):
    response = post(client, "/handout", {**GOOD, "language": "es-US"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"], base_url=BASE).text
    assert 'id="warnings"' in page and "the es translation is a draft, not reviewed" in page
    pdf = client.get(response.headers["Location"] + "/handout.pdf", base_url=BASE)
    assert "Inyección para un defecto de la pars" in squash(pdf_text(pdf.data))
    errors = errors_of(post(client, "/handout", {**GOOD, "language": "de"}).text)
    available = ", ".join(Library().languages("pars-defect-injection"))
    assert errors["language"].endswith(f"available: {available}")


def smallest_type(pdf: bytes) -> float:
    """The smallest type size on page 1, above the footer."""
    found: list[float] = []

    def visit(text, cm, tm, font, size):
        if text.strip() and tm[5] + cm[5] > 60:
            found.append(size * tm[0])

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return min(found)


def test_the_desk_prints_large_print_when_its_box_is_ticked(client):
    page = client.get("/", base_url=BASE).text
    assert 'name="large_print" value="yes"' in page
    assert 'name="large_print" value="yes" checked' not in page  # the site's default: regular
    sizes = {}
    for ticked in (False, True):
        data = {**GOOD, "large_print": "yes"} if ticked else dict(GOOD)
        response = post(client, "/handout", data)
        assert response.status_code == 303
        pdf = client.get(response.headers["Location"] + "/handout.pdf", base_url=BASE).data
        sizes[ticked] = smallest_type(pdf)
    assert sizes == {False: 12, True: 18}


def test_a_declared_option_has_a_box_with_the_sets_label_and_reaches_the_handout(tmp_path):
    folder = DATA / "format2"
    site = tmp_path / "site.yaml"
    site.write_text((DATA / "site-ny.yaml").read_text() + f"\ninstructions_dir: {folder}\n")
    client = build(load_site(site), "127.0.0.1", 8765, None, tmp_path, warm=False).test_client()
    page = client.get("/", base_url=BASE).text
    # The box's words are the set's `label` for the option, not the option's name.
    box = r'<input type="checkbox" name="option-trial-sample" value="diabetic"> Has diabetes'
    assert re.search(box, page)
    visit = {**GOOD, "procedure": "trial-sample", "date": "2027-03-10", "time": "9:00"}
    sugar = "Check your blood sugar"
    texts = []
    for ticked in (["", "diabetic"], [""]):
        response = post(client, "/handout", {**visit, "option-trial-sample": ticked})
        assert response.status_code == 303, errors_of(response.text)
        pdf = client.get(response.headers["Location"] + "/handout.pdf", base_url=BASE).data
        texts.append(squash(pdf_text(pdf)))
    assert sugar in texts[0] and sugar not in texts[1]


def test_an_uploaded_list_sets_a_declared_option_by_its_column(tmp_path):
    """A packet list may carry a column named like one of its set's options (yes/no): the
    desk's upload goes through the batch's rows, so the handout follows it, and a bad value
    fails only that row, naming the column."""
    folder = DATA / "format2"
    site = tmp_path / "site.yaml"
    site.write_text((DATA / "site-ny.yaml").read_text() + f"\ninstructions_dir: {folder}\n")
    client = build(load_site(site), "127.0.0.1", 8765, None, tmp_path, warm=False).test_client()
    rows = (
        b"procedure,patient,date,time,clinician,diabetic\n"
        b"trial-sample,Ana Diaz,2027-03-10,9:00,Dr. Lee,yes\n"
        b"trial-sample,Bo Smith,2027-03-10,10:00,Dr. Lee,\n"
        b"trial-sample,Cy Young,2027-03-10,11:00,Dr. Lee,maybe\n"
    )
    response = upload(client, rows)
    assert response.status_code == 303, response.text
    location = response.headers["Location"]
    assert wait(client, location)["state"] == "done"
    page = client.get(location, base_url=BASE).text
    assert "1 row FAILED" in page
    assert "diabetic: &#39;maybe&#39; is not yes or no" in page
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(location + "/handouts.zip", base_url=BASE).data)
    )
    texts = {name: squash(pdf_text(archive.read(name))) for name in sorted(archive.namelist())}
    assert len(texts) == 2
    sugar = [name for name, text in texts.items() if "Check your blood sugar" in text]
    assert sugar == ["handouts/2027-03-10_0900_trial-sample_row2.pdf"], list(texts)  # Ana
