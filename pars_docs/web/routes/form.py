"""The desk form page, with its choices: shown empty, filled again, or with each error
beside its field (by the handout routes and by a reprint of today's list)."""

from __future__ import annotations

from flask import render_template, request

from ..desk import PAPERS, FormValues
from ..state import state


def show_form(values: FormValues, errors: dict[str, str], status: int = 200):
    desk = state().desk
    site = state().engine.site
    return (
        render_template(
            "form.html",
            values=values,
            errors=errors,
            procedures=desk.procedures(),
            procedure_groups=desk.procedure_groups(),
            left_out=desk.left_out(),
            medicine_names=desk.medicine_names(),
            clinicians=list(site.clinicians),
            zone=desk.zone_now(),
            papers=PAPERS,
            site_paper=site.paper,
            later=desk.later_options(),
            languages=desk.languages(),
            # Sent back after a restart or a lost cookie: the page fills the form in again
            # from what it kept in this browser (desk.js).
            restore=request.endpoint == "form" and request.args.get("restore") == "1",
        ),
        status,
    )
