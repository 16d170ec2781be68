"""The desk's day: today's list of handouts kept encrypted in a real SQLite file, reprints
(the same set version or the current one), "Change", sending a handout or a packet to a real
CUPS printer (cups-pdf), the code map on the upload page, and dated download names."""

import io
import re
import secrets
import time
from pathlib import Path

import pytest
from helpers import DATA, pdf_text, squash

from pars_docs import load_site
from pars_docs.audit import AuditTrail
from pars_docs.web.server import build

BASE = "http://127.0.0.1:8765"
GOOD = {
    "procedure": "pars-defect-injection",
    "patient": "Ana Moss",
    "date": "2030-12-03",
    "time": "08:00",
    "clinician": "Dr. Sam Lee",
    "mrn": "A-77",
}
QUEUE = "pars-docs-pdf"


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    (folder / "site.yaml").write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8")
        + "\naudit: audit.sqlite\ntoday: today.sqlite\ntoday_key: today.key\n"
        f"printers:\n  - queue: {QUEUE}\n    name: Front desk\n    duplex: true\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="module")
def app(site_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("serve")
    return build(load_site(site_dir / "site.yaml"), "127.0.0.1", 8765, None, work, warm=False)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_of(client, path="/"):
    page = client.get(path, base_url=BASE).text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def post(client, path, data, **kw):
    return client.post(path, base_url=BASE, data={"csrf": csrf_of(client), **data}, **kw)


def make(client, **changes):
    response = post(client, "/handout", {**GOOD, **changes})
    assert response.status_code == 303, response.text
    return response.headers["Location"]


def kept_ids(page: str) -> list[str]:
    return re.findall(r'action="/today/([\w-]+)/reprint"', page)


def test_the_days_handouts_are_listed_and_searchable(client, site_dir):
    make(client, patient="Li Wei", mrn="B-2417-X")
    make(client)
    page = client.get("/today", base_url=BASE).text
    assert "Today’s handouts" in page
    listed = re.findall(r'<th scope="row">([^<]+)</th>', page)
    assert listed[:2] == ["Ana Moss", "Li Wei"]  # newest first
    assert "Kept until the end of the day, locked with the clinic’s key" in page
    found = client.get("/today?q=b-2417", base_url=BASE).text
    assert re.findall(r'<th scope="row">([^<]+)</th>', found) == ["Li Wei"]
    none = client.get("/today?q=Nobody", base_url=BASE).text
    assert "No handout made today matches “Nobody”." in none
    # Encrypted at rest: no name, record number or PDF text in the file.
    raw = (site_dir / "today.sqlite").read_bytes()
    assert b"Li Wei" not in raw and b"B-2417-X" not in raw and b"%PDF" not in raw


def test_a_reprint_is_one_click_and_audited(client, site_dir):
    make(client, patient="Zoe Park", mrn="C-3")
    page = client.get("/today?q=C-3", base_url=BASE).text
    (kept,) = kept_ids(page)
    response = post(client, f"/today/{kept}/reprint", {})
    assert response.status_code == 303
    preview = response.headers["Location"]
    pdf = client.get(preview + "/handout.pdf", base_url=BASE).data
    assert "Zoe Park" in squash(pdf_text(pdf))
    entries = AuditTrail(site_dir / "audit.sqlite").entries()
    last = [e for e in entries if e.event == "handout-made"][-1]
    assert (last.event, last.detail, last.patient) == (
        "handout-made",
        "reprint, current version",
        "MRN C-3",
    )


def test_a_reprint_asks_which_version_when_the_set_changed(client, app, site_dir):
    make(client, patient="Old Version", mrn="D-4")
    today = app.extensions["pars_docs"]["today"]
    (kept,) = today.listed(None, "D-4")
    # As if it had been made from an earlier version of the set.
    shown = {**kept.shown, "version": "0.9.0"}
    old = today.add(kept.owner, kept.values, kept.pdf, shown)
    asked = post(client, f"/today/{old}/reprint", {})
    assert asked.status_code == 200
    assert "made from version 0.9.0" in asked.text and 'value="same"' in asked.text
    same = post(client, f"/today/{old}/reprint", {"version": "same"})
    assert same.status_code == 303
    location = same.headers["Location"]
    assert client.get(location + "/handout.pdf", base_url=BASE).data == kept.pdf
    preview = client.get(location, base_url=BASE).text
    assert "download-ics" not in preview  # the handout as printed: its PDF only
    entries = AuditTrail(site_dir / "audit.sqlite").entries()
    entry = [e for e in entries if e.event == "handout-made"][-1]
    assert (entry.detail, entry.set_version) == ("reprint, as printed before", "0.9.0")
    current = post(client, f"/today/{old}/reprint", {"version": "current"})
    assert current.status_code == 303


def test_change_opens_the_form_as_it_was_filled_in(client):
    make(client, patient="Ruth Lane", mrn="E-5", note="Bring your brace.")
    (kept,) = kept_ids(client.get("/today?q=E-5", base_url=BASE).text)
    form = client.get(f"/?kept={kept}", base_url=BASE).text
    assert 'value="Ruth Lane"' in form and "Bring your brace." in form
    assert client.get("/?kept=nothing-here", base_url=BASE).status_code == 404


def test_a_handout_kept_is_purged_after_the_retention_and_audited(app, site_dir):
    from datetime import datetime, timedelta, timezone

    today = app.extensions["pars_docs"]["today"]
    assert today.listed(None)
    removed = today.purge(datetime.now(timezone.utc) + timedelta(days=2))
    assert removed >= 1 and today.listed(None) == []
    last = AuditTrail(site_dir / "audit.sqlite").entries()[-1]
    assert last.event == "purged" and last.detail.startswith(f"{removed} kept handouts")


def test_without_a_list_in_the_site_there_is_no_todays_page(tmp_path):
    app = build(load_site(DATA / "site-ny.yaml"), "127.0.0.1", 8765, None, tmp_path, warm=False)
    client = app.test_client()
    assert "Today’s handouts" not in client.get("/", base_url=BASE).text
    assert client.get("/today", base_url=BASE).status_code == 404


def test_a_list_without_its_key_is_refused_at_start(tmp_path):
    from pars_docs.errors import UsageError

    site = tmp_path / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8") + "\ntoday: today.sqlite\n",
        encoding="utf-8",
    )
    with pytest.raises(UsageError, match="needs both today"):
        build(load_site(site), "127.0.0.1", 8765, None, tmp_path, warm=False)


