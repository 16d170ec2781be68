"""The listener: MLLP frames in, one warm engine, ACKs out, and a record of what it answered."""

from __future__ import annotations

import ipaddress
import os
import socket
import socketserver
import sqlite3
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import ParsDocsError, UsageError
from ..service.inputs import BadRow, Site, Skipped, feed_for, hl7_appointments
from ..service.outputs import default_filename, document_identifier, engine, write_atomic
from ..service.visits import visit_of
from . import messages
from .mllp import FrameReader, frame, send

IDLE_SECONDS = 300  # a connection that sends nothing this long is closed
HANDSHAKE_SECONDS = 10  # a TLS client that has not finished its handshake by then is dropped


@dataclass(frozen=True)
class TlsOptions:
    """MLLP over TLS with client certificates (IHE ATNA's secure node): the listener's own
    certificate and key, and the certificate authorities whose client certificates it
    accepts. A sender without such a certificate gets no answer at all."""

    cert: Path
    key: Path
    client_ca: Path

    def context(self) -> ssl.SSLContext:
        """The server's TLS context (TLS 1.2 or later, a client certificate required);
        :class:`UsageError` naming the file that cannot be used."""
        for option, path in (("--tls-cert", self.cert), ("--tls-key", self.key)):
            if not path.is_file():
                raise UsageError(f"{option}: {path} is not a file", field=option[2:])
        if not self.client_ca.is_file():
            raise UsageError(
                f"--tls-client-ca: {self.client_ca} is not a file", field="tls-client-ca"
            )
        if os.name == "posix" and self.key.stat().st_mode & 0o077:
            raise UsageError(
                f"--tls-key: {self.key} may be read by other users; make it private "
                f"(chmod 600 {self.key})",
                field="tls-key",
            )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.verify_mode = ssl.CERT_REQUIRED
        try:
            context.load_cert_chain(str(self.cert), str(self.key))
        except (ssl.SSLError, OSError) as e:
            raise UsageError(
                f"--tls-cert/--tls-key: {self.cert} and {self.key} are not a certificate and "
                f"its key ({getattr(e, 'reason', None) or e})",
                field="tls-cert",
            ) from e
        try:
            context.load_verify_locations(cafile=str(self.client_ca))
        except (ssl.SSLError, OSError) as e:
            raise UsageError(
                f"--tls-client-ca: {self.client_ca} holds no CA certificate "
                f"({getattr(e, 'reason', None) or e})",
                field="tls-client-ca",
            ) from e
        return context


def loopback_only(host: str) -> bool:
    """Whether every address ``host`` stands for is on this machine only (127.0.0.0/8,
    ``::1``). ``""``, ``0.0.0.0`` and ``::`` (every interface) are not."""
    if not host:
        return False
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return False
    try:
        return bool(infos) and all(
            ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos
        )
    except ValueError:
        return False


def check_exposure(host: str, tls: TlsOptions | None) -> None:
    """Refuse to listen beyond this machine without authentication: MLLP itself has none,
    so anyone who can reach the port could have handouts made and read the ACKs. Off
    loopback the listener needs TLS with client certificates."""
    if tls is None and not loopback_only(host):
        raise UsageError(
            f"listen: {host or 'every interface'} is not a loopback address, and MLLP has no "
            "authentication of its own; give --tls-cert, --tls-key and --tls-client-ca so "
            "only senders with a certificate from that authority are answered",
            field="host",
        )


@dataclass
class ListenerOptions:
    """Where the listener answers and what it does with each handout."""

    host: str = "127.0.0.1"
    port: int = 2575
    state: Path = Path("pars-docs-listen.sqlite")
    out_dir: Path | None = None  # each PDF written here
    mdm_to: tuple[str, int] | None = None  # each PDF sent here as an MDM^T02
    mdm_dir: Path | None = None  # each MDM^T02 written here as a .hl7 file
    codes: str | None = None
    include_past: bool = False
    as_of: datetime | None = None
    tls: TlsOptions | None = None  # MLLP over TLS with client certificates


