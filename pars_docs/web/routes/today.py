"""Today's list: each handout made today, kept (encrypted) for the list, for a reprint as
printed or in the set's current version, and for "Change" (the form filled again)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from flask import Flask, abort, redirect, render_template, request, session, url_for

from ...audit import patient_id
from ...errors import ParsDocsError
from ..desk import FormValues
from ..state import state
from .form import show_form

if TYPE_CHECKING:
    from ..desk import DeskHandout
    from ..today import Kept


def register(app: Flask) -> None:
    app.add_url_rule("/today", "today_list", today_list, methods=["GET"])
    app.add_url_rule("/today/<kept_id>/reprint", "reprint", reprint, methods=["POST"])


def keep_for_today(made: DeskHandout) -> None:
    desk = state()
    today, audit = desk.today, desk.audit
    if today is None or made.visit is None or made.handout is None:
        return
    visit, iset = made.visit, made.handout.instruction_set
    values = asdict(made.values)
    values.pop("unknown", None)  # found again when the form is checked
    start = made.handout.plan.moments["start"]
    today.add(
        desk.user_name(),
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
    desk = state()
    kept = desk.today.get(kept_id) if desk.today is not None else None
    if kept is None or not (desk.sees_clinic() or kept.owner == desk.user_name()):
        abort(404, "This handout is no longer kept. Make it again.")
    return kept


def kept_values(kept: Kept) -> FormValues:
    known = FormValues.__dataclass_fields__
    return FormValues(**{k: v for k, v in kept.values.items() if k in known})


def today_list():
    desk = state()
    if desk.today is None:
        abort(404, "This desk keeps no list of the day's handouts.")
    query = request.args.get("q", "")[:100]
    everyone = desk.sees_clinic()
    kept = desk.today.listed(None if everyone else desk.user_name(), query)
    zone = desk.engine.site.tz
    rows = [
        {
            "id": k.id,
            "owner": k.owner,
            "shown": k.shown,
            "made": k.made_at.astimezone(zone).strftime("%I:%M %p").lstrip("0"),
        }
        for k in kept
    ]
    hours = desk.engine.site.today_keep_hours
    retention = f"for {hours} hours" if hours else "until the end of the day"
    return render_template(
        "today.html", kept=rows, query=query, everyone=everyone, retention=retention
    )


def reprint(kept_id: str):
    desk = state()
    kept = kept_or_404(kept_id)
    shown = kept.shown
    try:
        current = desk.engine.library.get(shown["set_id"]).version
    except ParsDocsError:
        current = None  # the set is gone: only the handout as printed can be given
    chosen = request.form.get("version")
    if chosen not in ("same", "current") and current not in (None, shown["version"]):
        return render_template("reprint.html", kept=kept, current=current)
    if chosen == "same" or current is None:
        return reprint_as_printed(kept)
    values = kept_values(kept)
    values.reprint = True  # the appointment may be over by now
    remade, errors = desk.desk.make(values)
    if errors or remade is None:
        return show_form(values, errors, 422)
    made = desk.desk.get(remade)
    if made is None:
        abort(404, "This handout is no longer kept. Make it again.")
    made.owner = session["sid"]
    desk.record("handout-made", made, detail="reprint, current version")
    return redirect(url_for("preview", key=remade), 303)


def reprint_as_printed(kept: Kept):
    """The handout kept, given again byte for byte."""
    desk = state()
    shown = kept.shown
    values = kept_values(kept)
    key = desk.desk.keep_printed(kept.pdf, values, shown["title"], shown["filename"])
    made = desk.desk.get(key)
    assert made is not None
    made.owner = session["sid"]
    desk.record(
        "handout-made",
        set_id=shown["set_id"],
        set_version=shown["version"],
        language=shown.get("language"),
        patient=shown.get("audit_patient") or None,
        pdf=kept.pdf,
        detail="reprint, as printed before",
    )
    return redirect(url_for("preview", key=key), 303)
