"""Sign-in with named accounts: failed attempts counted and locked out, and the idle limit.

Held in memory: a restart forgets the counts (and ends every session, since the cookie key
is made at start).
"""

from __future__ import annotations

import threading
import time
from collections import deque


class Throttle:
    """Counts failed sign-ins by account name and by client address. After ``LIMIT`` failures
    for a name within ``WINDOW`` seconds (or ``ADDRESS_LIMIT`` from one address, which tries
    many names), further attempts are refused, the right password too, until the oldest
    failure leaves the window."""

    WINDOW = 15 * 60
    LIMIT = 5
    ADDRESS_LIMIT = 20

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        found = self._failures.setdefault(key, deque())
        while found and now - found[0] > self.WINDOW:
            found.popleft()
        return found

    def wait(self, name: str, address: str) -> int:
        """Seconds until ``name`` from ``address`` may try again; 0 if it may now."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key, limit in (
                (f"name:{name.casefold()}", self.LIMIT),
                (f"addr:{address}", self.ADDRESS_LIMIT),
            ):
                recent = self._recent(key, now)
                if len(recent) >= limit:
                    waits.append(int(self.WINDOW - (now - recent[0])) + 1)
            return max(waits, default=0)

    def failed(self, name: str, address: str) -> int:
        """Count one failure; returns the failures for ``name`` within the window."""
        now = time.monotonic()
        with self._lock:
            self._recent(f"addr:{address}", now).append(now)
            recent = self._recent(f"name:{name.casefold()}", now)
            recent.append(now)
            return len(recent)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"name:{name.casefold()}", None)


class LiveSessions:
    """Token-mode sessions the server opened and has not seen closed. The session cookie is
    signed but kept by the browser, so a copy of it would outlive signing out; a session is
    good only while its key is here."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def open(self) -> str:
        import secrets

        key = secrets.token_urlsafe(24)
        with self._lock:
            self._keys.add(key)
        return key

    def holds(self, key: object) -> bool:
        with self._lock:
            return isinstance(key, str) and key in self._keys

    def close(self, key: object) -> None:
        with self._lock:
            if isinstance(key, str):
                self._keys.discard(key)
