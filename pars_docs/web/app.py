"""The desk web application: the Flask app for one site, with its routes (``routes/``, one
module per area) and the clinic's own sets (``editor.py``, a blueprint).

URLs hold only random ids, never a patient value; the request log names the route, not the
path. Every error a person can cause is a page with the message, never a stack trace.
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, Request

from . import editor, routes
from .desk import Desk
from .packets import Packets
from .schedule import Schedule
from .state import MAX_UPLOAD, DeskState

if TYPE_CHECKING:
    from ..audit import AuditTrail
    from ..service.outputs import Engine
    from .accounts import Accounts
    from .today import TodayList


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
    state = DeskState(
        engine=engine,
        desk=desk,
        packets=packets,
        token=token,
        allowed_hosts=allowed_hosts,
        accounts=accounts,
        audit=audit,
        today=today,
        schedule=Schedule(engine.site, engine.library) if engine.site.fhir_server else None,
        printers={printer.queue: printer for printer in engine.site.printers},
    )
    app.extensions["pars_docs"] = {
        "state": state,
        "desk": desk,
        "packets": packets,
        "allowed_hosts": allowed_hosts,
        "accounts": accounts,
        "audit": audit,
        "today": today,
    }
    # The clinic's own sets, edited at the desk (editor.py): only an editor, or this computer.
    app.register_blueprint(editor.blueprint)
    routes.register(app)
    return app
