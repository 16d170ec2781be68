"""The audit trail's file: append, read back, verify the chain (see :mod:`pars_docs.audit`)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AuditError

if TYPE_CHECKING:
    from ..read.visit import Visit

# Each event a record can name, and what it means.
EVENTS = {
    "signed-in": "a user signed in at the desk",
    "sign-in-refused": "a sign-in with a wrong name or password, or a disabled account",
    "signed-out": "a user signed out, or the session ended",
    "handout-made": "a handout was made (desk or pars-docs make)",
    "previewed": "a handout's pages were shown at the desk",
    "downloaded": "a handout or a packet was downloaded",
    "printed": "the browser's print dialog was opened for a handout",
    "sent-to-printer": "a handout or packet was sent to a printer",
    "packet-made": "a packet was made from a list (desk or pars-docs batch)",
    "set-edited": "an instruction set was changed",
    "purged": "kept visits were removed after the site's retention",
}
# The fields a record's hash covers, in order.
FIELDS = (
    "seq",
    "at",
    "event",
    "user",
    "channel",
    "set_id",
    "set_version",
    "language",
    "patient",
    "pdf_sha256",
    "detail",
    "prev",
)
GENESIS = "0" * 64
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    user TEXT NOT NULL,
    channel TEXT NOT NULL,
    set_id TEXT,
    set_version TEXT,
    language TEXT,
    patient TEXT,
    pdf_sha256 TEXT,
    detail TEXT,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""


@dataclass(frozen=True)
class Entry:
    """One record of the trail."""

    seq: int
    at: str
    event: str
    user: str
    channel: str
    set_id: str | None
    set_version: str | None
    language: str | None
    patient: str | None
    pdf_sha256: str | None
    detail: str | None
    prev: str
    hash: str

    def as_dict(self) -> dict:
        return asdict(self)


def chain_hash(fields: dict) -> str:
    """The SHA-256 of a record's fields (its ``prev`` among them), as canonical JSON."""
    text = json.dumps([fields[name] for name in FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def patient_id(visit: Visit, rule: str = "mrn") -> str:
    """How the trail names ``visit``'s patient: ``mrn`` gives the record number when the
    visit has one, else the name and date of birth; ``name_dob`` always the latter."""
    if rule == "mrn" and visit.mrn:
        return f"MRN {visit.mrn}"
    born = f" (born {visit.dob.isoformat()})" if visit.dob else ""
    return f"{visit.patient}{born}"


def command_user() -> str:
    """Who runs a command, as the trail names them: the computer's user name."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for this user id (a container's)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "(unknown)"


class AuditTrail:
    """The trail in the SQLite file at ``path``, made (mode 0600) on first use."""

    TIMEOUT = 2.0  # seconds to wait for another writer before the action is refused

    def __init__(self, path: Path, patient_rule: str = "mrn"):
        self.path = Path(path)
        self.patient_rule = patient_rule
        self._lock = threading.Lock()

    def _connect(self, create: bool) -> sqlite3.Connection:
        if not self.path.exists():
            if not create:
                raise AuditError(f"{self.path}: no audit trail here", field="audit")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = sqlite3.connect(self.path, timeout=self.TIMEOUT, isolation_level=None)
        db.execute("PRAGMA synchronous = FULL")
        db.executescript(SCHEMA)
        return db

    def ensure(self) -> None:
        """Make the file if it is not there yet; :class:`AuditError` if it cannot be."""
        try:
            self._connect(create=True).close()
        except (OSError, sqlite3.Error) as e:
            raise AuditError(
                f"{self.path}: cannot open the audit trail ({e})", field="audit"
            ) from e

    def record(
        self,
        event: str,
        user: str,
        *,
        channel: str = "desk",
        set_id: str | None = None,
        set_version: str | None = None,
        language: str | None = None,
        patient: str | None = None,
        pdf: bytes | None = None,
        pdf_sha256: str | None = None,
        detail: str | None = None,
    ) -> Entry:
        """Append one record and commit it to disk; :class:`AuditError` if that fails.
        ``pdf`` is hashed here; ``pdf_sha256`` gives a hash already made."""
        fields = {
            "event": event,
            "user": user,
            "channel": channel,
            "set_id": set_id,
            "set_version": set_version,
            "language": language,
            "patient": patient,
            "pdf_sha256": hashlib.sha256(pdf).hexdigest() if pdf is not None else pdf_sha256,
            "detail": detail,
        }
        return self.record_all([fields])[0]

    def record_all(self, records: list[dict[str, Any]]) -> list[Entry]:
        """Append several records (each the keyword arguments of :meth:`record`, ``pdf``
        already hashed as ``pdf_sha256``) in one transaction: all are written, or none."""
        at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        made = []
        for given in records:
            if given["event"] not in EVENTS:
                raise ValueError(f"unknown audit event {given['event']!r}")
            fields: dict[str, Any] = {name: None for name in FIELDS}
            fields.update({"channel": "desk", **given})
            fields["at"] = at
            made.append(fields)
        names = (*FIELDS, "hash")
        insert = (
            f"INSERT INTO records ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        )
        with self._lock:
            try:
                db = self._connect(create=True)
            except (OSError, sqlite3.Error) as e:
                raise self._refused(e) from e
            try:
                db.execute("BEGIN IMMEDIATE")  # one writer at a time, across processes
                last = db.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1")
                row = last.fetchone()
                seq, prev = (row[0], row[1]) if row else (0, GENESIS)
                for fields in made:
                    seq += 1
                    fields["seq"], fields["prev"] = seq, prev
                    fields["hash"] = prev = chain_hash(fields)
                    db.execute(insert, [fields[name] for name in names])
                db.execute(
                    "INSERT OR REPLACE INTO head (id, seq, hash) VALUES (1, ?, ?)", (seq, prev)
                )
                db.execute("COMMIT")
            except (OSError, sqlite3.Error) as e:
                if db.in_transaction:
                    try:
                        db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise self._refused(e) from e
            finally:
                db.close()
        return [Entry(**fields) for fields in made]

    def _refused(self, error: Exception) -> AuditError:
        return AuditError(
            f"{self.path}: the audit trail cannot be written ({error}); the action was not done",
            field="audit",
        )

    def entries(
        self,
        since: datetime | None = None,
        user: str | None = None,
        patient: str | None = None,
    ) -> list[Entry]:
        """The records in order, those at or after ``since``, by ``user`` and about
        ``patient`` (a part of the identifier, without case) when given."""
        where, values = [], []
        if since is not None:
            where.append("at >= ?")
            values.append(since.astimezone(timezone.utc).isoformat(timespec="microseconds"))
        if user:
            where.append("user = ?")
            values.append(user)
        if patient:
            where.append("instr(lower(patient), lower(?)) > 0")
            values.append(patient)
        sql = "SELECT * FROM records"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [Entry(*row) for row in self._read(sql + " ORDER BY seq", values)]

    def _read(self, sql: str, values=()) -> list[tuple]:
        try:
            db = self._connect(create=False)
            try:
                return db.execute(sql, values).fetchall()
            finally:
                db.close()
        except sqlite3.Error as e:
            raise AuditError(f"{self.path}: cannot read the audit trail ({e})") from e

    def head(self) -> tuple[int, str]:
        """The last record's number and hash: written down elsewhere (a daily print-out),
        it shows later whether records at the end were removed."""
        rows = self._read("SELECT seq, hash FROM head WHERE id = 1")
        return (rows[0][0], rows[0][1]) if rows else (0, GENESIS)

    def verify(self, earlier_head: str | None = None) -> list[str]:
        """Every break in the chain: a record changed, one removed, the head not the last
        record; and ``earlier_head`` (a hash written down before) not in the chain."""
        problems = []
        prev, expected = GENESIS, 1
        seen = set()
        for row in self._read("SELECT * FROM records ORDER BY seq"):
            entry = Entry(*row)
            if entry.seq != expected:
                problems.append(
                    f"record {expected}"
                    + (f" to {entry.seq - 1}" if entry.seq - 1 > expected else "")
                    + " removed"
                )
            if entry.prev != prev:
                problems.append(f"record {entry.seq}: does not follow the record before it")
            fields = entry.as_dict()
            if chain_hash(fields) != entry.hash:
                problems.append(f"record {entry.seq}: changed after it was written")
            prev, expected = entry.hash, entry.seq + 1
            seen.add(entry.hash)
        head_seq, head_hash = self.head()
        if (head_seq, head_hash) != (expected - 1, prev if expected > 1 else GENESIS):
            problems.append(
                f"the trail ends at record {expected - 1}, but its head says {head_seq}: "
                "records at the end were removed or the head was changed"
            )
        if earlier_head and earlier_head not in seen:
            problems.append(
                f"the head {earlier_head[:16]}… written down before is not in the trail"
            )
        return problems
