"""What keeps the desk page safe for patient data: who may use it, which requests are
accepted, and what the browser is told to allow.

- On a loopback address only this computer can connect, and the Host header must name
  loopback too (a web page elsewhere cannot reach the server by renaming itself, DNS
  rebinding). On any other address, every request needs a session opened with the access
  token, read from an environment variable or a file, never from the command line.
- Every POST carries the session's CSRF token, and a cross-site Origin is refused.
- Every response forbids framing, sniffing, referrers, caching and any script, style or image
  not served by this server.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import time
from pathlib import Path

from ..errors import UsageError

TOKEN_ENV = "PARS_DOCS_TOKEN"
MIN_TOKEN = 12
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-src 'self'; base-uri 'none'; "
    "frame-ancestors 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # Handouts hold patient data: never kept in the browser's disk cache.
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(token_file: str | None) -> str | None:
    """The access token from ``token_file``, else ``$PARS_DOCS_TOKEN``; None if neither."""
    if token_file:
        path = Path(token_file)
        try:
            token = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            reason = getattr(e, "strerror", None) or "not UTF-8 text"
            raise UsageError(
                f"--token-file: cannot read {token_file} ({reason})", field="token"
            ) from e
        origin = f"--token-file {token_file}"
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
        origin = f"${TOKEN_ENV}"
        if not token:
            return None
    if len(token) < MIN_TOKEN:
        raise UsageError(
            f"{origin}: the access token must be at least {MIN_TOKEN} characters", field="token"
        )
    return token


def loopback_hosts(port: int) -> set[str]:
    names = ("127.0.0.1", "localhost", "[::1]")
    return {f"{name}:{port}" for name in names} | set(names)


def token_matches(given: str, token: str) -> bool:
    ok = hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))
    if not ok:
        time.sleep(1)  # slows guessing; one desk never types a wrong token often
    return ok


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def same_csrf(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
