"""What every page shares: the values each template is given, the security headers and the
request log (the route, never the path: that holds ids), and the error pages. Every error a
person can cause is a page with the message, never a stack trace."""

from __future__ import annotations

import logging
import time

from flask import Flask, g, render_template, request, session
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..._version import version
from ...errors import AuditError, trace_without_values
from .. import editor, security
from ..state import MAX_UPLOAD, state
from ..today import KeptError
from .packets import show_packet_form

log = logging.getLogger("pars_docs.web")


def register(app: Flask) -> None:
    app.after_request(headers)
    app.context_processor(common)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(KeptError, not_kept)
    app.register_error_handler(AuditError, not_recorded)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, fault)


def headers(response):
    response.headers.update(security.HEADERS)
    if response.mimetype == "application/pdf":
        # The browser's own PDF viewer shows it (for Print): a page's policy would block
        # the viewer, and a PDF runs none of this page's scripts.
        del response.headers["Content-Security-Policy"]
    rule = request.url_rule.rule if request.url_rule else "(no route)"
    took = (time.monotonic() - g.get("started", time.monotonic())) * 1000
    log.info("%s %s %s %.0f ms", request.method, rule, response.status_code, took)
    return response


def common() -> dict:
    desk = state()
    return {
        "csrf": session.get("csrf", ""),
        "version": version(),
        "clinic": desk.engine.site.name,
        "signed_in": bool(desk.token and session.get("signed_in")) or bool(g.get("account")),
        "account": g.get("account"),
        "accounts_on": desk.accounts is not None,
        "today_on": desk.today is not None,
        "schedule_on": desk.schedule is not None,
        "printers": list(desk.printers.values()),
        "editor_open": editor.allowed(),
    }


def too_large(_error):
    limit = f"{MAX_UPLOAD // (1024 * 1024)} MB"
    message = f"The file is too large: the limit is {limit}. Split the list and try again."
    if request.path.startswith("/packet"):
        return show_packet_form({"input": message}, 413)
    return render_template("error.html", message=message), 413


def not_kept(error: KeptError):
    log.error("today's list: %s", error.message)
    return render_template(
        "error.html",
        message="Today’s list could not be read or written. Please tell whoever looks "
        "after this desk.",
    ), 503


def not_recorded(error: AuditError):
    log.error("audit trail: %s", error.message)
    return render_template(
        "error.html",
        message="This was not done: the record the clinic keeps of it could not be "
        "written. Please tell whoever looks after this desk.",
    ), 503


def http_error(error: HTTPException):
    message = error.description if error.code in (400, 403, 404) else error.name
    if not isinstance(message, str) or message.startswith("The requested URL"):
        message = "There is no such page."
    return render_template("error.html", message=message), error.code


def fault(error: Exception):
    # Where it happened, without the message: that could hold a patient's value.
    log.error("error in %s:\n%s", request.url_rule, trace_without_values(error))
    return render_template(
        "error.html", message="Something went wrong making this page. Please report it."
    ), 500