# Sending to a printer ------------------------------------------------------------------------


def cups_output(since: float) -> list[Path]:
    from test_printing import cups_pdf_folder

    folder = cups_pdf_folder()
    return sorted(
        (p for p in folder.glob("*.pdf") if p.stat().st_mtime >= since),
        key=lambda p: p.stat().st_mtime,
    )


def wait_for_output(since: float, timeout: float = 120) -> Path:
    from test_printing import whole_pdf

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = cups_output(since)
        if found and whole_pdf(found[-1]):
            return found[-1]
        time.sleep(0.5)
    raise AssertionError("cups-pdf wrote no whole PDF")


@pytest.fixture
def cups():
    import os

    from test_printing import cups_missing

    reason = cups_missing()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI must print to a real CUPS queue: {reason}")
    if reason:
        pytest.skip(reason)


def test_the_preview_sends_the_handout_to_a_printer_and_audits_it(client, site_dir, cups):
    name = f"Mia {secrets.token_hex(3)}"
    preview = make(client, patient=name, mrn="F-6")
    page = client.get(preview, base_url=BASE).text
    assert "Send to printer" in page and "Front desk (both sides)" in page
    started = time.time() - 1
    sent = client.post(
        preview + "/send",
        base_url=BASE,
        data={"csrf": csrf_of(client, preview), "printer": QUEUE},
    )
    assert sent.status_code == 200, sent.text
    assert re.search(rf"Sent to Front desk \(print job {QUEUE}-\d+\)\.", sent.text)
    printed = wait_for_output(started)
    try:
        assert name in squash(pdf_text(printed.read_bytes()))
    finally:
        printed.unlink(missing_ok=True)
    entry = AuditTrail(site_dir / "audit.sqlite").entries()[-1]
    assert entry.event == "sent-to-printer"
    assert entry.detail == f"handout to Front desk ({QUEUE})"
    assert entry.patient == "MRN F-6"
    pdf = client.get(preview + "/handout.pdf", base_url=BASE).data
    import hashlib

    assert entry.pdf_sha256 == hashlib.sha256(pdf).hexdigest()


