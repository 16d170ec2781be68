"""Write results safely: never a half-written file, never a PDF spilled onto a terminal, never
through a link, onto a device or over an input, and never readable by other users."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from .environment import Environment
from .errors import OutputError, ParsDocsError, UsageError


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


# Handouts, manifests, packets and FHIR output hold patient data, so only their owner may read
# them, whatever the umask; a folder pars-docs creates for them is private too.
FILE_MODE = 0o600
FOLDER_MODE = 0o700
# Errors that mean the disk (or the stream) gave out part way, not a wrong command line.
_EXHAUSTED = {
    getattr(errno, name)
    for name in ("ENOSPC", "EDQUOT", "EFBIG", "EIO", "EPIPE")
    if hasattr(errno, name)
}


class Inputs:
    """The files a run reads (lists, a column map, a site profile and its logo, a code map):
    no output may be one of them, whatever name, hard link or symbolic link leads to it."""

    def __init__(self, paths: Iterable[str | os.PathLike[str] | None] = ()) -> None:
        self._files: dict[tuple[int, int], str] = {}
        for path in paths:
            self.add(path)

    def add(self, path: str | os.PathLike[str] | None) -> None:
        if path is None or str(path) == "-":
            return
        try:
            info = os.stat(path)
        except (OSError, ValueError):
            return
        if stat.S_ISREG(info.st_mode):
            self._files.setdefault((info.st_dev, info.st_ino), str(path))

    def holds(self, info: os.stat_result) -> bool:
        return (info.st_dev, info.st_ino) in self._files


def refusal(path: Path, inputs: Inputs | None = None) -> str | None:
    """Why ``path`` must not be written (or replaced), or ``None`` if it may: it does not exist
    yet, or it is a regular file that is none of ``inputs``. A link is neither followed nor
    replaced, and a device or pipe never becomes a regular file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        return f"cannot be checked ({e.strerror})"
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link (pars-docs writes neither through a link nor over one)"
    if stat.S_ISDIR(info.st_mode):
        return "is a folder"
    if not stat.S_ISREG(info.st_mode):
        return "is a device, pipe or socket, not a regular file"
    if inputs is not None and inputs.holds(info):
        return "is an input of this run"
    return None


def check_output(
    target: str | Path | None,
    option: str,
    field: str,
    inputs: Inputs | None = None,
    *,
    dash: bool = True,
) -> None:
    """Fail before any work if ``target`` (a file, or ``-`` for standard output when ``dash``)
    is in a folder that does not exist, or is anything but a new or regular file that is not
    an input."""
    if not target or (dash and str(target) == "-"):
        return
    path = Path(target)
    _check_folder(path, option, field)
    reason = refusal(path, inputs)
    if reason:
        hint = ", or - for standard output" if dash else ""
        raise UsageError(f"{option}: {target} {reason}; give another file name{hint}", field=field)


def write_failure(option: str, target: str | Path, error: OSError, field: str) -> ParsDocsError:
    """The error for an output that could not be written: a full disk or a closed stream is an
    :class:`OutputError` (exit 1), anything else a :class:`UsageError` (exit 2)."""
    kind = OutputError if error.errno in _EXHAUSTED else UsageError
    return kind(f"{option}: cannot write {target} ({error.strerror or error})", field=field)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600) through a temporary file in the same folder and a
    rename, so a reader or an interrupted run never sees a partial file. The rename replaces a
    link at ``path`` itself, never the file it points to."""
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


def write_output(
    target: str,
    data: bytes,
    *,
    binary: bool = True,
    env: Environment | None = None,
    inputs: Inputs | None = None,
) -> str | None:
    """Write to a file path, or to standard output for ``-``. Returns the path written. A path
    that is a link, a device, a folder or one of ``inputs`` is refused."""
    env = env or Environment()
    if target == "-":
        if binary and env.stdout_isatty:
            raise UsageError(
                "output: refusing to write a PDF to the terminal; "
                "give -o FILE or redirect standard output",
                field="output",
            )
        try:
            env.stdout_bytes.write(data)
            env.stdout_bytes.flush()
        except OSError as e:
            raise OutputError(
                f"output: cannot write standard output ({e.strerror or e})", field="output"
            ) from e
        return None
    path = Path(target)
    if path.is_dir() and not path.is_symlink():
        raise UsageError(f"output: {target} is a folder; give a file name", field="output")
    check_output(path, "output", "output", inputs)
    try:
        write_atomic(path, data)
    except OSError as e:
        raise write_failure("output", target, e, "output") from e
    return str(target)


class TextOutput:
    """A text stream a run writes as it goes (a manifest, a FHIR Bundle): standard output for
    ``-``, else a new file of mode 0600. An ``atomic`` file appears under its name only when
    :meth:`close` commits it; any other appears at once, so a run killed part way leaves what
    it wrote. Each :meth:`write` lands whole or not at all; a failed one raises
    :class:`OutputError`. :meth:`close` leaves standard output open."""

    def __init__(
        self,
        target: str,
        option: str,
        field: str,
        env: Environment | None = None,
        *,
        inputs: Inputs | None = None,
        atomic: bool = False,
    ) -> None:
        env = env or Environment()
        self.target, self.option, self.field = target, option, field
        self.failed: OutputError | None = None
        self._fd: int | None = None
        self._temp: str | None = None
        self._path = Path(target)
        self.stream: IO[str] = env.stdout
        if target == "-":
            return
        check_output(target, option, field, inputs)
        try:
            self._fd, temp = tempfile.mkstemp(
                prefix=f".{self._path.name}.", suffix=".part", dir=self._path.parent
            )
            self._temp = temp
            if not atomic:
                self._place()
        except OSError as e:
            self.abandon()
            raise UsageError(f"{option}: cannot write {target} ({e.strerror})", field=field) from e

    def _place(self) -> None:
        """Put the file under its name: a new file replaces whatever was there (never writing
        into it, so a hard link elsewhere is untouched)."""
        if self._temp is not None:
            os.replace(self._temp, self._path)
            self._temp = None

    def _fail(self, error: OSError) -> OutputError:
        where = "standard output" if self._fd is None else self.target
        self.failed = OutputError(
            f"{self.option}: cannot write {where} ({error.strerror or error})", field=self.field
        )
        return self.failed

    def write(self, text: str) -> None:
        if self.failed:
            raise self.failed
        if self._fd is None:
            try:
                self.stream.write(text)
                self.stream.flush()
            except OSError as e:
                raise self._fail(e) from e
            return
        start = os.lseek(self._fd, 0, os.SEEK_CUR)
        view = memoryview(text.encode("utf-8"))
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as e:
            try:  # no torn line: the file ends with the last whole write
                os.ftruncate(self._fd, start)
                os.lseek(self._fd, start, os.SEEK_SET)
            except OSError:
                pass
            raise self._fail(e) from e

    def flush(self) -> None:
        """Writes are unbuffered (each reaches the file at once); here for file-like use."""

    def close(self) -> None:
        """Finish the output: the file is synced and, if atomic, renamed into place. Raises
        :class:`OutputError` (and removes an atomic file) if that fails."""
        if self.failed:
            self.abandon()
            return
        if self._fd is None:
            try:
                self.stream.flush()
            except OSError as e:
                raise self._fail(e) from e
            return
        try:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            self._place()
        except OSError as e:
            error = self._fail(e)
            self.abandon()
            raise error from e

    def abandon(self) -> None:
        """Close without committing: an atomic file not yet in place is removed."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._temp is not None:
            try:
                os.unlink(self._temp)
            except FileNotFoundError:
                pass
            self._temp = None
