"""The desk with named accounts and an audit trail (Flask's test client, real SQLite files):
sign-in on every page, lock-out, idle expiry, roles, handouts fetched only by the session that
made them, and each event recorded before the answer."""

import hashlib
import logging
import re
import sqlite3

import pytest
from helpers import DATA

from pars_docs import load_site
from pars_docs.audit import AuditTrail
from pars_docs.web.accounts import Accounts
from pars_docs.web.server import build

BASE = "http://127.0.0.1:8765"
PASSWORD = "correct horse battery"
GOOD = {
    "procedure": "pars-defect-injection",
    "patient": "Ana Díaz",
    "date": "2026-12-03",
    "time": "08:00",
    "clinician": "Dr. Sam Lee",
    "mrn": "A-77",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    path = folder / "site.yaml"
    path.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8")
        + "\naccounts: accounts.sqlite\naudit: audit.sqlite\nsession_idle_minutes: 10\n",
        encoding="utf-8",
    )
    accounts = Accounts(folder / "accounts.sqlite")
    for name, role in (("rosa", "nurse"), ("sam", "scheduler"), ("ali", "admin"), ("lee", "nurse")):
        accounts.add(name, role, PASSWORD)
    return load_site(path)


@pytest.fixture(scope="module")
def app(site, tmp_path_factory):
    return build(site, "127.0.0.1", 8765, None, tmp_path_factory.mktemp("work"), warm=False)


@pytest.fixture
def trail(site):
    return AuditTrail(site.audit)


def csrf_of(client, path="/login"):
    page = client.get(path, base_url=BASE).text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def post(client, path, data, page="/"):
    return client.post(path, base_url=BASE, data={"csrf": csrf_of(client, page), **data})


def sign_in(app, name, password=PASSWORD):
    client = app.test_client()
    response = post(client, "/login", {"name": name, "password": password}, "/login")
    return client, response


def make(client):
    response = post(client, "/handout", GOOD)
    assert response.status_code == 303, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def test_every_page_needs_sign_in_also_on_loopback(app):
    client = app.test_client()
    for path in ("/", "/packet", "/handout/abc", "/handout/abc/handout.pdf"):
        response = client.get(path, base_url=BASE)
        assert response.status_code == 302 and response.headers["Location"] == "/login", path
    page = client.get("/login", base_url=BASE).text
    assert 'autocomplete="current-password"' in page and "No sign-in on this desk" not in page
    refused = client.post("/packet", base_url=BASE, data={"csrf": csrf_of(client), **GOOD})
    assert refused.status_code == 403
    # The handout form is not made either: sign in again, and the page fills it in again
    # from what it kept in the browser.
    later = client.post("/handout", base_url=BASE, data={"csrf": csrf_of(client), **GOOD})
    assert later.status_code == 303 and later.headers["Location"] == "/login?restore=1"
    page = client.get("/login?restore=1", base_url=BASE).text
    assert 'id="kept-notice"' in page and 'action="/login?restore=1"' in page
    assert "Ana Díaz" not in page


