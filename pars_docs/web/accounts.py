"""The desk's named users: an accounts file (SQLite) of names, roles and password hashes.

Passwords are hashed with Argon2id (argon2-cffi, the reference implementation's bindings)
at its RFC 9106 defaults, and never stored or logged. A name that is not there costs the same
time to check as a wrong password, so sign-in does not tell which names exist.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import AccountError

# What each role may do at the desk. Every role makes single handouts; a scheduler also
# uploads lists for packets and sees the clinic's list of the day; an admin sees everyone's.
ROLES = ("nurse", "scheduler", "editor", "admin")
MIN_PASSWORD = 10
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    role TEXT NOT NULL,
    hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    changed TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Account:
    """One desk user, as the accounts file holds it (without the hash)."""

    name: str
    role: str
    disabled: bool
    created: str
    changed: str

    def may(self, action: str) -> bool:
        """Whether this user's role allows ``action``: ``packets`` (upload a list),
        ``everyone`` (see and fetch what other users made) or ``edit`` (change the clinic's
        own instruction sets)."""
        allowed = {"packets": ("scheduler", "admin"), "everyone": ("admin",), "edit": ("editor",)}
        return self.role in allowed.get(action, ())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise AccountError(
            f"account name '{name}': use 1 to 64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit",
            field="name",
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"the password must be at least {MIN_PASSWORD} characters", field="password"
        )
    if password != password.strip() or "\n" in password:
        raise AccountError(
            "the password cannot start or end with a space or hold a line break",
            field="password",
        )
    return password


class Accounts:
    """The accounts file at ``path``, made (mode 0600) on first use by :meth:`add`."""

    def __init__(self, path: Path):
        from argon2 import PasswordHasher

        self.path = Path(path)
        self.hasher = PasswordHasher()
        # Checked against when a name is unknown, so that costs what a wrong password does.
        self._dummy = self.hasher.hash("not a password anyone has")

    @contextmanager
    def _db(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        if not create and not self.path.is_file():
            raise AccountError(
                f"{self.path}: no accounts file; add the first account with: "
                "pars-docs accounts add NAME --role admin",
                field="accounts",
            )
        try:
            if create and not self.path.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            db = sqlite3.connect(self.path, timeout=5)
        except (OSError, sqlite3.Error) as e:
            raise AccountError(f"{self.path}: cannot open the accounts file ({e})") from e
        try:
            with db:
                db.execute(SCHEMA)
                yield db
        except sqlite3.DatabaseError as e:
            raise AccountError(f"{self.path}: cannot use the accounts file ({e})") from e
        finally:
            db.close()

    def add(self, name: str, role: str, password: str) -> Account:
        check_name(name)
        if role not in ROLES:
            raise AccountError(f"role '{role}': use one of {', '.join(ROLES)}", field="role")
        digest = self.hasher.hash(check_password(password))
        now = _now()
        with self._db(create=True) as db:
            try:
                db.execute(
                    "INSERT INTO accounts (name, role, hash, created, changed) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (name, role, digest, now, now),
                )
            except sqlite3.IntegrityError as e:
                raise AccountError(f"account '{name}' already exists", field="name") from e
        return Account(name, role, False, now, now)

    def list(self) -> list[Account]:
        with self._db() as db:
            rows = db.execute(
                "SELECT name, role, disabled, created, changed FROM accounts ORDER BY name"
            ).fetchall()
        return [Account(n, r, bool(d), c, ch) for n, r, d, c, ch in rows]

    def get(self, name: str) -> Account | None:
        with self._db() as db:
            row = db.execute(
                "SELECT name, role, disabled, created, changed FROM accounts WHERE name = ?",
                (name,),
            ).fetchone()
        return Account(row[0], row[1], bool(row[2]), row[3], row[4]) if row else None

    def _change(self, name: str, sql: str, *values) -> None:
        with self._db() as db:
            changed = db.execute(sql, (*values, _now(), name)).rowcount
        if not changed:
            raise AccountError(f"no account named '{name}'", field="name")

    def disable(self, name: str) -> None:
        """Sign-in refused from now on; a session it has open ends at its next request."""
        self._change(name, "UPDATE accounts SET disabled = 1, changed = ? WHERE name = ?")

    def reset(self, name: str, password: str) -> None:
        """A new password; a disabled account is enabled again."""
        digest = self.hasher.hash(check_password(password))
        self._change(
            name, "UPDATE accounts SET hash = ?, disabled = 0, changed = ? WHERE name = ?", digest
        )

    def check(self, name: str, password: str) -> Account | None:
        """The account if ``password`` is its password and it is not disabled, else None."""
        from argon2.exceptions import InvalidHashError, VerificationError

        with self._db() as db:
            row = db.execute(
                "SELECT name, role, disabled, created, changed, hash FROM accounts WHERE name = ?",
                (name,),
            ).fetchone()
        try:
            self.hasher.verify(row[5] if row else self._dummy, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row[2]:
            return None
        if self.hasher.check_needs_rehash(row[5]):  # the library's defaults have grown
            with self._db() as db:
                db.execute(
                    "UPDATE accounts SET hash = ? WHERE name = ?",
                    (self.hasher.hash(password), name),
                )
        return Account(row[0], row[1], bool(row[2]), row[3], row[4])