def test_a_printer_not_in_the_site_is_refused(client):
    preview = make(client)
    refused = client.post(
        preview + "/send",
        base_url=BASE,
        data={"csrf": csrf_of(client, preview), "printer": "somewhere-else"},
    )
    assert refused.status_code == 400
    assert "Choose a printer from the list." in refused.text


# Uploads: the code map and dated names -------------------------------------------------------


def upload(client, content: bytes, name: str, files=None, **fields):
    data = {"csrf": csrf_of(client, "/packet"), "input": (io.BytesIO(content), name), **fields}
    for field, (blob, filename) in (files or {}).items():
        data[field] = (io.BytesIO(blob), filename)
    return client.post("/packet", base_url=BASE, data=data, content_type="multipart/form-data")


def wait(client, location):
    for _ in range(900):
        status = client.get(location + "/status", base_url=BASE).json
        if status["state"] not in ("running", "packing"):
            return status
        time.sleep(0.1)
    raise AssertionError("the packet did not finish")


def test_the_upload_page_shows_the_clinics_code_map(client):
    page = client.get("/packet", base_url=BASE).text
    assert "The clinic’s code map" in page
    # The sets' own codes, by the handout's title.
    assert re.search(
        r"<td>Pars defect injection</td><td>pars-defect-injection</td>"
        r"<td[^>]*>urn:pars-docs:procedure</td>",
        page,
    )
    assert 'name="codes"' in page


def local_list() -> bytes:
    import json

    appointment = {
        "resourceType": "Appointment",
        "id": "a1",
        "status": "booked",
        "start": "2030-12-03T14:00:00Z",
        "appointmentType": {
            "coding": [{"system": "http://example.org/appointment-type", "code": "follow"}]
        },
        "participant": [
            {"actor": {"reference": "Patient/p1", "display": "Ana Moss"}},
            {"actor": {"reference": "Practitioner/d1", "display": "Dr. Sam Lee"}},
        ],
    }
    return json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": appointment}]}
    ).encode()


def test_an_uploaded_code_map_chooses_the_handout(client):
    listing = local_list()
    without = upload(client, listing, "list.json")
    assert without.status_code == 303
    location = without.headers["Location"]
    assert wait(client, location)["state"] == "done"
    assert "1 row FAILED" in client.get(location, base_url=BASE).text
    codes = (DATA / "fhir" / "codes.yaml").read_bytes()
    response = upload(client, listing, "list.json", files={"codes": (codes, "codes.yaml")})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert wait(client, location)["state"] == "done"
    page = client.get(location, base_url=BASE).text
    assert "Every row has its handout." in page


def test_a_bad_code_map_is_refused_beside_its_field(client):
    response = upload(
        client, local_list(), "list.json", files={"codes": (b"codes: 3\n", "codes.yaml")}
    )
    assert response.status_code == 422
    assert re.search(r'<p class="error" id="codes-error">', response.text)
    assert "The code map must hold a list of {system, code, procedure}" in response.text


