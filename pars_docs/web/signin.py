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
