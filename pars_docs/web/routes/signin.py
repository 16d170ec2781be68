"""Signing in and out: with accounts (a name and password, throttled per name and client),
or with the access token the server printed when it listens beyond this computer."""

from __future__ import annotations

import logging
import secrets
import time

from flask import Flask, g, redirect, render_template, request, session, url_for

from ...errors import printable
from .. import security
from ..signin import Throttle
from ..state import state

log = logging.getLogger("pars_docs.web")


def register(app: Flask) -> None:
    app.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    app.add_url_rule("/logout", "logout", logout, methods=["POST"])


def restoring() -> bool:
    """Whether the handout form was sent when sign-in had lapsed: after signing in, it is
    shown again, filled in from what the page kept."""
    return request.args.get("restore") == "1"


def after_sign_in():
    return redirect(url_for("form", restore=1) if restoring() else url_for("form"), 303)


def login():
    desk = state()
    if desk.accounts is not None:
        return account_login()
    if not desk.token:
        return after_sign_in()
    error = None
    if request.method == "POST":
        # Wrong tokens are counted per client, which is then locked out for a while;
        # no request waits, so guessers hold no server thread.
        address = request.remote_addr or ""
        guesser = f"access token from {address}"
        wait = desk.throttle.wait(guesser, address)
        if wait:
            minutes = max(1, round(wait / 60))
            error = (
                f"Too many wrong access tokens from this computer. Try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}."
            )
            return render_template("login.html", error=error, restore=restoring()), 429
        if security.token_matches(request.form.get("token", ""), desk.token):
            desk.throttle.succeeded(guesser)
            session.clear()
            session["signed_in"] = True
            session["csrf"] = security.new_csrf()
            # Known to the server, so signing out ends it even in a copied cookie.
            session["live"] = desk.live_sessions.open()
            return after_sign_in()
        desk.throttle.failed(guesser, address)
        error = "That access token is not right."
    return render_template("login.html", error=error, restore=restoring()), (401 if error else 200)


def account_login():
    desk = state()
    assert desk.accounts is not None
    notice = session.pop("notice", None)
    if request.method == "GET":
        return render_template(
            "signin.html", notice=notice, error=None, name="", restore=restoring()
        )
    name = request.form.get("name", "").strip()[:64]
    password = request.form.get("password", "")[:1024]
    address = request.remote_addr or "?"
    wait = desk.throttle.wait(name, address)
    account = None if wait else desk.accounts.check(name, password)
    if account is None:
        return refused(name, address, wait)
    desk.throttle.succeeded(name)
    session.clear()
    session.update(
        user=account.name,
        seen=time.time(),
        sid=secrets.token_urlsafe(18),
        csrf=security.new_csrf(),
    )
    g.account = account
    desk.record("signed-in", detail=f"from {address}")
    return after_sign_in()


def refused(name: str, address: str, wait: int):
    """The sign-in page again after a wrong name or password, or while locked out."""
    desk = state()
    count = 0 if wait else desk.throttle.failed(name, address)
    log.warning(
        "sign-in refused for %s from %s (%s)",
        printable(repr(name)),
        address,
        f"locked out for {wait} s" if wait else f"{count} in {Throttle.WINDOW // 60} min",
    )
    if desk.audit is not None:
        desk.audit.record("sign-in-refused", name or "(none)", detail=f"from {address}")
    if wait:
        error = (
            "Too many sign-ins failed for this name. Try again in "
            f"{max(1, wait // 60)} minutes, or ask an admin to reset the password."
        )
    else:
        error = "That name and password do not match an active account."
    status = 429 if wait else 401
    return render_template(
        "signin.html", notice=None, error=error, name=name, restore=restoring()
    ), status


def logout():
    desk = state()
    if g.get("account") is not None:
        desk.record("signed-out", detail="signed out")
    desk.live_sessions.close(session.get("live"))
    session.clear()
    return redirect(url_for("login" if desk.token or desk.accounts else "form"), 303)
