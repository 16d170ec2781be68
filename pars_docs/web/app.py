"""The desk web application: routes for one handout and for a packet.

URLs hold only random ids, never a patient value; the request log names the route, not the
path. Every error a person can cause is a page with the message, never a stack trace.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import logging
import secrets
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, Request, abort, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .._version import version
from ..audit import patient_id
from ..errors import AuditError, OutputError, ParsDocsError, printable, trace_without_values
from ..handout import Engine
from ..read.rows import FORMATS
from ..write.printer import send_to_printer
from . import editor, security
from .desk import PAPERS, Desk, FormValues, without_command_words
from .packets import FIXABLE, PacketOptions, Packets
from .schedule import Schedule
from .signin import LiveSessions, Throttle
from .today import KeptError

if TYPE_CHECKING:
    from ..audit import AuditTrail
    from .accounts import Account, Accounts
    from .today import Kept, TodayList

MAX_UPLOAD = 10 * 1024 * 1024  # bytes in one request: a day's list is a few hundred kB
log = logging.getLogger("pars_docs.web")
# The upload form's fields, by the field an error names; any other error is the file's.
UPLOAD_FIELDS = {
    "format": "format",
    "encoding": "encoding",
    "date_format": "date_format",
    "timezone": "timezone",
    "column": "columns",
    "codes": "codes",
    "packet": "form",  # about no field: shown over the form
}


def upload_field(error_field: str | None, has_map: bool) -> str:
    """The upload form field beside which an error with ``error_field`` is shown."""
    if error_field == "map":  # from the mapping file, or the columns typed in the form
        return "map" if has_map else "columns"
    return UPLOAD_FIELDS.get(error_field or "", "input")


class MemoryRequest(Request):
    """Uploaded files stay in memory: never spooled to a temporary file on disk."""

    max_form_memory_size = 1024 * 1024

    def _get_file_stream(self, total_content_length, content_type, filename=None, **kw):
        return io.BytesIO()


def create_app(
    engine: Engine,
    work_dir: Path,
    *,
    token: str | None = None,
    allowed_hosts: set[str] | None = None,
    accounts: Accounts | None = None,
    audit: AuditTrail | None = None,
    today: TodayList | None = None,
) -> Flask:
    """The application for ``engine``'s site. ``work_dir`` is a private folder for packet
    runs; ``token`` (if any) must open each session; ``allowed_hosts`` (if any) are the only
    Host headers accepted. With ``accounts``, every page needs a signed-in user; with
    ``audit``, what is made, shown, downloaded and printed is recorded there first; with
    ``today``, each handout made is kept (encrypted) for today's list and reprints."""
    app = Flask(__name__)
    app.request_class = MemoryRequest
    app.secret_key = secrets.token_bytes(32)  # sessions end when the server stops
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_UPLOAD,
        SESSION_COOKIE_NAME="pars_docs_session",
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True,
        SEND_FILE_MAX_AGE_DEFAULT=0,
        TEMPLATES_AUTO_RELOAD=False,
    )
    desk = Desk(engine)
    packets = Packets(engine.site, engine.library, work_dir, quiet=desk.lock)
    app.extensions["pars_docs"] = {
        "desk": desk,
        "packets": packets,
        "allowed_hosts": allowed_hosts,
        "accounts": accounts,
        "audit": audit,
        "today": today,
    }
    printers = {printer.queue: printer for printer in engine.site.printers}
    schedule = Schedule(engine.site, engine.library) if engine.site.fhir_server else None
    # The clinic's own sets, edited at the desk (editor.py): only an editor, or this computer.
    app.register_blueprint(editor.blueprint)
    throttle = Throttle()
    live_sessions = LiveSessions()
    idle_seconds = engine.site.session_idle_minutes * 60
    OPEN = ("login", "static")  # the only pages answered without a signed-in user

    def signed_in() -> Account | None:
        """The session's account, if it is signed in, active and not idle too long."""
        assert accounts is not None
        name = session.get("user")
        if not name:
            return None
        if time.time() - session.get("seen", 0) > idle_seconds:
            ended(name, "idle")
            session["notice"] = (
                f"You were signed out after {engine.site.session_idle_minutes} minutes "
                "without use. Sign in again to go on."
            )
            return None
        account = accounts.get(name)
        if account is None or account.disabled:
            ended(name, "account disabled")
            return None
        session["seen"] = time.time()
        return account

    def ended(name: str, why: str) -> None:
        keep = {k: session[k] for k in ("csrf", "sid") if k in session}
        session.clear()
        session.update(keep)
        if audit is not None:
            audit.record("signed-out", name, detail=why)

    def user_name() -> str:
        account = g.get("account")
        return account.name if account else "(no sign-in)"

    def may_see(owner: str) -> bool:
        """Whether this session may fetch what the session ``owner`` made."""
        if owner and owner == session.get("sid"):
            return True
        account = g.get("account")
        return bool(account and account.may("everyone"))

    def record(event: str, made=None, **given) -> None:
        """Write ``event`` to the audit trail, if the site keeps one, before answering."""
        if audit is None:
            return
        if made is not None and made.visit is not None and made.handout is not None:
            handout = made.handout
            given = {
                "set_id": handout.instruction_set.id,
                "set_version": handout.instruction_set.version,
                "language": handout.language,
                "patient": patient_id(made.visit, audit.patient_rule),
                "pdf": made.pdf,
                **given,
            }
        audit.record(event, user_name(), **given)

    @app.before_request
    def guard():
        g.started = time.monotonic()
        if allowed_hosts is not None and request.host.lower() not in allowed_hosts:
            abort(400, "This page answers only to the address it was started on.")
        if "csrf" not in session:
            session["csrf"] = security.new_csrf()
        if "sid" not in session:  # what this browser makes is fetched by it alone
            session["sid"] = secrets.token_urlsafe(18)
        if accounts is not None and request.endpoint not in OPEN:
            g.account = signed_in()
            if g.account is None:
                if request.method == "POST":
                    abort(403, "Sign in first.")
                return redirect(url_for("login"))
        elif (
            token
            and not (session.get("signed_in") and live_sessions.holds(session.get("live")))
            and request.endpoint not in ("login", "static")
        ):
            if request.method == "POST":
                abort(403, "Sign in first.")
            return redirect(url_for("login"))
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/"):
                abort(403, "The form came from another site.")
            given = request.form.get("csrf") or request.headers.get("X-CSRF-Token")
            if not security.same_csrf(given, session.get("csrf")):
                abort(400, "The form was out of date. Reload the page and try again.")
        return None

    @app.after_request
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

    @app.context_processor
    def common():
        return {
            "csrf": session.get("csrf", ""),
            "version": version(),
            "clinic": engine.site.name,
            "signed_in": bool(token and session.get("signed_in")) or bool(g.get("account")),
            "account": g.get("account"),
            "accounts_on": accounts is not None,
            "today_on": today is not None,
            "schedule_on": schedule is not None,
            "printers": list(printers.values()),
            "editor_open": editor.allowed(),
        }

    # Sign-in (only when the server listens beyond this computer) -------------------------

    def account_login():
        assert accounts is not None
        notice = session.pop("notice", None)
        if request.method == "GET":
            return render_template("signin.html", notice=notice, error=None, name="")
        name = request.form.get("name", "").strip()[:64]
        password = request.form.get("password", "")[:1024]
        address = request.remote_addr or "?"
        wait = throttle.wait(name, address)
        account = None if wait else accounts.check(name, password)
        if account is None:
            count = 0 if wait else throttle.failed(name, address)
            log.warning(
                "sign-in refused for %s from %s (%s)",
                printable(repr(name)),
                address,
                f"locked out for {wait} s" if wait else f"{count} in {Throttle.WINDOW // 60} min",
            )
            if audit is not None:
                audit.record("sign-in-refused", name or "(none)", detail=f"from {address}")
            if wait:
                error = (
                    "Too many sign-ins failed for this name. Try again in "
                    f"{max(1, wait // 60)} minutes, or ask an admin to reset the password."
                )
            else:
                error = "That name and password do not match an active account."
            status = 429 if wait else 401
            return render_template("signin.html", notice=None, error=error, name=name), status
        throttle.succeeded(name)
        session.clear()
        session.update(
            user=account.name,
            seen=time.time(),
            sid=secrets.token_urlsafe(18),
            csrf=security.new_csrf(),
        )
        g.account = account
        record("signed-in", detail=f"from {address}")
        return redirect(url_for("form"), 303)

    @app.route("/login", methods=["GET", "POST"])
    def login():
        if accounts is not None:
            return account_login()
        if not token:
            return redirect(url_for("form"))
        error = None
        if request.method == "POST":
            # Wrong tokens are counted per client, which is then locked out for a while;
            # no request waits, so guessers hold no server thread.
            address = request.remote_addr or ""
            guesser = f"access token from {address}"
            wait = throttle.wait(guesser, address)
            if wait:
                minutes = max(1, round(wait / 60))
                error = (
                    f"Too many wrong access tokens from this computer. Try again in {minutes} "
                    f"minute{'s' if minutes != 1 else ''}."
                )
                return render_template("login.html", error=error), 429
            if security.token_matches(request.form.get("token", ""), token):
                throttle.succeeded(guesser)
                session.clear()
                session["signed_in"] = True
                session["csrf"] = security.new_csrf()
                # Known to the server, so signing out ends it even in a copied cookie.
                session["live"] = live_sessions.open()
                return redirect(url_for("form"), 303)
            throttle.failed(guesser, address)
            error = "That access token is not right."
        return render_template("login.html", error=error), 401 if error else 200

    @app.post("/logout")
    def logout():
        if g.get("account") is not None:
            record("signed-out", detail="signed out")
        live_sessions.close(session.get("live"))
        session.clear()
        return redirect(url_for("login" if token or accounts else "form"), 303)

    # One handout ---------------------------------------------------------------------------

    def show_form(values: FormValues, errors: dict[str, str], status: int = 200):
        return (
            render_template(
                "form.html",
                values=values,
                errors=errors,
                procedures=desk.procedures(),
                procedure_groups=desk.procedure_groups(),
                left_out=desk.left_out(),
                medicine_names=desk.medicine_names(),
                clinicians=list(engine.site.clinicians),
                zone=desk.zone_now(),
                papers=PAPERS,
                site_paper=engine.site.paper,
                later=desk.later_options(),
                languages=desk.languages(),
            ),
            status,
        )

    def mine(key: str):
        """The handout ``key`` if this session may see it, else None."""
        made = desk.get(key)
        return made if made is not None and may_see(made.owner) else None

    @app.get("/")
    def form():
        made = mine(request.args.get("from", ""))
        # A new form starts from the site's own choice of print size.
        values = made.values if made else FormValues(large_print=engine.site.large_print)
        if not made and request.args.get("kept"):  # "Change" on today's list
            values = kept_values(kept_or_404(request.args["kept"]))
        if not made and request.args.get("booking"):  # "Fill the form" on the schedule
            values = booking_values(request.args["booking"])
        if not made and len(desk.procedures()) == 1:
            values.procedure = desk.procedures()[0]["id"]
        return show_form(values, {})

    @app.post("/handout")
    def make():
        values = FormValues.from_form(request.form)
        key, errors = desk.make(values)
        if errors:
            return show_form(values, errors, 422)
        made = desk.get(key)
        if made is None:  # pushed out already by forty others: make it again
            abort(404, "This handout is no longer kept. Make it again.")
        made.owner = session["sid"]
        try:
            record("handout-made", made)
        except AuditError:
            desk.forget(key)  # not recorded, so not given out
            raise
        keep_for_today(made)
        return redirect(url_for("preview", key=key), 303)

    # The schedule from the site's FHIR server ----------------------------------------------

    def booking_values(key: str) -> FormValues:
        booking = schedule.get(session["sid"], key) if schedule is not None else None
        if booking is None or booking.problem:
            abort(404, "This appointment is no longer listed. Open the schedule again.")
        given = booking.values
        medicines = given.get("medications") or []
        return FormValues(
            procedure=str(given.get("procedure") or ""),
            patient=str(given.get("patient") or ""),
            dob=str(given.get("dob") or ""),
            mrn=str(given.get("mrn") or ""),
            date=str(given.get("date") or ""),
            time=str(given.get("time") or ""),
            clinician=str(given.get("clinician") or ""),
            medications=[str(m) for m in medicines][:20],
            note=str(given.get("note") or ""),
            language=str(given.get("language") or ""),
            large_print=engine.site.large_print,
        )

    @app.get("/schedule")
    def schedule_list():
        if schedule is None:
            abort(404, "This desk reads no schedule: the site profile names no FHIR server.")
        clinician = request.args.get("clinician", "")[:100]
        try:
            bookings = schedule.fetch(session["sid"], clinician)
        except ParsDocsError as e:
            log.warning("schedule: %s", e.public(False).splitlines()[0])
            return render_template(
                "schedule.html",
                bookings=[],
                clinician=clinician,
                clinicians=list(engine.site.clinicians),
                problem="The schedule could not be read from the clinic’s record system. "
                "Try again in a minute, or type the details in the form.",
            ), 502
        return render_template(
            "schedule.html",
            bookings=bookings,
            clinician=clinician,
            clinicians=list(engine.site.clinicians),
            problem=None,
        )

    # Today's list and reprints -------------------------------------------------------------

    def sees_clinic() -> bool:
        """Whether this user's list is the clinic's (a scheduler's, an admin's, or anyone's
        at a desk without sign-in), not only their own."""
        account = g.get("account")
        return account is None or account.role in ("scheduler", "admin")

    def keep_for_today(made) -> None:
        if today is None or made.visit is None or made.handout is None:
            return
        visit, iset = made.visit, made.handout.instruction_set
        values = asdict(made.values)
        values.pop("unknown", None)  # found again when the form is checked
        start = made.handout.plan.moments["start"]
        today.add(
            user_name(),
            values,
            made.pdf,
            {
                "patient": visit.patient,
                "mrn": visit.mrn or "",
                "title": iset.title,
                "set_id": iset.id,
                "version": iset.version,
                "language": made.handout.language,
                "when": start.strftime("%b %d, ") + start.strftime("%I:%M %p").lstrip("0"),
                "audit_patient": patient_id(visit, audit.patient_rule) if audit else "",
                "filename": made.filename,
            },
        )

    def kept_or_404(kept_id: str) -> Kept:
        kept = today.get(kept_id) if today is not None else None
        if kept is None or not (sees_clinic() or kept.owner == user_name()):
            abort(404, "This handout is no longer kept. Make it again.")
        return kept

    def kept_values(kept: Kept) -> FormValues:
        known = FormValues.__dataclass_fields__
        return FormValues(**{k: v for k, v in kept.values.items() if k in known})

    @app.get("/today")
    def today_list():
        if today is None:
            abort(404, "This desk keeps no list of the day's handouts.")
        query = request.args.get("q", "")[:100]
        everyone = sees_clinic()
        kept = today.listed(None if everyone else user_name(), query)
        zone = engine.site.tz
        rows = [
            {
                "id": k.id,
                "owner": k.owner,
                "shown": k.shown,
                "made": k.made_at.astimezone(zone).strftime("%I:%M %p").lstrip("0"),
            }
            for k in kept
        ]
        hours = engine.site.today_keep_hours
        retention = f"for {hours} hours" if hours else "until the end of the day"
        return render_template(
            "today.html", kept=rows, query=query, everyone=everyone, retention=retention
        )

    @app.post("/today/<kept_id>/reprint")
    def reprint(kept_id: str):
        kept = kept_or_404(kept_id)
        shown = kept.shown
        try:
            current = engine.library.get(shown["set_id"]).version
        except ParsDocsError:
            current = None  # the set is gone: only the handout as printed can be given
        chosen = request.form.get("version")
        if chosen not in ("same", "current") and current not in (None, shown["version"]):
            return render_template("reprint.html", kept=kept, current=current)
        if chosen == "same" or current is None:
            values = kept_values(kept)
            key = desk.keep_printed(kept.pdf, values, shown["title"], shown["filename"])
            made = desk.get(key)
            assert made is not None
            made.owner = session["sid"]
            record(
                "handout-made",
                set_id=shown["set_id"],
                set_version=shown["version"],
                language=shown.get("language"),
                patient=shown.get("audit_patient") or None,
                pdf=kept.pdf,
                detail="reprint, as printed before",
            )
            return redirect(url_for("preview", key=key), 303)
        values = kept_values(kept)
        values.reprint = True  # the appointment may be over by now
        remade, errors = desk.make(values)
        if errors or remade is None:
            return show_form(values, errors, 422)
        made = desk.get(remade)
        if made is None:
            abort(404, "This handout is no longer kept. Make it again.")
        made.owner = session["sid"]
        record("handout-made", made, detail="reprint, current version")
        key = remade
        return redirect(url_for("preview", key=key), 303)

    # Sending to a printer ------------------------------------------------------------------

    def send(document: bytes, what: str, **recorded) -> tuple[str | None, str | None]:
        """Send ``document`` (a PDF) to the chosen printer, recorded first; (what to say,
        an error)."""
        printer = printers.get(request.form.get("printer", ""))
        if printer is None:
            return None, "Choose a printer from the list."
        record("sent-to-printer", detail=f"{what} to {printer.name} ({printer.queue})", **recorded)
        try:
            job = send_to_printer(
                document, printer.queue, title=f"pars-docs {what}", duplex=printer.duplex
            )
        except OutputError as e:
            log.warning("printing to %s failed: %s", printer.queue, e.message)
            return None, (
                f"The printer “{printer.name}” did not take it ("
                f"{e.message.split('(', 1)[-1].rstrip(')') if '(' in e.message else e.message}"
                "). Download the PDF and print it from the computer instead."
            )
        return f"Sent to {printer.name} (print job {job}).", None

    @app.post("/handout/<key>/send")
    def send_handout(key: str):
        made = mine(key) or abort(404, "This handout is no longer kept. Make it again.")
        if made.handout is not None and made.visit is not None:
            handout = made.handout
            given = {
                "set_id": handout.instruction_set.id,
                "set_version": handout.instruction_set.version,
                "language": handout.language,
                "patient": patient_id(made.visit, audit.patient_rule) if audit else None,
            }
        else:
            given = {}
        sent, error = send(made.pdf, "handout", pdf=made.pdf, **given)
        status = 200 if sent else 502 if error and "did not take" in error else 400
        return render_template(
            "preview.html", key=key, made=made, sent=sent, send_error=error
        ), status

    @app.get("/handout/<key>")
    def preview(key: str):
        made = mine(key) or abort(404, "This handout is no longer kept. Make it again.")
        record("previewed", made)
        return render_template("preview.html", key=key, made=made)

    @app.get("/handout/<key>/page-<int:page>.png")
    def page_image(key: str, page: int):
        mine(key) or abort(404)
        image = desk.page_image(key, page) or abort(404)
        return app.response_class(image, mimetype="image/png")

    types = {
        ".pdf": "application/pdf",
        ".txt": "text/plain; charset=utf-8",
        ".json": "application/json",
        ".ics": "text/calendar; charset=utf-8",
    }

    @app.get("/handout/<key>/handout.<kind>")
    def handout_file(key: str, kind: str):
        made = mine(key)
        found = desk.rendition(key, f".{kind}") if made is not None else None
        if made is None or found is None:
            abort(404, "This handout is no longer kept. Make it again.")
        data, filename = found
        inline = request.args.get("view") and kind == "pdf"
        # Shown by the browser's PDF viewer only to print it (Print, Open the PDF to print).
        record("printed" if inline else "downloaded", made, detail=filename)
        response = app.response_class(data, mimetype=types[f".{kind}"])
        disposition = "inline" if inline else "attachment"
        response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
        return response

    @app.post("/handout/<key>/forget")
    def forget(key: str):
        if mine(key) is not None:
            desk.forget(key)
        return redirect(url_for("form"), 303)

    # A packet ------------------------------------------------------------------------------

    def show_packet_form(errors: dict[str, str] | None = None, status: int = 200, fields=None):
        return (
            render_template(
                "packet.html",
                errors=errors or {},
                formats=FORMATS,
                date_formats=DATE_FORMATS,
                example_date=datetime.date(2026, 12, 3),
                encodings=ENCODINGS,
                papers=PAPERS,
                site_paper=engine.site.paper,
                site_zone=None if engine.site.is_default else engine.site.timezone,
                fields=fields or {},
                code_map=packets.code_map(),
            ),
            status,
        )

    @app.get("/packet")
    def packet_form():
        packets_allowed()
        return show_packet_form()

    def packets_allowed() -> None:
        account = g.get("account")
        if account is not None and not account.may("packets"):
            abort(
                403,
                f"Packets from a list are made by schedulers and admins; you are signed in as "
                f"{account.name} ({account.role}).",
            )

    @app.post("/packet")
    def packet_start():
        packets_allowed()
        form = request.form
        upload = request.files.get("input")
        mapping = request.files.get("map")
        codes = request.files.get("codes")
        columns = tuple(line.strip() for line in form.get("columns", "").splitlines())
        options = PacketOptions(
            fmt=form.get("format") or None,
            columns=tuple(c for c in columns if c),
            date_format=form.get("date_format", "").strip() or None,
            encoding=text_encoding(form.get("encoding", ""), upload, form.get("format")),
            duplex=form.get("duplex") == "yes",
            index=form.get("index") == "yes",
            paper=form.get("paper") if form.get("paper") in PAPERS else None,
            sedation={"yes": True, "no": False}.get(form.get("sedation", "")),
            timezone=form.get("timezone", "").strip() or None,
            include_past=form.get("include_past") == "yes",
        )
        has_map = bool(mapping and mapping.filename)
        if options.date_format not in DATE_FORMATS and options.date_format is not None:
            message = "Choose the date format from the list."
            return show_packet_form({"date_format": message}, 422, form)
        if options.encoding not in (None, *(value for value, _ in ENCODINGS)):
            message = "Choose the text encoding from the list."
            return show_packet_form({"encoding": message}, 422, form)
        try:
            key = packets.start(
                upload.read() if upload else b"",
                upload.filename or "" if upload else "",
                options,
                (mapping.read(), mapping.filename or "") if mapping and has_map else None,
                (codes.read(), codes.filename or "") if codes and codes.filename else None,
            )
        except ParsDocsError as e:
            message = packet_words(e.message)
            return show_packet_form({upload_field(e.field, has_map): message}, 422, form)
        job = packets.get(key)
        if job is not None:
            job.owner = session["sid"]
        return redirect(url_for("packet", key=key), 303)

    def job_or_404(key: str):
        job = packets.get(key)
        if job is None or not may_see(job.owner):
            abort(404, "This packet is no longer kept. Upload it again.")
        return job

    def audit_packet(job) -> None:
        """Record each handout of a finished run, and the packet, before it is shown."""
        if job.audited or job.state != "done":
            return
        if audit is not None:
            user = user_name()
            made = [
                {
                    "event": "handout-made",
                    "user": user,
                    "channel": "desk packet",
                    "set_id": row.get("instruction_set"),
                    "set_version": row.get("version"),
                    "patient": packet_patient(row, audit.patient_rule),
                    "pdf_sha256": row.get("sha256"),
                    "detail": f"row {row['row']}",
                }
                for row in job.rows
                if row.get("status") == "ok"
            ]
            packet_hash = hashlib.sha256(job.packet).hexdigest() if job.packet else None
            made.append(
                {
                    "event": "packet-made",
                    "user": user,
                    "pdf_sha256": packet_hash,
                    "detail": f"{len(made)} handouts, {len(job.failed_rows)} rows failed",
                }
            )
            audit.record_all(made)
        job.audited = True

    @app.get("/packet/<key>")
    def packet(key: str):
        job = job_or_404(key)
        audit_packet(job)
        return show_result(key, job)

    def show_result(key: str, job, **extra):
        return render_template(
            "result.html",
            key=key,
            job=job,
            names=dated_names(job),
            procedures=desk.procedures(),
            fixable=FIXABLE,
            **extra,
        )

    @app.post("/packet/<key>/row/<int:number>")
    def fix_row(key: str, number: int):
        """A failed row corrected in the page and made alone; the rows made are kept."""
        packets_allowed()
        job = job_or_404(key)
        audit_packet(job)
        values = {name: str(request.form.get(name, ""))[:5000] for name in FIXABLE}
        try:
            row = packets.fix(job, number, values)
        except ParsDocsError as e:
            abort(400, packet_words(e.message))
        if row["status"] == "ok":
            record(
                "handout-made",
                channel="desk packet",
                set_id=row.get("instruction_set"),
                set_version=row.get("version"),
                language=row.get("language"),
                patient=packet_patient(row, audit.patient_rule) if audit else None,
                pdf_sha256=row.get("sha256"),
                detail=f"row {number}, corrected at the desk",
            )
        return redirect(url_for("packet", key=key) + f"#row-{number}", 303)

    @app.post("/packet/<key>/send")
    def send_packet(key: str):
        job = job_or_404(key)
        audit_packet(job)
        if job.packet is None or not job.audited:
            abort(404, "There is no packet to print.")
        made = sum(r.get("status") == "ok" for r in job.rows)
        sent, error = send(job.packet, f"packet of {made} handouts", pdf=job.packet)
        status = 200 if sent else 502 if error and "did not take" in error else 400
        return show_result(key, job, sent=sent, send_error=error), status

    @app.get("/packet/<key>/status")
    def packet_status(key: str):
        job = job_or_404(key)
        state = job.state
        if state == "running" and job.done >= job.total:
            state = "packing"  # every row is read; the last ones and the packet are being made
        return {"state": state, "done": job.done, "total": job.total}

    downloads = {
        "packet.pdf": ("packet", "application/pdf"),
        "handouts.zip": ("handouts", "application/zip"),
        "manifest.csv": ("manifest", "text/csv; charset=utf-8"),
    }

    def dated_names(job) -> dict[str, str]:
        """Each download's name with the list's dates (packet-2027-03-08.pdf), never a
        patient's name."""
        return {name: name.replace(".", f"-{job.day}.", 1) for name in downloads}

    @app.get("/packet/<key>/<name>")
    def packet_file(key: str, name: str):
        job = job_or_404(key)
        names = dated_names(job)
        name = {dated: plain for plain, dated in names.items()}.get(name, name)
        if name not in downloads:
            abort(404)
        attribute, mimetype = downloads[name]
        audit_packet(job)
        data = getattr(job, attribute)
        if data is None or not job.audited:
            abort(404, "There is no such file for this packet.")
        record(
            "downloaded",
            pdf=data if name == "packet.pdf" else None,
            detail=f"{name}: {sum(r.get('status') == 'ok' for r in job.rows)} handouts",
        )
        response = app.response_class(data, mimetype=mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="{names[name]}"'
        return response

    # Errors --------------------------------------------------------------------------------

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error):
        limit = f"{MAX_UPLOAD // (1024 * 1024)} MB"
        message = f"The file is too large: the limit is {limit}. Split the list and try again."
        if request.path.startswith("/packet"):
            return show_packet_form({"input": message}, 413)
        return render_template("error.html", message=message), 413

    @app.errorhandler(KeptError)
    def not_kept(error: KeptError):
        log.error("today's list: %s", error.message)
        return render_template(
            "error.html",
            message="Today’s list could not be read or written. Please tell whoever looks "
            "after this desk.",
        ), 503

    @app.errorhandler(AuditError)
    def not_recorded(error: AuditError):
        log.error("audit trail: %s", error.message)
        return render_template(
            "error.html",
            message="This was not done: the record the clinic keeps of it could not be "
            "written. Please tell whoever looks after this desk.",
        ), 503

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = error.description if error.code in (400, 403, 404) else error.name
        if not isinstance(message, str) or message.startswith("The requested URL"):
            message = "There is no such page."
        return render_template("error.html", message=message), error.code

    @app.errorhandler(Exception)
    def fault(error: Exception):
        # Where it happened, without the message: that could hold a patient's value.
        log.error("error in %s:\n%s", request.url_rule, trace_without_values(error))
        return render_template(
            "error.html", message="Something went wrong making this page. Please report it."
        ), 500

    return app


