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
        try:
            token = _read_token_file(Path(token_file)).decode("utf-8").strip()
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
    """Whether ``given`` is the token, compared in constant time. Guessing is slowed by
    counting failures per client and locking it out (signin.Throttle), never by holding a
    server thread."""
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


TOKEN_FILE_LIMIT = 4096


def _read_token_file(path: Path) -> bytes:
    """The token file's bytes: a regular file (not a device such as /dev/zero, a pipe or a
    folder) of at most :data:`TOKEN_FILE_LIMIT` bytes."""
    import errno
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if info.st_size > TOKEN_FILE_LIMIT:
            raise OSError(errno.EFBIG, f"over {TOKEN_FILE_LIMIT} bytes; not a token file")
        return os.read(fd, TOKEN_FILE_LIMIT + 1)[:TOKEN_FILE_LIMIT]
    finally:
        os.close(fd)


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def same_csrf(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
