"""One handout from the desk form: the form (empty, from a handout made, from today's list
or from the schedule), making it, its preview and page images, its downloads, sending it to
a printer, and forgetting it. URLs hold only random ids, never a patient value."""

from __future__ import annotations

from flask import Flask, abort, current_app, redirect, render_template, request, session, url_for

from ...audit import patient_id
from ...errors import AuditError
from ..desk import FormValues
from ..state import state
from .form import show_form
from .printing import send, send_status
from .schedule import booking_values
from .today import keep_for_today, kept_or_404, kept_values

GONE = "This handout is no longer kept. Make it again."
TYPES = {
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".ics": "text/calendar; charset=utf-8",
}


def register(app: Flask) -> None:
    app.add_url_rule("/", "form", form, methods=["GET"])
    app.add_url_rule("/handout", "make", make, methods=["POST"])
    app.add_url_rule("/handout/<key>/send", "send_handout", send_handout, methods=["POST"])
    app.add_url_rule("/handout/<key>", "preview", preview, methods=["GET"])
    app.add_url_rule("/handout/<key>/page-<int:page>.png", "page_image", page_image)
    app.add_url_rule("/handout/<key>/handout.<kind>", "handout_file", handout_file)
    app.add_url_rule("/handout/<key>/forget", "forget", forget, methods=["POST"])


def form():
    desk = state()
    made = desk.mine(request.args.get("from", ""))
    # A new form starts from the site's own choice of print size.
    values = made.values if made else FormValues(large_print=desk.engine.site.large_print)
    if not made and request.args.get("kept"):  # "Change" on today's list
        values = kept_values(kept_or_404(request.args["kept"]))
    if not made and request.args.get("booking"):  # "Fill the form" on the schedule
        values = booking_values(request.args["booking"])
    if not made and len(desk.desk.procedures()) == 1:
        values.procedure = desk.desk.procedures()[0]["id"]
    return show_form(values, {})


def make():
    desk = state()
    values = FormValues.from_form(request.form)
    key, errors = desk.desk.make(values)
    if errors:
        return show_form(values, errors, 422)
    made = desk.desk.get(key)
    if made is None:  # pushed out already by forty others: make it again
        abort(404, GONE)
    made.owner = session["sid"]
    try:
        desk.record("handout-made", made)
    except AuditError:
        desk.desk.forget(key)  # not recorded, so not given out
        raise
    keep_for_today(made)
    return redirect(url_for("preview", key=key), 303)


def send_handout(key: str):
    desk = state()
    made = desk.mine(key) or abort(404, GONE)
    if made.handout is not None and made.visit is not None:
        handout = made.handout
        audit = desk.audit
        given = {
            "set_id": handout.instruction_set.id,
            "set_version": handout.instruction_set.version,
            "language": handout.language,
            "patient": patient_id(made.visit, audit.patient_rule) if audit else None,
        }
    else:
        given = {}
    sent, error = send(made.pdf, "handout", pdf=made.pdf, **given)
    return render_template(
        "preview.html", key=key, made=made, sent=sent, send_error=error
    ), send_status(sent, error)


def preview(key: str):
    desk = state()
    made = desk.mine(key) or abort(404, GONE)
    desk.record("previewed", made)
    return render_template("preview.html", key=key, made=made)


def page_image(key: str, page: int):
    desk = state()
    desk.mine(key) or abort(404)
    image = desk.desk.page_image(key, page) or abort(404)
    return current_app.response_class(image, mimetype="image/png")


def handout_file(key: str, kind: str):
    desk = state()
    made = desk.mine(key)
    found = desk.desk.rendition(key, f".{kind}") if made is not None else None
    if made is None or found is None:
        abort(404, GONE)
    data, filename = found
    inline = request.args.get("view") and kind == "pdf"
    # Shown by the browser's PDF viewer only to print it (Print, Open the PDF to print).
    desk.record("printed" if inline else "downloaded", made, detail=filename)
    response = current_app.response_class(data, mimetype=TYPES[f".{kind}"])
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def forget(key: str):
    desk = state()
    if desk.mine(key) is not None:
        desk.desk.forget(key)
    return redirect(url_for("form"), 303)
