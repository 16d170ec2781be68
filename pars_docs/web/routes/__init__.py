"""The desk's routes, one module per area, each registering its views on the application
with the endpoint names the templates use (``url_for('form')``):

- ``gate``: who may come in (host, sign-in, CSRF), before every request;
- ``frame``: what every page shares (template values, security headers, the request log)
  and the error pages;
- ``signin``: signing in and out;
- ``form``: the desk form page, shown by more than one area;
- ``handout``: one handout (make, preview, downloads, send to a printer, forget);
- ``schedule``: the schedule from the site's FHIR server;
- ``today``: today's list and reprints;
- ``packets``: a packet from an uploaded list;
- ``printing``: sending a PDF to one of the site's printers.
"""

from __future__ import annotations

from flask import Flask

from . import frame, gate, handout, packets, schedule, signin, today


def register(app: Flask) -> None:
    """Every route, hook and error page of the desk on ``app``."""
    for area in (gate, frame, signin, handout, schedule, today, packets):
        area.register(app)
