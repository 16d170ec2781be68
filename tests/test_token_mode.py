"""The desk in token mode (issue 25, item 7): signing out ends the session, copied cookie and
all; wrong tokens lock out the client that sent them without holding a thread; the token file
is a small regular file; a token file given on loopback is used, not ignored."""

import re
import threading
import time

import pytest
from helpers import DATA

from pars_docs import load_site
from pars_docs.errors import UsageError
from pars_docs.web import security
from pars_docs.web.server import build

BASE = "http://10.1.2.3:8765"
TOKEN = "correct horse battery"


@pytest.fixture
def app(tmp_path):
    return build(load_site(DATA / "site-ny.yaml"), "0.0.0.0", 8765, TOKEN, tmp_path, warm=False)


def csrf_of(client, path="/login"):
    page = client.get(path, base_url=BASE).text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def sign_in(client, token=TOKEN, address="10.0.0.5"):
    return client.post(
        "/login", base_url=BASE, data={"csrf": csrf_of(client), "token": token},
        environ_base={"REMOTE_ADDR": address},
    )  # fmt: skip


def test_signing_out_ends_the_session_even_in_a_copied_cookie(app):
    client = app.test_client()
    assert sign_in(client).status_code == 303
    assert client.get("/", base_url=BASE).status_code == 200
    cookie = client.get_cookie("pars_docs_session", domain="10.1.2.3")
    assert cookie is not None
    copied = app.test_client()
    copied.set_cookie("pars_docs_session", cookie.value, domain="10.1.2.3")
    assert copied.get("/", base_url=BASE).status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/", base_url=BASE).text)[1]
    assert client.post("/logout", base_url=BASE, data={"csrf": csrf}).status_code == 303
    assert copied.get("/", base_url=BASE).status_code == 302  # sent to sign in again


def test_wrong_tokens_lock_out_that_client_without_waiting(app):
    guesser, desk = app.test_client(), app.test_client()
    started = time.monotonic()
    codes = [sign_in(guesser, "guess", "10.0.0.66").status_code for _ in range(7)]
    assert time.monotonic() - started < 5  # no second-long sleep per guess
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    # Locked out: the right token from that client is refused too...
    locked = sign_in(guesser, TOKEN, "10.0.0.66")
    assert locked.status_code == 429
    assert "Too many wrong access tokens" in locked.text
    # ...while another computer signs in at once.
    assert sign_in(desk, TOKEN, "10.0.0.5").status_code == 303


def test_guessers_hold_no_thread(app):
    """Twelve guessers at once finish at once: none of them sleeps in a server thread."""
    done = []

    def guess():
        client = app.test_client()
        for _ in range(3):
            sign_in(client, "wrong token!", f"10.0.1.{threading.get_ident() % 200}")
        done.append(time.monotonic())

    started = time.monotonic()
    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(done) == 12
    assert max(done) - started < 10


@pytest.mark.parametrize("kind", ["device", "folder", "large"])
def test_the_token_file_is_a_small_regular_file(tmp_path, kind):
    path = {"device": "/dev/zero", "folder": str(tmp_path)}.get(kind)
    if kind == "large":
        big = tmp_path / "big"
        big.write_text("x" * 10_000)
        path = str(big)
    started = time.monotonic()
    with pytest.raises(UsageError, match=f"--token-file: cannot read {re.escape(path)}"):
        security.read_token(path)
    assert time.monotonic() - started < 5


def test_a_token_file_given_on_loopback_is_used(tmp_path):
    site = load_site(DATA / "site-ny.yaml")
    app = build(site, "127.0.0.1", 8765, TOKEN, tmp_path, warm=False, token_on_loopback=True)
    client = app.test_client()
    assert client.get("/", base_url="http://127.0.0.1:8765").status_code == 302
    plain = build(site, "127.0.0.1", 8765, TOKEN, tmp_path, warm=False)
    assert plain.test_client().get("/", base_url="http://127.0.0.1:8765").status_code == 200