class Answered:
    """The record of answered messages (sender and MSH-10 → the ACK sent), in SQLite, so a
    message sent again, after a lost ACK or a restart, gets the same answer and nothing is
    made twice. Also each booking's newest revision made, so an older message that arrives
    late does not replace it."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS answered (sender TEXT, control_id TEXT, ack TEXT, "
            "at TEXT, PRIMARY KEY (sender, control_id))"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS bookings (visit_id TEXT PRIMARY KEY, revision INTEGER)"
        )

    def find(self, sender: str, control_id: str) -> str | None:
        row = self.db.execute(
            "SELECT ack FROM answered WHERE sender = ? AND control_id = ?", (sender, control_id)
        ).fetchone()
        return row[0] if row else None

    def keep(self, sender: str, control_id: str, ack: str, at: datetime) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO answered VALUES (?, ?, ?, ?)",
            (sender, control_id, ack, at.isoformat()),
        )

    def newest(self, visit_id: str) -> int | None:
        row = self.db.execute(
            "SELECT revision FROM bookings WHERE visit_id = ?", (visit_id,)
        ).fetchone()
        return row[0] if row else None

    def made(self, visit_id: str, revision: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO bookings VALUES (?, ?)", (visit_id, revision))

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM answered").fetchone()[0])

    def close(self) -> None:
        self.db.close()


class Transient(Exception):
    """Raised when a handout was made but could not be delivered (the MDM destination did
    not answer): the message is answered AE and not recorded, so the sender's resend
    tries again."""


class Listener:
    """Turns one HL7 v2 message into its ACK, making the handout as ``batch`` would."""

    def __init__(self, site: Site, options: ListenerOptions, note: Callable[[str], None]):
        self.options = options
        self.note = note
        self.engine = engine(site, options.as_of, include_past=options.include_past)
        self.feed = feed_for(
            site,
            self.engine.library,
            code_map=options.codes,
            as_of=options.as_of,
            include_past=options.include_past,
            warn=note,
        )
        self.answered = Answered(options.state)
        self.lock = threading.Lock()

    def answer(self, raw: bytes) -> str:
        """The ACK for one frame's bytes; made once per sender and control id."""
        now = datetime.now(timezone.utc)
        control = uuid.uuid4().hex[:20]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        parsed = messages.parse(text) if text and text.lstrip().startswith("MSH") else None
        header = messages.Header(parsed)
        if text is None or parsed is None:
            reason = "the frame is not an HL7 v2 message (UTF-8, beginning with MSH)"
            return messages.ack(header, "AR", now, control, reason, "hl7")
        with self.lock:
            if header.control_id:
                earlier = self.answered.find(header.sender, header.control_id)
                if earlier is not None:
                    return earlier
            try:
                ack = self._handle(text, parsed, header, now, control)
            except Transient as e:
                return messages.ack(header, "AE", now, control, str(e), None, messages.INTERNAL)
            except Exception as e:  # noqa: BLE001 - one message's fault must not stop the rest
                self.note(f"error: a message could not be handled ({type(e).__name__}); report it")
                reason = f"pars-docs could not handle this message ({type(e).__name__})"
                return messages.ack(header, "AE", now, control, reason, None, messages.INTERNAL)
            if header.control_id:
                self.answered.keep(header.sender, header.control_id, ack, now)
            return ack

    def _handle(self, text: str, parsed, header: messages.Header, now, control: str) -> str:
        results = list(hl7_appointments(text.replace("\n", "\r"), "message", self.feed))
        if len(results) != 1:
            reason = f"a frame must hold one message; this one holds {len(results)}"
            return messages.ack(header, "AR", now, control, reason, "hl7")
        (result,) = results
        if isinstance(result, Skipped):
            if result.tally == "not SIU":
                return messages.ack(
                    header, "AR", now, control, result.reason, "hl7", messages.UNSUPPORTED_TYPE
                )
            return messages.ack(header, "AA", now, control, f"no handout: {result.reason}")
        if isinstance(result, BadRow):
            error = result.error
            condition = messages.REQUIRED_MISSING if "no " in error.message else messages.DATA_TYPE
            return messages.ack(
                header, "AE", now, control, error.public(False), error.field, condition
            )
        if result.visit_id and result.revision is not None:
            newest = self.answered.newest(result.visit_id)
            if newest is not None and newest > result.revision:
                reason = "no handout: a later revision of this booking was already made"
                return messages.ack(header, "AA", now, control, reason)
        try:
            visit = visit_of(result)
            handout = self.engine.prepare(visit, fallback=True)
            pdf = handout.pdf()
        except ParsDocsError as e:
            return messages.ack(header, "AE", now, control, e.public(False), e.field)
        self._deliver(parsed, visit, handout, pdf, now)
        if result.visit_id and result.revision is not None:
            self.answered.made(result.visit_id, result.revision)
        return messages.ack(header, "AA", now, control, "handout made")

    def _deliver(self, parsed, visit, handout, pdf: bytes, now: datetime) -> None:
        options = self.options
        if options.out_dir is not None:
            write_atomic(options.out_dir / default_filename(visit), pdf)
        if options.mdm_to is None and options.mdm_dir is None:
            return
        document = document_identifier(pdf)["value"]
        mdm = messages.mdm_t02(
            parsed,
            pdf,
            document,
            now,
            uuid.uuid4().hex[:20],
            visit.clinician,
        )
        if options.mdm_dir is not None:
            name = default_filename(visit, ".hl7")
            write_atomic(options.mdm_dir / name, mdm.encode("utf-8"))
        if options.mdm_to is not None:
            host, port = options.mdm_to
            try:
                answer = send(host, port, mdm)
            except OSError as e:
                raise Transient(f"the document could not be sent to {host}:{port} ({e})") from e
            code = _msa_code(answer)
            if code not in ("AA", "CA"):
                raise Transient(f"{host}:{port} answered the document with {code or 'no MSA'}")

    def close(self) -> None:
        self.answered.close()