# The date formats an upload may use, each shown by an example (3 December 2026), never as a
# strftime pattern; "" is the default, year-month-day.
DATE_FORMATS = (
    "",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%m-%d-%Y",
    "%b %d, %Y",
    "%d %b %Y",
)
# Text encodings by what a scheduler knows of the file; "" is UTF-8, or Windows text found out
# from the file.
ENCODINGS = (
    ("", "Find out from the file"),
    ("cp1252", "Excel on Windows"),
    ("utf-8", "UTF-8"),
    ("utf-16", "UTF-16"),
    ("latin-1", "Latin-1"),
)


def text_encoding(chosen: str, upload, fmt: str | None) -> str | None:
    """The encoding chosen, or for none chosen: UTF-8 when the list reads as UTF-8, else
    Windows text (CP-1252) when it reads as that, as a CSV saved from Excel on Windows does.
    XML says its own encoding, and an Excel workbook has none."""
    chosen = chosen.strip()
    if chosen or upload is None or fmt in ("fhir", "xlsx"):
        return chosen or None
    if (upload.filename or "").lower().endswith((".xml", ".xlsx")):
        return None
    data = upload.stream.getvalue() if hasattr(upload.stream, "getvalue") else b""
    if data.startswith(b"PK\x03\x04"):
        return None  # a workbook saved under another name
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            return None  # neither: the reader says which byte
        return "cp1252"
    return None


def packet_words(message: str) -> str:
    """An upload's error without the command line's option names: each named as the field
    the upload form shows it in."""
    import re

    for option, label in (
        (
            "start pars-docs serve with a site profile (--site)",
            "start the desk with a site profile",
        ),
        ("--encoding", "the Text encoding"),
        ("--date-format", "the Date format"),
        ("--map", "the column mapping file"),
        ("--column", "Columns"),
        ("--timezone", "the Time zone"),
        ("--include-past", "“Also appointments already past”"),
    ):
        message = message.replace(option, label)
    message = re.sub(
        r"give the Text encoding, e\.g\. the Text encoding (\S+)",
        r"choose it under Text encoding (\1)",
        message,
    )
    prefixed = re.match(r"^[a-z_]+: ", message)  # "timezone: a FHIR list's …"
    message = without_command_words(message)
    return message[:1].upper() + message[1:] if prefixed else message


def packet_patient(row: dict, rule: str) -> str:
    """A packet row's patient as the audit trail names one (see ``audit.patient_id``)."""
    if rule == "mrn" and row.get("mrn"):
        return f"MRN {row['mrn']}"
    born = f" (born {row['dob']})" if row.get("dob") else ""
    return f"{row.get('patient', '')}{born}"
