"""A packet from an uploaded list: the upload form, starting a run, its progress and result,
a failed row corrected in the page, the downloads (named with the list's dates, never a
patient's name) and sending the packet to a printer. Every handout of a finished run, and the
packet, is recorded in the audit trail before it is shown."""

from __future__ import annotations

import datetime
import hashlib
import re

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for

from ...errors import ParsDocsError
from ...service.inputs import FORMATS
from ...service.lists import Options
from ..desk import PAPERS, without_command_words
from ..packets import FIXABLE, Job
from ..state import state
from .printing import send, send_status

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
DOWNLOADS = {
    "packet.pdf": ("packet", "application/pdf"),
    "handouts.zip": ("handouts", "application/zip"),
    "manifest.csv": ("manifest", "text/csv; charset=utf-8"),
}


def register(app: Flask) -> None:
    app.add_url_rule("/packet", "packet_form", packet_form, methods=["GET"])
    app.add_url_rule("/packet", "packet_start", packet_start, methods=["POST"])
    app.add_url_rule("/packet/<key>", "packet", packet, methods=["GET"])
    app.add_url_rule("/packet/<key>/row/<int:number>", "fix_row", fix_row, methods=["POST"])
    app.add_url_rule("/packet/<key>/send", "send_packet", send_packet, methods=["POST"])
    app.add_url_rule("/packet/<key>/status", "packet_status", packet_status, methods=["GET"])
    app.add_url_rule("/packet/<key>/<name>", "packet_file", packet_file, methods=["GET"])


def upload_field(error_field: str | None, has_map: bool) -> str:
    """The upload form field beside which an error with ``error_field`` is shown."""
    if error_field == "map":  # from the mapping file, or the columns typed in the form
        return "map" if has_map else "columns"
    return UPLOAD_FIELDS.get(error_field or "", "input")


def show_packet_form(errors: dict[str, str] | None = None, status: int = 200, fields=None):
    desk = state()
    site = desk.engine.site
    return (
        render_template(
            "packet.html",
            errors=errors or {},
            formats=FORMATS,
            date_formats=DATE_FORMATS,
            example_date=datetime.date(2026, 12, 3),
            encodings=ENCODINGS,
            papers=PAPERS,
            site_paper=site.paper,
            site_zone=None if site.is_default else site.timezone,
            fields=fields or {},
            code_map=desk.packets.code_map(),
        ),
        status,
    )


def packets_allowed() -> None:
    account = g.get("account")
    if account is not None and not account.may("packets"):
        abort(
            403,
            f"Packets from a list are made by schedulers and admins; you are signed in as "
            f"{account.name} ({account.role}).",
        )


def packet_form():
    packets_allowed()
    return show_packet_form()


def run_options(form) -> Options:
    """The upload form's choices for the batch run."""
    return Options(
        date_format=form.get("date_format", "").strip() or None,
        duplex=form.get("duplex") == "yes",
        index=form.get("index") == "yes",
        paper=form.get("paper") if form.get("paper") in PAPERS else None,
        sedation={"yes": True, "no": False}.get(form.get("sedation", "")),
        include_past=form.get("include_past") == "yes",
    )


def packet_start():
    packets_allowed()
    form = request.form
    upload = request.files.get("input")
    mapping = request.files.get("map")
    codes = request.files.get("codes")
    options = run_options(form)
    encoding = text_encoding(form.get("encoding", ""), upload, form.get("format"))
    columns = tuple(line.strip() for line in form.get("columns", "").splitlines())
    has_map = bool(mapping and mapping.filename)
    if options.date_format not in DATE_FORMATS and options.date_format is not None:
        message = "Choose the date format from the list."
        return show_packet_form({"date_format": message}, 422, form)
    if encoding not in (None, *(value for value, _ in ENCODINGS)):
        message = "Choose the text encoding from the list."
        return show_packet_form({"encoding": message}, 422, form)
    packets = state().packets
    try:
        key = packets.start(
            upload.read() if upload else b"",
            upload.filename or "" if upload else "",
            options,
            fmt=form.get("format") or None,
            encoding=encoding,
            columns=tuple(c for c in columns if c),
            timezone=form.get("timezone", "").strip() or None,
            mapping_upload=(mapping.read(), mapping.filename or "")
            if mapping and has_map
            else None,
            codes_upload=(codes.read(), codes.filename or "") if codes and codes.filename else None,
        )
    except ParsDocsError as e:
        message = packet_words(e.message)
        return show_packet_form({upload_field(e.field, has_map): message}, 422, form)
    job = packets.get(key)
    if job is not None:
        job.owner = session["sid"]
    return redirect(url_for("packet", key=key), 303)


def job_or_404(key: str) -> Job:
    desk = state()
    job = desk.packets.get(key)
    if job is None or not desk.may_see(job.owner):
        abort(404, "This packet is no longer kept. Upload it again.")
    return job


def audit_packet(job: Job) -> None:
    """Record each handout of a finished run, and the packet, before it is shown."""
    if job.audited or job.state != "done":
        return
    desk = state()
    audit = desk.audit
    if audit is not None:
        user = desk.user_name()
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


def packet(key: str):
    job = job_or_404(key)
    audit_packet(job)
    return show_result(key, job)


def show_result(key: str, job: Job, **extra):
    return render_template(
        "result.html",
        key=key,
        job=job,
        names=dated_names(job),
        procedures=state().desk.procedures(),
        fixable=FIXABLE,
        **extra,
    )


def fix_row(key: str, number: int):
    """A failed row corrected in the page and made alone; the rows made are kept."""
    packets_allowed()
    desk = state()
    job = job_or_404(key)
    audit_packet(job)
    values = {name: str(request.form.get(name, ""))[:5000] for name in FIXABLE}
    try:
        row = desk.packets.fix(job, number, values)
    except ParsDocsError as e:
        abort(400, packet_words(e.message))
    if row["status"] == "ok":
        audit = desk.audit
        desk.record(
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


def send_packet(key: str):
    job = job_or_404(key)
    audit_packet(job)
    if job.packet is None or not job.audited:
        abort(404, "There is no packet to print.")
    made = sum(r.get("status") == "ok" for r in job.rows)
    sent, error = send(job.packet, f"packet of {made} handouts", pdf=job.packet)
    return show_result(key, job, sent=sent, send_error=error), send_status(sent, error)


def packet_status(key: str):
    job = job_or_404(key)
    state_ = job.state
    if state_ == "running" and job.done >= job.total:
        state_ = "packing"  # every row is read; the last ones and the packet are being made
    return {"state": state_, "done": job.done, "total": job.total}


def dated_names(job: Job) -> dict[str, str]:
    """Each download's name with the list's dates (packet-2027-03-08.pdf), never a
    patient's name."""
    return {name: name.replace(".", f"-{job.day}.", 1) for name in DOWNLOADS}


def packet_file(key: str, name: str):
    job = job_or_404(key)
    names = dated_names(job)
    name = {dated: plain for plain, dated in names.items()}.get(name, name)
    if name not in DOWNLOADS:
        abort(404)
    attribute, mimetype = DOWNLOADS[name]
    audit_packet(job)
    data = getattr(job, attribute)
    if data is None or not job.audited:
        abort(404, "There is no such file for this packet.")
    state().record(
        "downloaded",
        pdf=data if name == "packet.pdf" else None,
        detail=f"{name}: {sum(r.get('status') == 'ok' for r in job.rows)} handouts",
    )
    response = current_app.response_class(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{names[name]}"'
    return response


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