def _msa_code(answer: str) -> str:
    for segment in answer.replace("\n", "\r").split("\r"):
        if segment.startswith("MSA"):
            parts = segment.split(segment[3:4] or "|")
            return parts[1] if len(parts) > 1 else ""
    return ""


class _Handler(socketserver.BaseRequestHandler):
    server: Server

    def handle(self) -> None:
        connection: socket.socket = self.request
        if isinstance(connection, ssl.SSLSocket):
            connection.settimeout(HANDSHAKE_SECONDS)
            try:
                connection.do_handshake()
            except (ssl.SSLError, OSError) as e:
                # No certificate, one from another authority, or not TLS at all: no answer.
                reason = getattr(e, "reason", None) or type(e).__name__
                self.server.listener.note(
                    f"refused a connection from {self.client_address[0]}: TLS ({reason})"
                )
                return
        connection.settimeout(IDLE_SECONDS)
        reader = FrameReader()
        while not self.server.stopping.is_set():
            try:
                data = connection.recv(65536)
            except OSError:  # idle too long, or reset by the client
                return
            if not data:
                return  # a frame left unfinished is dropped: nothing was made for it
            for raw in reader.feed(data):
                ack = self.server.listener.answer(raw)
                try:
                    connection.sendall(frame(ack))
                except OSError:
                    return


class Server(socketserver.ThreadingTCPServer):
    """The MLLP server; each connection in a thread, messages made one at a time."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, listener: Listener, options: ListenerOptions) -> None:
        check_exposure(options.host, options.tls)
        self.listener = listener
        self.stopping = threading.Event()
        self.tls = options.tls.context() if options.tls else None
        if ":" in options.host:
            self.address_family = socket.AF_INET6
        super().__init__((options.host, options.port), _Handler)

    def get_request(self):
        connection, address = super().get_request()
        if self.tls is not None:
            # The handshake happens in the connection's own thread (see _Handler.handle),
            # so a slow or silent client cannot hold up the others.
            connection = self.tls.wrap_socket(
                connection, server_side=True, do_handshake_on_connect=False
            )
        return connection, address

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"{shown}:{port}"
