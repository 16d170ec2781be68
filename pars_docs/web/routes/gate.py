"""Who may come in, checked before every request: the Host header, the session's sign-in
(an account, or the access token) and, for a form sent, its origin and CSRF token."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

from flask import Flask, abort, g, redirect, request, session, url_for

from .. import security
from ..state import state

if TYPE_CHECKING:
    from ..accounts import Account

OPEN = ("login", "static")  # the only pages answered without a signed-in user


def register(app: Flask) -> None:
    app.before_request(guard)


def signed_in() -> Account | None:
    """The session's account, if it is signed in, active and not idle too long."""
    desk = state()
    assert desk.accounts is not None
    name = session.get("user")
    if not name:
        return None
    minutes = desk.engine.site.session_idle_minutes
    if time.time() - session.get("seen", 0) > minutes * 60:
        ended(name, "idle")
        session["notice"] = (
            f"You were signed out after {minutes} minutes without use. Sign in again to go on."
        )
        return None
    account = desk.accounts.get(name)
    if account is None or account.disabled:
        ended(name, "account disabled")
        return None
    session["seen"] = time.time()
    return account


def ended(name: str, why: str) -> None:
    keep = {k: session[k] for k in ("csrf", "sid") if k in session}
    session.clear()
    session.update(keep)
    audit = state().audit
    if audit is not None:
        audit.record("signed-out", name, detail=why)


def guard():
    g.started = time.monotonic()
    desk = state()
    if desk.allowed_hosts is not None and request.host.lower() not in desk.allowed_hosts:
        abort(400, "This page answers only to the address it was started on.")
    if "csrf" not in session:
        session["csrf"] = security.new_csrf()
    if "sid" not in session:  # what this browser makes is fetched by it alone
        session["sid"] = secrets.token_urlsafe(18)
    if desk.accounts is not None and request.endpoint not in OPEN:
        g.account = signed_in()
        if g.account is None:
            return sign_in_first()
    elif desk.token and not token_session() and request.endpoint not in OPEN:
        return sign_in_first()
    if request.method == "POST":
        return same_site_form()
    return None


def token_session() -> bool:
    """Whether this session was opened with the access token and is still open."""
    return bool(session.get("signed_in") and state().live_sessions.holds(session.get("live")))


# The form whose typing the page keeps (desk.js, in the browser's session storage, never on
# the server) when it is sent after a restart or a lost cookie: it is shown again to be
# filled in from what was kept, after signing in again where sign-in is needed.
KEEPS_TYPING = "make"


def sign_in_first():
    if request.method == "POST":
        if request.endpoint == KEEPS_TYPING:
            return redirect(url_for("login", restore=1), 303)
        abort(403, "Sign in first.")
    return redirect(url_for("login"))


def same_site_form():
    """Refuse a form sent from another site, or without this session's CSRF token. The
    handout form sent with an old token (the server restarted, the cookie was lost) comes
    back as a fresh form, which the page fills in again from what it kept."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/"):
        abort(403, "The form came from another site.")
    given = request.form.get("csrf") or request.headers.get("X-CSRF-Token")
    if not security.same_csrf(given, session.get("csrf")):
        if request.endpoint == KEEPS_TYPING:
            return redirect(url_for("form", restore=1), 303)
        abort(400, "The form was out of date. Reload the page and try again.")
    return None
