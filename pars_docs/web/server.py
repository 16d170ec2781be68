"""Run the desk application on waitress until Ctrl-C, and leave nothing behind."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import webbrowser
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..service.inputs import Site
from ..service.outputs import engine as site_engine
from . import security
from .app import create_app
from .state import MAX_UPLOAD

WORK_PREFIX = "pars-docs-serve-"
PID_FILE = "server.pid"  # names the server whose folder it is
log = logging.getLogger("pars_docs.web")


def build(
    site: Site,
    host: str,
    port: int,
    token: str | None,
    work_dir: Path,
    *,
    warm: bool = True,
    accounts_file: Path | None = None,
    token_on_loopback: bool = False,
):
    """The application for ``site`` on ``host``:``port``, its engine warmed so the first
    handout is as quick as the rest. An accounts file (``accounts_file``, else the site's)
    turns sign-in on, on any address; the site's audit trail, if it names one, is kept."""
    from ..audit import AuditTrail
    from .accounts import Accounts

    loopback = security.is_loopback(host)
    accounts_path = accounts_file or site.accounts
    accounts = Accounts(accounts_path) if accounts_path else None
    if accounts is not None and not accounts.list():  # also: the file is there and readable
        raise UsageError(
            f"{accounts_path}: no accounts yet; add one with: pars-docs accounts add NAME "
            "--role admin",
            field="accounts",
        )
    if not loopback and not token and accounts is None:
        raise UsageError(
            f"--host {host}: other computers could reach the page; set "
            f"${security.TOKEN_ENV} or give --token-file with an access token of at least "
            f"{security.MIN_TOKEN} characters",
            field="host",
        )
    trail = AuditTrail(site.audit, site.audit_patient) if site.audit else None
    if trail is not None:
        trail.ensure()  # refused at start, not at the first handout
    today = None
    if site.today is not None or site.today_key is not None:
        from .today import TodayList, load_key

        if site.today is None or site.today_key is None:
            raise UsageError(
                "today: the list of the day's handouts needs both today (its file) and "
                "today_key (the key that encrypts it) in the site profile",
                field="today",
            )
        today = TodayList(
            site.today, load_key(site.today_key), site.tz, site.today_keep_hours, trail
        )
        today.purge()  # what a stopped server left past its retention
    engine = site_engine(site)
    if warm:
        engine.warm()
    return create_app(
        engine,
        work_dir,
        # On loopback the token is asked for only when it was given on purpose (--token-file).
        token=None if (loopback and not token_on_loopback) or accounts is not None else token,
        allowed_hosts=security.loopback_hosts(port) if loopback else None,
        accounts=accounts,
        audit=trail,
        today=today,
    )


def serve(
    site: Site,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    token: str | None = None,
    open_browser: bool = False,
    note=print,
    accounts_file: Path | None = None,
    token_on_loopback: bool = False,
) -> None:
    """Serve until interrupted. Runs and made handouts live in memory and in one private
    temporary folder, removed on the way out however the server stops."""
    from waitress.server import create_server

    logging.basicConfig(level=logging.INFO, format="pars-docs serve: %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    sweep(Path(tempfile.gettempdir()), log.warning)
    work_dir = Path(tempfile.mkdtemp(prefix=WORK_PREFIX))
    (work_dir / PID_FILE).write_text(str(os.getpid()), encoding="ascii")
    server: Any = None  # waitress's types lack effective_port, which its TCP server has
    app = None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        app = build(
            site, host, port, token, work_dir, accounts_file=accounts_file,
            token_on_loopback=token_on_loopback,
        )  # fmt: skip
        try:
            server = create_server(
                app,
                host=host,
                port=port,
                threads=4,
                ident="pars-docs",
                max_request_body_size=2 * MAX_UPLOAD,  # the app refuses more, with a page
                # Request and response bodies stay in memory: waitress would otherwise spool
                # those over 512 kB / 1 MB (an upload, a packet) to temporary files.
                inbuf_overflow=2 * MAX_UPLOAD + 65536,
                outbuf_overflow=1 << 30,
                clear_untrusted_proxy_headers=True,
            )
        except OSError as e:
            raise UsageError(f"--port {port}: cannot listen on {host} ({e.strerror})") from e
        hosts = app.extensions["pars_docs"]["allowed_hosts"]
        if hosts is not None:  # --port 0: the port chosen by the system
            hosts.update(security.loopback_hosts(server.effective_port))
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{server.effective_port}/"
        signing_in = app.extensions["pars_docs"]["accounts"] is not None
        if not security.is_loopback(host) and not signing_in:
            note(
                f"warning: listening on {host}: other computers on the network can reach "
                f"this page; each browser must sign in with the access token"
            )
        elif not security.is_loopback(host):
            note(
                f"warning: listening on {host}: other computers on the network can reach this page"
            )
        note(f"the nurse's desk is at {url} (Ctrl-C stops it)")
        if signing_in:
            note("sign-in is on: every page needs a desk account")
        if open_browser:
            threading.Timer(0.3, webbrowser.open, (url,)).start()
        for sig in previous:  # Ctrl-C stops it even if SIGINT came in ignored (a background job)
            signal.signal(sig, _stop)
        if sys.platform == "win32":  # Ctrl-Break stops it too
            signal.signal(signal.SIGBREAK, _stop)
        server.run()  # returns on Ctrl-C (waitress catches KeyboardInterrupt itself)
        note("stopping")
    except KeyboardInterrupt:
        note("stopping")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if server is not None:
            server.close()
        if app is not None:
            parts = app.extensions["pars_docs"]
            parts["packets"].stop_all()
            parts["desk"].clear()
        shutil.rmtree(work_dir, ignore_errors=True)


def sweep(root: Path, note) -> int:
    """Remove the folders in ``root`` left by desk servers that were stopped hard (SIGKILL,
    a power cut): their server's process is gone. They may hold a run's uploaded list and
    handouts. Returns how many were removed; each is noted (without its contents)."""
    removed = 0
    for folder in root.glob(f"{WORK_PREFIX}*"):
        try:
            if hasattr(os, "getuid") and folder.stat().st_uid != os.getuid():
                continue  # another user's
            try:
                pid = int((folder / PID_FILE).read_text(encoding="ascii"))
            except (OSError, ValueError):
                # No process named: left by an older version, or a start cut short. One
                # being made this moment is younger than a minute.
                if time.time() - folder.stat().st_mtime < 60:
                    continue
                pid = None
            if pid is not None and _alive(pid):
                continue
            jobs = sum(1 for _ in folder.glob("job-*"))
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
        note(
            f"removed {folder.name}, left by a desk server that was stopped without tidying "
            f"up (process {pid or 'unknown'}; {jobs} packet run{'s' if jobs != 1 else ''} "
            "in it)"
        )
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid() or sys.platform == "win32":
        return True  # Windows' os.kill would end the process it asks about
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # there, but not ours to signal
    return True


def _stop(_signum, _frame):
    raise KeyboardInterrupt
