"""The output folder's own file: a lock that keeps a second run out, and a record of what each
handout there was made from, so ``skip_existing`` keeps only a file made from the same row,
instruction set and site.

The record holds, per file name, the SHA-256 of the file and a keyed hash (HMAC-SHA256) of
everything the file was made from: the composed handout, the visit, the rendition, the paper,
the logo and the pars-docs version. The key is random, made for the folder and kept in the same
file; no patient value is stored, and the hash cannot be recomputed from a guessed name without
the key and every other value of the row.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import secrets
import stat
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from .._version import version
from ..errors import UsageError
from ..write.output import FILE_MODE

STATE_NAME = ".pars-docs-state"
_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class FileRecord:
    """What one file in the folder was made from (a keyed hash) and its SHA-256."""

    made_from: str
    sha256: str


def _lock(fd: int) -> bool:
    """Take the folder's lock without waiting; False if another run holds it. The lock is the
    process's own (a POSIX record lock): the pool's forked workers do not hold it, and the
    system releases it when the process ends, however it ends."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise
    return True


class FolderState:
    """The output folder's lock and record, held for one run (see the module's docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        path = folder / STATE_NAME
        try:
            self._fd = os.open(path, _FLAGS, FILE_MODE)
        except OSError as e:
            raise UsageError(
                f"--out-dir: cannot use {path} ({e.strerror}); remove it if it is not a file",
                field="out_dir",
            ) from e
        try:
            info = os.fstat(self._fd)
            if not stat.S_ISREG(info.st_mode):
                raise UsageError(f"--out-dir: {path} is not a regular file", field="out_dir")
            if info.st_nlink != 1 or info.st_uid != os.geteuid():
                # A hard link planted in a shared folder would have pars-docs rewrite the file
                # it names (the record is rewritten at the end of every run).
                raise UsageError(
                    f"--out-dir: {path} is a link to another file, or not yours; remove it",
                    field="out_dir",
                )
            try:
                locked = _lock(self._fd)
            except OSError as e:  # a file system without locks (some network ones)
                raise UsageError(
                    f"--out-dir: cannot lock {path} ({e.strerror}); choose a local folder",
                    field="out_dir",
                ) from e
            if not locked:
                raise UsageError(
                    f"--out-dir: another pars-docs batch is writing to {folder} (it holds "
                    f"{STATE_NAME} there); wait for it to finish, or choose another folder",
                    field="out_dir",
                )
            self.key, self.files = self._read()
        except BaseException:
            os.close(self._fd)
            raise

    def _read(self) -> tuple[bytes, dict[str, FileRecord]]:
        """The key and the last record of each file; a line cut short by a killed run, or
        anything else unreadable, is passed over (its file is made again)."""
        chunks = []
        while chunk := os.read(self._fd, 1 << 20):
            chunks.append(chunk)
        key: bytes | None = None
        files: dict[str, FileRecord] = {}
        for line in b"".join(chunks).splitlines():
            try:
                item = json.loads(line)
                if "key" in item:
                    key = key or bytes.fromhex(item["key"])
                else:
                    files[str(item["file"])] = FileRecord(
                        str(item["made_from"]), str(item["sha256"])
                    )
            except (ValueError, TypeError, KeyError, AttributeError):
                continue
        if key is None or len(key) < 32:
            key, files = secrets.token_bytes(32), {}
            self._rewrite(key, files)
        return key, files

    def _line(self, item: dict) -> bytes:
        return (json.dumps(item, sort_keys=True) + "\n").encode()

    def _rewrite(self, key: bytes, files: dict[str, FileRecord]) -> None:
        lines = [self._line({"key": key.hex()})]
        lines += [self._line({"file": name, **asdict(made)}) for name, made in files.items()]
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        _write_all(self._fd, b"".join(lines))

    def made(self, name: str) -> FileRecord | None:
        """What the file ``name`` was made from, if this folder's record knows it."""
        return self.files.get(name)

    def record(self, name: str, made: FileRecord) -> None:
        """Note that ``name`` was just made. A record that cannot be written (a full disk)
        costs only a remake on a resumed run."""
        self.files[name] = made
        try:
            _write_all(self._fd, self._line({"file": name, **asdict(made)}))
        except OSError:
            pass

    def close(self) -> None:
        """Keep the record of files still in the folder, and release the lock."""
        try:
            present = {n: m for n, m in self.files.items() if (self.folder / n).is_file()}
            self._rewrite(self.key, present)
        except OSError:
            pass  # an unreadable record only costs remakes
        finally:
            os.close(self._fd)


def fingerprint(key: bytes, parts: dict) -> str:
    """The keyed hash of what a file is made from: ``parts`` and the pars-docs version."""
    payload = json.dumps(
        {"pars-docs": version(), **parts}, sort_keys=True, default=str, ensure_ascii=False
    )
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
