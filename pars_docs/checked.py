"""Remember which files passed validation, keyed by their content.

Checking an instruction set (its schema, its cross-references and a dry run of every text)
costs more than making a handout, yet the built-in sets and a clinic's own sets rarely change.
A file that passed is remembered under a digest of its content, of everything else its check
read, and of pars-docs itself (its code, schemas and built-in templates), so that any change to
any of them checks it again. Only passes are remembered: a file with a problem is checked, and
reported, every time.

The record is an empty file per pass in ``$PARS_DOCS_CACHE/checked`` (default
``$XDG_CACHE_HOME/pars-docs`` or ``~/.cache/pars-docs``); ``PARS_DOCS_CACHE=off`` turns it off.
A folder that cannot be written is no error: every run then checks everything. The same
folder keeps compiled templates (see compose.py).
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

ENV_VAR = "PARS_DOCS_CACHE"


def cache_folder(name: str) -> Path | None:
    """The cache's folder for ``name`` (not made yet), or None when the cache is off."""
    chosen = os.environ.get(ENV_VAR, "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen) / name
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "pars-docs" / name


def _folder() -> Path | None:
    return cache_folder("checked")


@cache
def _own_digest() -> bytes:
    """A digest of pars-docs' code, schemas and built-in templates."""
    from .resources import instructions_dir, package_dir, templates_dir

    digest = hashlib.sha256()
    files = [
        *sorted(package_dir().rglob("*.py")),
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
    """The key of a check of ``kind`` over ``contents`` (the texts it read)."""
    digest = hashlib.sha256(_own_digest())
    for part in (kind, *contents):
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(b"%d\0" % len(data))
        digest.update(data)
    return digest.hexdigest()


def passed(check: str) -> bool:
    """Whether the check with this key passed before."""
    folder = _folder()
    return folder is not None and (folder / check).is_file()


def remember(check: str) -> None:
    """Record that the check with this key passed."""
    folder = _folder()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / check).touch()
    except OSError:
        pass  # a read-only home or a full disk: the next run checks again


def write(path: Path, data: bytes) -> None:
    """Keep ``data`` at ``path`` in the cache, whole or not at all: it is written beside and
    renamed, so a reader (another run at the same time) never sees half of it. A folder that
    cannot be written costs only speed: the next run reads the source again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f"{path.name}.{os.getpid()}.part")
        part.write_bytes(data)
        os.replace(part, path)
    except OSError:
        pass
