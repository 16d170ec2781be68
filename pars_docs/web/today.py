"""Today's handouts: what the desk keeps so a nurse can find, reprint or change a handout she
made earlier in the day, encrypted at rest and purged after the site's retention.

Each kept visit is one row of a SQLite file the site names (``today:``). Everything about the
patient (the form as it was filled in, the PDF as it was printed, the names shown in the
list) is one AES-256-GCM ciphertext, sealed with a key from the file the site names
(``today_key:``, 32 random bytes, made with mode 0600 on first use and refused when other
users may read it); the row id is its associated data, so a ciphertext moved to another row
does not open. In the clear are only the row id, who made it, when, and when it is purged.

A purge (at start, and before each list or addition) deletes what is past its retention and
is recorded in the audit trail (``purged``) when the site keeps one.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sqlite3
import stat
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..errors import ParsDocsError, SiteError

if TYPE_CHECKING:
    from ..audit import AuditTrail

KEY_BYTES = 32
SCHEMA = """
CREATE TABLE IF NOT EXISTS kept (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    made_at TEXT NOT NULL,
    purge_at TEXT NOT NULL,
    nonce BLOB NOT NULL,
    sealed BLOB NOT NULL
);
"""


class KeptError(ParsDocsError):
    """Raised when today's list cannot be kept or read (its file, or its key)."""


@dataclass
class Kept:
    """One handout kept for today's list: the form's values, the PDF, and what the list
    shows (patient, record number, title, the set's id and version, the appointment)."""

    id: str
    owner: str
    made_at: datetime  # UTC
    values: dict[str, Any]
    pdf: bytes
    shown: dict[str, str]

    def matches(self, query: str) -> bool:
        """Whether ``query`` is part of the patient's name or record number (any case)."""
        wanted = query.strip().casefold()
        return not wanted or any(
            wanted in (self.shown.get(k) or "").casefold() for k in ("patient", "mrn")
        )


