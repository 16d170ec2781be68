"""Sending a PDF to the printer chosen in the form, one of the site's printers (CUPS)."""

from __future__ import annotations

import logging
from typing import Any

from flask import request

from ...errors import OutputError
from ...service.outputs import print_pdf
from ..state import state

log = logging.getLogger("pars_docs.web")


def send(document: bytes, what: str, **recorded: Any) -> tuple[str | None, str | None]:
    """Send ``document`` (a PDF) to the chosen printer, recorded first; (what to say,
    an error)."""
    desk = state()
    printer = desk.printers.get(request.form.get("printer", ""))
    if printer is None:
        return None, "Choose a printer from the list."
    desk.record("sent-to-printer", detail=f"{what} to {printer.name} ({printer.queue})", **recorded)
    try:
        job = print_pdf(document, printer.queue, title=f"pars-docs {what}", duplex=printer.duplex)
    except OutputError as e:
        log.warning("printing to %s failed: %s", printer.queue, e.message)
        return None, (
            f"The printer “{printer.name}” did not take it ("
            f"{e.message.split('(', 1)[-1].rstrip(')') if '(' in e.message else e.message}"
            "). Download the PDF and print it from the computer instead."
        )
    return f"Sent to {printer.name} (print job {job}).", None


def send_status(sent: str | None, error: str | None) -> int:
    """The page's status after a send: 200 sent, 502 the printer refused, 400 no printer."""
    return 200 if sent else 502 if error and "did not take" in error else 400