def test_downloads_are_named_by_the_lists_dates(client):
    csv = (
        b"procedure,patient,date,time,clinician\n"
        b"pars-defect-injection,Ana Moss,2030-12-03,08:00,Dr. Sam Lee\n"
        b"pars-defect-injection,Li Wei,2030-12-04,09:00,Dr. Sam Lee\n"
    )
    response = upload(client, csv, "list.csv")
    location = response.headers["Location"]
    assert wait(client, location)["state"] == "done"
    page = client.get(location, base_url=BASE).text
    for name in (
        "packet-2030-12-03-to-2030-12-04.pdf",
        "handouts-2030-12-03-to-2030-12-04.zip",
        "manifest-2030-12-03-to-2030-12-04.csv",
    ):
        assert f'href="{location}/{name}"' in page
        got = client.get(f"{location}/{name}", base_url=BASE)
        assert got.status_code == 200
        assert got.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    one = upload(client, csv.splitlines(keepends=True)[0] + csv.splitlines()[1], "one.csv")
    location = one.headers["Location"]
    wait(client, location)
    got = client.get(f"{location}/packet.pdf", base_url=BASE)  # the plain name still works
    assert got.headers["Content-Disposition"] == 'attachment; filename="packet-2030-12-03.pdf"'


# A failed row corrected in place ---------------------------------------------------------


def test_a_failed_row_is_corrected_in_the_page_and_joins_the_packet(client, site_dir):
    import zipfile

    csv = (
        b"procedure,patient,date,time,clinician,mrn\n"
        b"pars-defect-injection,Ana Moss,2030-12-03,08:00,Dr. Sam Lee,G-1\n"
        b"pars-defect-injection,Ruth Lane,2030-13-03,09:00,Dr. Sam Lee,G-2\n"
        b"pars-defect-injection,Li Wei,2030-12-03,10:00,Dr. Sam Lee,G-3\n"
    )
    response = upload(client, csv, "list.csv", index="yes", duplex="yes")
    location = response.headers["Location"]
    assert wait(client, location)["state"] == "done"
    page = client.get(location, base_url=BASE).text
    assert "1 row FAILED" in page
    # The row's own form, its date marked to correct.
    assert 'action="' + location + '/row/3"' in page
    assert re.search(
        r'<div class="field invalid">\s*<label for="fix-3-date">Date \(to correct\)', page
    )
    assert 'id="fix-3-patient" name="patient" type="text" value="Ruth Lane"' in page
    before = client.get(f"{location}/packet.pdf", base_url=BASE).data
    assert "Ruth Lane" in squash(pdf_text(before))  # on the index, as not made
    fixed = client.post(
        f"{location}/row/3",
        base_url=BASE,
        data={
            "csrf": csrf_of(client, location),
            "procedure": "pars-defect-injection",
            "patient": "Ruth Lane",
            "date": "2030-12-03",
            "time": "09:00",
            "clinician": "Dr. Sam Lee",
            "mrn": "G-2",
        },
    )
    assert fixed.status_code == 303
    assert fixed.headers["Location"].endswith("#row-3")
    page = client.get(location, base_url=BASE).text
    assert "Every row has its handout." in page
    assert "3 rows: 3 made, 0 failed." in page
    packet = client.get(f"{location}/packet.pdf", base_url=BASE).data
    text = squash(pdf_text(packet))
    # In appointment order after the index: 8:00, 9:00 (the corrected row), 10:00.
    at = [text.index(f"Start time {t}") for t in ("8:00 AM", "9:00 AM", "10:00 AM")]
    assert at == sorted(at)
    assert "Rows with no handout of their own" not in text
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"{location}/handouts.zip", base_url=BASE).data)
    )
    assert sorted(archive.namelist()) == [
        "handouts/2030-12-03_0800_pars-defect-injection_G-1.pdf",
        "handouts/2030-12-03_0900_pars-defect-injection_G-2.pdf",
        "handouts/2030-12-03_1000_pars-defect-injection_G-3.pdf",
    ]
    manifest = client.get(f"{location}/manifest.csv", base_url=BASE).data.decode()
    assert "\n3,ok,handouts/2030-12-03_0900_pars-defect-injection_G-2.pdf," in manifest
    entry = [
        e for e in AuditTrail(site_dir / "audit.sqlite").entries() if e.event == "handout-made"
    ][-1]
    assert (entry.detail, entry.patient, entry.channel) == (
        "row 3, corrected at the desk",
        "MRN G-2",
        "desk packet",
    )
    # Duplex: each handout starts on a new sheet, so every part has an even page count.
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(packet)).pages) % 2 == 0