def test_after_signing_in_again_the_form_is_filled_in_from_what_was_kept(app):
    client = app.test_client()
    csrf = csrf_of(client, "/login")
    response = client.post(
        "/login?restore=1",
        base_url=BASE,
        data={"csrf": csrf, "name": "rosa", "password": PASSWORD},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/?restore=1"
    page = client.get("/?restore=1", base_url=BASE).text
    assert 'data-desk-user="rosa"' in page and "You are signed in again" in page


def test_sign_in_make_and_the_audit_trail(app, trail, site):
    before = len(trail.entries())
    client, response = sign_in(app, "rosa")
    assert response.status_code == 303
    form = client.get("/", base_url=BASE).text
    assert "rosa (nurse)" in form and "Sign out" in form
    assert "A packet from a list" not in form  # not for a nurse
    key = make(client)
    assert client.get(f"/handout/{key}", base_url=BASE).status_code == 200
    pdf = client.get(f"/handout/{key}/handout.pdf", base_url=BASE).data
    assert client.get(f"/handout/{key}/handout.pdf?view=1", base_url=BASE).status_code == 200
    assert post(client, "/logout", {}).status_code == 303

    entries = trail.entries()[before:]
    assert [e.event for e in entries] == [
        "signed-in",
        "handout-made",
        "previewed",
        "downloaded",
        "printed",
        "signed-out",
    ]
    made = entries[1]
    assert (made.user, made.channel, made.set_id, made.language) == (
        "rosa",
        "desk",
        "pars-defect-injection",
        "en",
    )
    assert made.set_version and made.patient == "MRN A-77"
    assert made.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    assert trail.verify() == []
    # Signed out: nothing answers without signing in again.
    assert client.get(f"/handout/{key}", base_url=BASE).status_code == 302


def test_only_the_session_that_made_it_or_an_admin_fetches_a_handout(app):
    rosa, _ = sign_in(app, "rosa")
    key = make(rosa)
    paths = [f"/handout/{key}", f"/handout/{key}/page-1.png", f"/handout/{key}/handout.pdf"]
    other, _ = sign_in(app, "sam")  # signed in, but not the maker
    for path in paths:
        assert other.get(path, base_url=BASE).status_code == 404, path
    # The same nurse in a second browser is another session: not hers either.
    again, _ = sign_in(app, "rosa")
    assert again.get(paths[2], base_url=BASE).status_code == 404
    admin, _ = sign_in(app, "ali")
    for path in paths:
        assert admin.get(path, base_url=BASE).status_code == 200, path
    assert rosa.get(paths[1], base_url=BASE).status_code == 200


def test_wrong_passwords_are_logged_audited_and_locked_out(app, trail, caplog):
    before = len(trail.entries())
    caplog.set_level(logging.INFO, logger="pars_docs.web")
    for _ in range(5):
        _, response = sign_in(app, "lee", "not the password")
        assert response.status_code == 401
        assert "do not match an active account" in response.text
    # The sixth try is refused even with the right password.
    _, response = sign_in(app, "lee")
    assert response.status_code == 429
    assert "Too many sign-ins failed for this name" in response.text
    refused = [r.getMessage() for r in caplog.records if "sign-in refused" in r.getMessage()]
    assert len(refused) == 6 and "'lee' from 127.0.0.1" in refused[0]
    assert "not the password" not in caplog.text and PASSWORD not in caplog.text
    events = [e.event for e in trail.entries()[before:]]
    assert events == ["sign-in-refused"] * 6
    # Another name is not locked out by lee's failures.
    assert sign_in(app, "ali")[1].status_code == 303
    # An unknown name is refused just as a wrong password is.
    _, response = sign_in(app, "nobody")
    assert response.status_code == 401


def test_an_idle_session_ends_and_says_why(app, trail):
    client, _ = sign_in(app, "ali")
    assert client.get("/", base_url=BASE).status_code == 200
    with client.session_transaction(base_url=BASE) as session:
        session["seen"] -= 11 * 60  # the site's limit is 10 minutes
    response = client.get("/", base_url=BASE)
    assert response.status_code == 302
    page = client.get("/login", base_url=BASE).text
    assert "signed out after 10 minutes without use" in page
    last = trail.entries()[-1]
    assert (last.event, last.user, last.detail) == ("signed-out", "ali", "idle")


def test_a_disabled_account_is_signed_out_at_once(app, site):
    client, _ = sign_in(app, "sam")
    assert client.get("/", base_url=BASE).status_code == 200
    accounts = Accounts(site.accounts)
    accounts.disable("sam")
    try:
        assert client.get("/", base_url=BASE).status_code == 302
        assert sign_in(app, "sam")[1].status_code == 401
    finally:
        accounts.reset("sam", PASSWORD)


def test_packets_are_for_schedulers_and_admins(app):
    nurse, _ = sign_in(app, "rosa")
    response = nurse.get("/packet", base_url=BASE)
    assert response.status_code == 403
    assert "made by schedulers and admins; you are signed in as rosa (nurse)" in response.text
    scheduler, _ = sign_in(app, "ali")
    assert scheduler.get("/packet", base_url=BASE).status_code == 200


def test_a_locked_trail_refuses_the_handout(app, site):
    client, _ = sign_in(app, "rosa")
    kept = len(app.extensions["pars_docs"]["desk"]._made)
    other = sqlite3.connect(site.audit, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    trail = app.extensions["pars_docs"]["audit"]
    trail.TIMEOUT = 0.2
    try:
        response = post(client, "/handout", GOOD)
    finally:
        other.execute("ROLLBACK")
        other.close()
        trail.TIMEOUT = AuditTrail.TIMEOUT
    assert response.status_code == 503
    assert "could not be written" in response.text and "sqlite" not in response.text.lower()
    # Not recorded, so not kept: nothing was made that the trail does not know of.
    assert len(app.extensions["pars_docs"]["desk"]._made) == kept


def test_without_accounts_the_page_says_so_and_keys_are_per_session(tmp_path):
    app = build(load_site(DATA / "site-ny.yaml"), "127.0.0.1", 8765, None, tmp_path, warm=False)
    client = app.test_client()
    assert "No sign-in on this desk" in client.get("/", base_url=BASE).text
    key = make(client)
    assert client.get(f"/handout/{key}/handout.pdf", base_url=BASE).status_code == 200
    stranger = app.test_client()  # no cookie at all
    assert stranger.get(f"/handout/{key}/handout.pdf", base_url=BASE).status_code == 404
    assert stranger.get(f"/handout/{key}", base_url=BASE).status_code == 404


def test_a_packet_is_audited_row_by_row_before_it_is_given_out(app, trail):
    import io
    import time

    client, _ = sign_in(app, "sam")
    before = len(trail.entries())
    listing = (DATA / "batch" / "appointments.csv").read_bytes()
    data = {"csrf": csrf_of(client, "/packet"), "input": (io.BytesIO(listing), "list.csv")}
    response = client.post("/packet", base_url=BASE, data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    location = response.headers["Location"]
    for _ in range(600):
        if client.get(location + "/status", base_url=BASE).json["state"] == "done":
            break
        time.sleep(0.1)
    # Another user cannot see it; the scheduler gets the page and the packet.
    assert sign_in(app, "rosa")[0].get(location, base_url=BASE).status_code == 404
    assert client.get(location, base_url=BASE).status_code == 200
    packet = client.get(location + "/packet.pdf", base_url=BASE).data
    entries = trail.entries()[before:]
    made = [e for e in entries if e.event == "handout-made"]
    assert [e.patient for e in made] == ["MRN A1", "MRN B2", "MRN C3"]
    assert {e.channel for e in made} == {"desk packet"} and {e.user for e in made} == {"sam"}
    assert all(len(e.pdf_sha256) == 64 and e.set_version for e in made)
    events = [e.event for e in entries if e.event != "signed-in"]
    assert events == ["handout-made"] * 3 + ["packet-made", "downloaded"]
    assert entries[-1].pdf_sha256 == hashlib.sha256(packet).hexdigest()
    assert entries[-2].pdf_sha256 == entries[-1].pdf_sha256