def load_key(path: Path) -> bytes:
    """The key in ``path``, made (32 random bytes, mode 0600) if there is no file yet. A key
    file others may read, or of the wrong size, is refused."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as e:
        raise SiteError(f"today_key: cannot make {path} ({e.strerror})", field="today_key") from e
    else:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(KEY_BYTES))
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise SiteError(f"today_key: {path} is not a regular file", field="today_key")
        if os.name == "posix" and info.st_mode & 0o077:
            raise SiteError(
                f"today_key: {path} may be read by other users (mode "
                f"{stat.S_IMODE(info.st_mode):03o}); make it private: chmod 600 {path}",
                field="today_key",
            )
        key = path.read_bytes()
    except OSError as e:
        raise SiteError(f"today_key: cannot read {path} ({e.strerror})", field="today_key") from e
    if len(key) != KEY_BYTES:
        raise SiteError(
            f"today_key: {path} holds {len(key)} bytes, not a key of {KEY_BYTES}",
            field="today_key",
        )
    return key


class TodayList:
    """The kept visits in the SQLite file ``path``, sealed with ``key``. ``keep_hours``
    (None: until the end of the day on ``zone``'s clock) is how long each is kept."""

    def __init__(
        self,
        path: Path,
        key: bytes,
        zone: ZoneInfo,
        keep_hours: int | None = None,
        audit: AuditTrail | None = None,
    ):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.path = Path(path)
        self.zone = zone
        self.keep_hours = keep_hours
        self.audit = audit
        self._aead = AESGCM(key)
        self._lock = threading.Lock()
        self._connect().close()

    def _connect(self) -> sqlite3.Connection:
        try:
            if not self.path.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            db = sqlite3.connect(self.path, timeout=2.0, isolation_level=None)
            # Deleted rows are overwritten, not left in free pages of the file.
            db.execute("PRAGMA secure_delete = ON")
            db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise KeptError(f"today: cannot open {self.path} ({e})", field="today") from e
        return db

    def purge_time(self, made: datetime) -> datetime:
        """When a visit kept at ``made`` (UTC) is purged."""
        if self.keep_hours is not None:
            return made + timedelta(hours=self.keep_hours)
        local = made.astimezone(self.zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), self.zone)
        return midnight.astimezone(timezone.utc)

    def add(self, owner: str, values: dict[str, Any], pdf: bytes, shown: dict[str, str]) -> str:
        """Keep one handout; its id."""
        self.purge()
        key = secrets.token_urlsafe(18)
        made = datetime.now(timezone.utc)
        nonce = secrets.token_bytes(12)
        plain = json.dumps(
            {"values": values, "pdf": base64.b64encode(pdf).decode(), "shown": shown}
        ).encode()
        sealed = self._aead.encrypt(nonce, plain, key.encode())
        with self._lock:
            db = self._connect()
            try:
                db.execute(
                    "INSERT INTO kept VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        owner,
                        made.isoformat(),
                        self.purge_time(made).isoformat(),
                        nonce,
                        sealed,
                    ),
                )
            except sqlite3.Error as e:
                raise KeptError(f"today: cannot keep the handout ({e})", field="today") from e
            finally:
                db.close()
        return key

    def _open(self, row: tuple) -> Kept:
        from cryptography.exceptions import InvalidTag

        key, owner, made_at, _purge_at, nonce, sealed = row
        try:
            data = json.loads(self._aead.decrypt(nonce, sealed, key.encode()))
        except InvalidTag as e:
            raise KeptError(
                "today: a kept handout does not open with the site's key (the key file was "
                "changed, or the record was)",
                field="today",
            ) from e
        return Kept(
            key,
            owner,
            datetime.fromisoformat(made_at),
            data["values"],
            base64.b64decode(data["pdf"]),
            data["shown"],
        )

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            db = self._connect()
            try:
                return db.execute(sql, args).fetchall()
            except sqlite3.Error as e:
                raise KeptError(f"today: cannot read {self.path} ({e})", field="today") from e
            finally:
                db.close()

    def listed(self, owner: str | None, query: str = "", day: date | None = None) -> list[Kept]:
        """Today's kept handouts (on the site's clock), newest first: ``owner``'s, or every
        one for None; only those whose patient or record number holds ``query``."""
        self.purge()
        day = day or datetime.now(self.zone).date()
        start = datetime.combine(day, time(0), self.zone).astimezone(timezone.utc)
        end = datetime.combine(day + timedelta(days=1), time(0), self.zone)
        sql = "SELECT * FROM kept WHERE made_at >= ? AND made_at < ?"
        args: tuple = (start.isoformat(), end.astimezone(timezone.utc).isoformat())
        if owner is not None:
            sql += " AND owner = ?"
            args += (owner,)
        found = [self._open(row) for row in self._rows(sql + " ORDER BY made_at DESC", args)]
        return [kept for kept in found if kept.matches(query)]

    def get(self, key: str) -> Kept | None:
        rows = self._rows("SELECT * FROM kept WHERE id = ? AND purge_at > ?", (key, _now()))
        return self._open(rows[0]) if rows else None

    def purge(self, now: datetime | None = None) -> int:
        """Remove every kept visit past its retention; the count. The purge is audited
        before it is done: if the record cannot be written, nothing is removed."""
        moment = (now or datetime.now(timezone.utc)).isoformat()
        with self._lock:
            db = self._connect()
            try:
                (count,) = db.execute(
                    "SELECT count(*) FROM kept WHERE purge_at <= ?", (moment,)
                ).fetchone()
                if not count:
                    return 0
                if self.audit is not None:
                    retention = (
                        f"{self.keep_hours} hours" if self.keep_hours else "the end of the day"
                    )
                    self.audit.record(
                        "purged",
                        "(desk)",
                        detail=f"{count} kept handouts past their retention ({retention})",
                    )
                db.execute("DELETE FROM kept WHERE purge_at <= ?", (moment,))
                db.execute("VACUUM")  # nothing of them left in the file's free pages
            except sqlite3.Error as e:
                raise KeptError(f"today: cannot purge {self.path} ({e})", field="today") from e
            finally:
                db.close()
        return count


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
