"""The start-up cache: what a start would otherwise work out again, kept as data by content.

Checking an instruction set (its schema, its cross-references and a dry run of every text)
costs more than making a handout, yet the built-in sets and a clinic's own sets rarely change.
A check that passed is remembered under a digest of its content, of everything else it read,
and of pars-docs itself (its code, schemas and built-in templates), so that any change to any
of them checks it again. Only passes are remembered: a file with a problem is checked, and
reported, every time. The same store keeps parsed YAML, the fonts' tables, month and day names
and the installed version.

Two places hold records:

- *Shipped* records, made when the package is built (``pars_docs/_shipped``, see
  ``pars_docs/prebuild.py``) for the built-in sets, medicine table, templates and fonts. They
  are part of the installed package and trusted like its code.
- The *user's* cache, ``$PARS_DOCS_CACHE`` (default ``$XDG_CACHE_HOME/pars-docs`` or
  ``~/.cache/pars-docs``; ``PARS_DOCS_CACHE=off`` turns it off). It holds data only (no code
  objects or pickles), and every record is authenticated with an HMAC under a random key kept
  0600 in the folder, so a record that someone else planted or edited is not believed. The
  folder is made 0700 and is not used (one warning line) when it is not the user's own or
  others may write to it. It is kept under :data:`LIMIT` bytes, the oldest records going
  first. A folder that cannot be written is no error: every run then checks everything, and a
  damaged, foreign or mis-shaped record is a miss, never a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import marshal
import os
import stat
import sys
from functools import cache
from pathlib import Path
from typing import Any

ENV_VAR = "PARS_DOCS_CACHE"
LIMIT = 64 * 1024 * 1024
"""The most the user's cache folder holds; past it, the oldest records are removed."""
RECORD_LIMIT = 4 * 1024 * 1024
"""The largest single record written or read."""
_MAGIC = b"pars-docs cache 2\0"
_KEY_NAME = "key"
_KEY_SIZE = 32
_MAC_SIZE = hashlib.sha256().digest_size
SHIPPED = "_shipped"