def test_a_row_corrected_wrongly_says_why_again(client):
    csv = (
        b"procedure,patient,date,time,clinician\n"
        b"pars-defect-injection,Ruth Lane,2030-13-03,09:00,Dr. Sam Lee\n"
    )
    location = upload(client, csv, "list.csv").headers["Location"]
    assert wait(client, location)["state"] == "done"
    fixed = client.post(
        f"{location}/row/2",
        base_url=BASE,
        data={
            "csrf": csrf_of(client, location),
            "procedure": "pars-defect-injection",
            "patient": "Ruth Lane",
            "date": "2030-12-03",
            "time": "25:00",
            "clinician": "Dr. Sam Lee",
        },
    )
    assert fixed.status_code == 303
    page = client.get(location, base_url=BASE).text
    assert "1 row FAILED" in page
    assert re.search(r'<label for="fix-2-time">Time \(to correct\)', page)
    assert 'value="2030-12-03"' in page  # what was typed stays
    again = client.post(
        f"{location}/row/9", base_url=BASE, data={"csrf": csrf_of(client, location)}
    )
    assert again.status_code == 400


# With named accounts: a nurse's list is hers, a scheduler's the clinic's ------------------


def test_a_nurse_sees_her_own_handouts_and_a_scheduler_the_clinics(tmp_path):
    from pars_docs.web.accounts import Accounts

    password = "correct horse battery"
    (tmp_path / "site.yaml").write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8")
        + "\naccounts: accounts.sqlite\naudit: audit.sqlite\n"
        "today: today.sqlite\ntoday_key: today.key\n",
        encoding="utf-8",
    )
    accounts = Accounts(tmp_path / "accounts.sqlite")
    for name, role in (("rosa", "nurse"), ("lee", "nurse"), ("sam", "scheduler")):
        accounts.add(name, role, password)
    app = build(load_site(tmp_path / "site.yaml"), "127.0.0.1", 8765, None, tmp_path / "w")

    def signed_in(name):
        client = app.test_client()
        page = client.get("/login", base_url=BASE).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        client.post(
            "/login", base_url=BASE, data={"csrf": csrf, "name": name, "password": password}
        )
        return client

    rosa, lee, sam = signed_in("rosa"), signed_in("lee"), signed_in("sam")
    make(rosa, patient="Rosa Patient", mrn="R-1")
    make(lee, patient="Lee Patient", mrn="L-1")

    def listed(client):
        page = client.get("/today", base_url=BASE).text
        return sorted(re.findall(r'<th scope="row">([^<]+)</th>', page))

    assert listed(rosa) == ["Rosa Patient"]
    assert listed(lee) == ["Lee Patient"]
    assert listed(sam) == ["Lee Patient", "Rosa Patient"]
    assert "The clinic’s handouts today" in sam.get("/today", base_url=BASE).text
    # Another nurse's kept handout is not hers to reprint or change.
    (kept,) = kept_ids(rosa.get("/today", base_url=BASE).text)
    assert post(lee, f"/today/{kept}/reprint", {}).status_code == 404
    assert lee.get(f"/?kept={kept}", base_url=BASE).status_code == 404
    assert post(sam, f"/today/{kept}/reprint", {}).status_code == 303
    # Signed out: nothing.
    assert app.test_client().get("/today", base_url=BASE).status_code == 302
