"""The schedule from the site's FHIR server, and one booking of it as the form's values."""

from __future__ import annotations

import logging

from flask import Flask, abort, render_template, request, session

from ...errors import ParsDocsError
from ..desk import FormValues
from ..state import state

log = logging.getLogger("pars_docs.web")


def register(app: Flask) -> None:
    app.add_url_rule("/schedule", "schedule_list", schedule_list, methods=["GET"])


def booking_values(key: str) -> FormValues:
    desk = state()
    schedule = desk.schedule
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
        large_print=desk.engine.site.large_print,
    )


def schedule_list():
    desk = state()
    if desk.schedule is None:
        abort(404, "This desk reads no schedule: the site profile names no FHIR server.")
    clinician = request.args.get("clinician", "")[:100]
    clinicians = list(desk.engine.site.clinicians)
    try:
        bookings = desk.schedule.fetch(session["sid"], clinician)
    except ParsDocsError as e:
        log.warning("schedule: %s", e.public(False).splitlines()[0])
        return render_template(
            "schedule.html",
            bookings=[],
            clinician=clinician,
            clinicians=clinicians,
            problem="The schedule could not be read from the clinic’s record system. "
            "Try again in a minute, or type the details in the form.",
        ), 502
    return render_template(
        "schedule.html",
        bookings=bookings,
        clinician=clinician,
        clinicians=clinicians,
        problem=None,
    )
