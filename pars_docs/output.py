"""Write results safely: never a half-written file, never a PDF spilled onto a terminal."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from .environment import Environment
from .errors import UsageError


def build_time() -> datetime:
    """When this output was made: ``SOURCE_DATE_EPOCH`` if set (reproducible builds), else now.

    Every rendition stamps its date from here, so one variable makes all of them repeatable.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError) as e:
        raise UsageError(
            f"SOURCE_DATE_EPOCH: '{epoch}' is not a whole number of seconds since 1970",
            field="SOURCE_DATE_EPOCH",
        ) from e


def reproducible() -> bool:
    """Whether outputs must be byte-for-byte repeatable (``SOURCE_DATE_EPOCH`` is set)."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").strip():
        build_time()  # refuse a malformed value before anything is made
        return True
    return False


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# Files are made readable as the user's umask allows (mkstemp alone would make them 0600, which
# other staff at a shared print folder could not open).
FILE_MODE = 0o666 & ~_umask()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename,
    so a reader or an interrupted run never sees a partial file."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, FILE_MODE)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def _check_folder(path: Path, option: str, field: str) -> None:
    if not path.parent.is_dir():
        raise UsageError(f"{option}: folder {path.parent} does not exist", field=field)


def check_target(target: str | None, option: str, field: str) -> None:
    """Fail before any work if ``target`` (a file, or ``-`` for standard output) is in a
    folder that does not exist."""
    if target and target != "-":
        _check_folder(Path(target), option, field)


def write_output(
    target: str, data: bytes, *, binary: bool = True, env: Environment | None = None
) -> str | None:
    """Write to a file path, or to standard output for ``-``. Returns the path written."""
    env = env or Environment()
    if target == "-":
        if binary and env.stdout_isatty:
            raise UsageError(
                "output: refusing to write a PDF to the terminal; "
                "give -o FILE or redirect standard output",
                field="output",
            )
        env.stdout_bytes.write(data)
        env.stdout_bytes.flush()
        return None
    path = Path(target)
    if path.is_dir():
        raise UsageError(f"output: {target} is a folder; give a file name", field="output")
    try:
        if path.exists() and not path.is_file():
            # A device or a pipe (/dev/stdout, a FIFO): write into it, never replace it.
            with open(path, "wb") as out:
                out.write(data)
            return str(target)
        if path.is_symlink():
            path = path.resolve()  # replace the file the link points to; keep the link
        _check_folder(path, "output", "output")
        write_atomic(path, data)
    except OSError as e:
        raise UsageError(
            f"output: cannot write {target} ({e.strerror or e})", field="output"
        ) from e
    return str(target)


class TextOutput:
    """A text stream a run writes as it goes (a manifest, a FHIR Bundle): standard output for
    ``-``, else a file whose folder must exist. :meth:`close` leaves standard output open."""

    def __init__(
        self, target: str, option: str, field: str, env: Environment | None = None
    ) -> None:
        env = env or Environment()
        self._owned = target != "-"
        self.stream: IO[str]
        if not self._owned:
            self.stream = env.stdout
            return
        path = Path(target)
        _check_folder(path, option, field)
        try:
            self.stream = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as e:
            raise UsageError(f"{option}: cannot write {target} ({e.strerror})", field=field) from e

    def write(self, text: str) -> None:
        self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()
        if self._owned:
            self.stream.close()