def cache_root() -> Path | None:
    """The user's cache folder (made or not), or None when the cache is off."""
    chosen = os.environ.get(ENV_VAR, "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "pars-docs"


_warned: set[str] = set()


def _warn(text: str) -> None:
    if text not in _warned:
        _warned.add(text)
        try:
            sys.stderr.write(f"pars-docs: warning: {text}\n")
        except (OSError, ValueError, AttributeError):
            pass  # no standard error to tell: the cache is simply not used


class _Store:
    """The user's cache folder, opened once: records are read and written by its descriptor,
    never through a path that could be swapped for a link in between."""

    def __init__(self, path: Path, fd: int, key: bytes):
        self.path = path
        self.fd = fd
        self.key = key

    def mac(self, name: str, payload: bytes) -> bytes:
        digest = hmac.new(self.key, digestmod=hashlib.sha256)
        digest.update(name.encode() + b"\0")
        digest.update(payload)
        return digest.digest()


_stores: dict[str, _Store | None] = {}


def _store() -> _Store | None:
    root = cache_root()
    if root is None:
        return None
    where = str(root)
    if where not in _stores:
        _stores[where] = _open_store(root)
    return _stores[where]


def _safe_folder(fd: int) -> bool:
    info = os.fstat(fd)
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _open_store(root: Path) -> _Store | None:
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(root, 0o700)
        except FileExistsError:
            pass
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None  # a read-only home, say: no cache, every run checks everything
    try:
        if not _safe_folder(fd):
            _warn(
                f"not using the start-up cache {root}: it is not yours, or others may write "
                "to it (make it yours and 0700, or set PARS_DOCS_CACHE)"
            )
            os.close(fd)
            return None
        key = _read_key(fd) or _make_key(fd)
    except OSError:
        key = None
    if key is None:
        _warn(f"not using the start-up cache {root}: its key file is not the user's own 0600 file")
        os.close(fd)
        return None
    return _Store(root, fd, key)


def _read_key(fd: int) -> bytes | None:
    try:
        key_fd = os.open(_KEY_NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
    except FileNotFoundError:
        return None
    try:
        info = os.fstat(key_fd)
        if (
            not stat.S_ISREG(info.st_mode)
            or info.st_uid != os.geteuid()
            or info.st_mode & 0o077
            or info.st_size != _KEY_SIZE
        ):
            raise PermissionError("not the user's own key")
        key = os.read(key_fd, _KEY_SIZE + 1)
        if len(key) != _KEY_SIZE:
            raise PermissionError("a key of the wrong size")
        return key
    finally:
        os.close(key_fd)


def _make_key(fd: int) -> bytes | None:
    key = os.urandom(_KEY_SIZE)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    part = f".{_KEY_NAME}.{os.getpid()}.part"
    try:
        key_fd = os.open(part, flags, 0o600, dir_fd=fd)
    except FileExistsError:
        os.unlink(part, dir_fd=fd)  # left by a run killed in this same place: ours, 0700
        key_fd = os.open(part, flags, 0o600, dir_fd=fd)
    try:
        os.write(key_fd, key)
    finally:
        os.close(key_fd)
    try:
        # A link, not a rename: two runs making a key at once keep the first one made.
        os.link(part, _KEY_NAME, src_dir_fd=fd, dst_dir_fd=fd, follow_symlinks=False)
    except FileExistsError:
        return _read_key(fd)
    finally:
        os.unlink(part, dir_fd=fd)
    return key


@cache
def shipped_dir() -> Path:
    """The package's folder of records made when it was built."""
    return Path(__file__).resolve().parent / SHIPPED


recording: dict[str, bytes] | None = None
"""While the package is built (prebuild.py): every record a start writes, by name."""


def _shipped(name: str) -> bytes | None:
    """A record made when the package was built, if it has one (trusted like the code)."""
    if recording is not None:
        return recording.get(name)  # what this build has made so far
    try:
        return (shipped_dir() / name).read_bytes()
    except OSError:
        return None


def _read(name: str) -> bytes | None:
    store = _store()
    if store is None or recording is not None:
        return None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=store.fd)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > RECORD_LIMIT + 100:
            return None
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read(RECORD_LIMIT + 101)
    except OSError:
        return None
    finally:
        os.close(fd)
    head = len(_MAGIC) + _MAC_SIZE
    if len(data) < head or not data.startswith(_MAGIC):
        return None
    payload = data[head:]
    if not hmac.compare_digest(data[len(_MAGIC) : head], store.mac(name, payload)):
        return None  # not made by this user's pars-docs: planted, edited or damaged
    return payload


def _write(name: str, payload: bytes) -> None:
    """Keep ``payload`` under ``name``, whole or not at all: written beside (a new file that
    no link can stand in for) and renamed, so a reader never sees half of it."""
    if recording is not None:
        recording[name] = payload
        return
    store = _store()
    if store is None or len(payload) > RECORD_LIMIT:
        return
    part = f".{name[:40]}.{os.getpid()}.part"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(part, flags, 0o600, dir_fd=store.fd)
    except OSError:
        return  # a full disk, or a stale part: the next run works it out again
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(_MAGIC + store.mac(name, payload) + payload)
        os.replace(part, name, src_dir_fd=store.fd, dst_dir_fd=store.fd)
    except OSError:
        try:
            os.unlink(part, dir_fd=store.fd)
        except OSError:
            pass
        return
    _evict(store)


def _evict(store: _Store) -> None:
    """Remove the oldest records while the folder holds more than :data:`LIMIT`."""
    try:
        entries = []
        with os.scandir(store.fd) as found:
            for entry in found:
                if entry.name != _KEY_NAME and entry.is_file(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    entries.append((info.st_mtime_ns, info.st_size, entry.name))
        total = sum(size for _, size, _ in entries)
        for _, size, name in sorted(entries):
            if total <= LIMIT:
                break
            os.unlink(name, dir_fd=store.fd)
            total -= size
    except OSError:
        pass


@cache
def _own_digest() -> bytes:
    """A digest of pars-docs' code, schemas and built-in templates."""
    from .resources import instructions_dir, package_dir, templates_dir

    digest = hashlib.sha256()
    files = [
        *sorted(p for p in package_dir().rglob("*.py") if SHIPPED not in p.parts),
        *sorted(package_dir().glob("*.json")),
        *sorted(instructions_dir().glob("*.json")),
        *sorted(p for p in templates_dir().iterdir() if p.suffix in (".j2", ".yaml")),
    ]
    for path in files:
        data = path.read_bytes()
        digest.update(b"%d:%s\0%d\0" % (len(path.name), path.name.encode(), len(data)))
        digest.update(data)
    return digest.digest()


def key(kind: str, *contents: str | bytes) -> str:
    """The key of a check or record of ``kind`` over ``contents`` (the texts it read)."""
    digest = hashlib.sha256(_own_digest())
    for part in (kind, *contents):
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(b"%d\0" % len(data))
        digest.update(data)
    return digest.hexdigest()


def _name(kind: str, record: str) -> str:
    return f"{kind}-{record}"


def passed(check: str) -> bool:
    """Whether the check with this key passed before."""
    name = _name("pass", check)
    return _shipped(name) == b"" or _read(name) == b""


def remember(check: str) -> None:
    """Record that the check with this key passed."""
    _write(_name("pass", check), b"")


_DATA = (type(None), bool, int, float, complex, str, bytes, tuple, list, dict, set, frozenset)


def _only_data(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
        elif kind in (list, tuple, set, frozenset):
            stack.extend(item)
        elif kind not in _DATA:
            return False
    return True


def _decode(payload: bytes) -> Any:
    if sys.version_info >= (3, 13):
        return marshal.loads(payload, allow_code=False)  # type: ignore[call-arg]
    return marshal.loads(payload)


def load(kind: str, record: str) -> Any:
    """The value kept under ``record``, or None when there is none (or none to believe).
    Shipped records come first; the user's are believed only with this user's HMAC."""
    name = _name(kind, record)
    payload = _shipped(name)
    if payload is None:
        payload = _read(name)
    if payload is None:
        return None
    try:
        return _decode(payload)
    except Exception:  # noqa: BLE001 (a damaged record of any kind is a miss)
        return None


def encode(value: Any) -> bytes | None:
    """``value`` as a record's payload: plain data only (None, numbers, text, bytes and
    containers of them), never code; None when it holds anything else."""
    if not _only_data(value):
        return None
    try:
        return marshal.dumps(value)
    except ValueError:
        return None


def keep(kind: str, record: str, value: Any) -> None:
    """Keep plain-data ``value`` under ``record`` in the user's cache."""
    payload = encode(value)
    if payload is not None:
        _write(_name(kind, record), payload)
