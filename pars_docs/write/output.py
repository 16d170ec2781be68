"""Write results safely: never a half-written file, never a PDF spilled onto a terminal, never
through a link, onto a device or over an input, and never readable by other users."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..environment import Environment
from ..errors import OutputError, ParsDocsError, UsageError
from ..resources import instructions_dir, templates_dir

if TYPE_CHECKING:
    from ..load.site import Site


# Handouts, manifests, packets and FHIR output hold patient data, so only their owner may read
# them, whatever the umask; a folder pars-docs creates for them is private too.
FILE_MODE = 0o600
FOLDER_MODE = 0o700
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# Errors that mean the disk (or the stream) gave out part way, not a wrong command line.
_EXHAUSTED = {
    getattr(errno, name)
    for name in ("ENOSPC", "EDQUOT", "EFBIG", "EIO", "EPIPE")
    if hasattr(errno, name)
}


class Inputs:
    """The files a run reads (lists, a column map, a code map, the site's files): no output may
    be one of them, whatever name, hard link or symbolic link leads to it."""

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

    def add_site(self, site: Site) -> None:
        """The files a site makes handouts from: its profile, logo and code map, and the
        instruction sets, medicine tables and templates (the clinic's and the built-in)."""
        for path in (site.path, site.logo, site.procedure_codes):
            self.add(path)
        folders = (site.instructions_dir, site.templates_dir, instructions_dir(), templates_dir())
        for folder in folders:
            if folder is None:
                continue
            try:
                for entry in os.scandir(folder):
                    self.add(entry.path)
            except OSError:
                continue

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
    _check_name(path, option, field)
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


class NewFile:
    """A new file (mode 0600) written for ``path``, which takes that name only when
    :meth:`place` is called, by a rename (replacing a link at ``path`` itself, never the file
    it points to). Its folder is opened once and every name in it is used through that
    descriptor, so a folder swapped for a link part way changes nothing. Where the system
    allows (Linux), the file has no name at all until then (``O_TMPFILE``), so a run killed
    part way leaves nothing behind; elsewhere it is a hidden ``.NAME.*.part`` file made with
    ``O_CREAT|O_EXCL|O_NOFOLLOW``, which nothing planted can stand in for, and which a later
    batch run removes. A name longer than the folder allows is an ``OSError`` naming the
    file, before anything is written; every error names the file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.temp: str | None = None
        self.placed = False
        self.fd: int | None = None
        self.dir_fd: int | None = None
        try:
            self.dir_fd = os.open(self.path.parent, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
            check_name_length(self.name, self.dir_fd)
            fd = self._unnamed()
            if fd is None:
                fd = self._named()
            self.fd = fd
        except OSError as e:
            self.discard()
            raise _naming(e, self.path) from e

    def _unnamed(self) -> int | None:
        flag = getattr(os, "O_TMPFILE", 0)
        if not flag or not os.path.isdir("/proc/self/fd"):
            return None
        try:
            return os.open(".", flag | os.O_WRONLY | _CLOEXEC, FILE_MODE, dir_fd=self.dir_fd)
        except OSError as e:
            if e.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                return None  # a file system without unnamed files
            raise

    def _temp_name(self) -> str:
        return part_name(self.name, os.urandom(6).hex())

    def _named(self) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        for _ in range(100):
            temp = self._temp_name()
            try:
                fd = os.open(temp, flags, FILE_MODE, dir_fd=self.dir_fd)
            except FileExistsError:
                continue  # planted, or another run's: never opened, another name is drawn
            self.temp = temp
            return fd
        raise FileExistsError(errno.EEXIST, "no free temporary name", str(self.path))

    def _open(self) -> int:
        if self.fd is None:
            raise ValueError(f"{self.path}: the new file is closed")
        return self.fd

    def write(self, data: bytes) -> None:
        fd = self._open()
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError as e:
            raise _naming(e, self.path) from e

    def place(self) -> None:
        """Give the file its name, if it has not got it yet; its data is synced to disk
        first."""
        try:
            os.fsync(self._open())
            if self.placed:
                return
            if self.temp is None:
                self.temp = self._link()
            os.replace(self.temp, self.name, src_dir_fd=self.dir_fd, dst_dir_fd=self.dir_fd)
        except OSError as e:
            raise _naming(e, self.path) from e
        self.temp = None
        self.placed = True

    def _link(self) -> str:
        # linkat(2) with AT_SYMLINK_FOLLOW, which Python uses when given a folder's fd; the
        # new name is made by link, which never follows or replaces what is there.
        proc = os.open("/proc/self/fd", os.O_RDONLY | _CLOEXEC)
        try:
            for _ in range(100):
                temp = self._temp_name()
                try:
                    os.link(
                        str(self.fd), temp, src_dir_fd=proc, dst_dir_fd=self.dir_fd,
                        follow_symlinks=True,
                    )  # fmt: skip
                except FileExistsError:
                    continue
                return temp
        finally:
            os.close(proc)
        raise FileExistsError(errno.EEXIST, "no free temporary name", str(self.path))

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.dir_fd is not None and (self.placed or self.temp is None):
            os.close(self.dir_fd)
            self.dir_fd = None

    def discard(self) -> None:
        """Close it; a file not yet placed is removed."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.temp is not None and self.dir_fd is not None:
            try:
                os.unlink(self.temp, dir_fd=self.dir_fd)
            except FileNotFoundError:
                pass
            self.temp = None
        if self.dir_fd is not None:
            os.close(self.dir_fd)
            self.dir_fd = None


_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def part_name(name: str, tag: str) -> str:
    """The hidden temporary name of ``name``: ``.NAME.TAG.part``, with NAME shortened (at a
    character) when the whole would be longer than a folder allows."""
    room = 255 - len(".") - len(tag) - len("..part")
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) > room:
        name = encoded[:room].decode("utf-8", "ignore")
    return f".{name}.{tag}.part"


def check_name_length(name: str, dir_fd: int | None = None) -> None:
    """Raise ``OSError(ENAMETOOLONG)`` when ``name`` is longer than its folder allows (255
    bytes on most file systems); the temporary name is always made to fit."""
    limit = 255
    if dir_fd is not None:
        try:
            limit = os.fpathconf(dir_fd, "PC_NAME_MAX")
        except (OSError, ValueError):
            pass
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > limit:
        raise OSError(
            errno.ENAMETOOLONG, f"file name too long: {size} bytes, the folder allows {limit}"
        )


def _naming(error: OSError, path: Path) -> OSError:
    """``error`` with the file it was about, so no message says "standard output" for it."""
    if error.filename is not None:
        return error
    return type(error)(error.errno, error.strerror or str(error), str(path))


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600) as a :class:`NewFile`, so a reader or an
    interrupted run never sees a partial file, and a link at ``path`` is replaced, never
    followed."""
    new = NewFile(path)
    try:
        new.write(data)
        new.place()
    except BaseException:
        new.discard()
        raise
    new.close()


def _check_name(path: Path, option: str, field: str) -> None:
    try:
        check_name_length(path.name)
    except OSError as e:
        raise UsageError(f"{option}: {path}: {e.strerror}; give a shorter name", field=field) from e


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
    _check_name(path, "output", "output")
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
    ``-``, else a :class:`NewFile`. An ``atomic`` file appears under its name only when
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
        self.file: NewFile | None = None
        self.stream: IO[str] = env.stdout
        self._size = 0
        if target == "-":
            return
        check_output(target, option, field, inputs)
        try:
            self.file = NewFile(Path(target))
            if not atomic:
                self.file.place()
        except OSError as e:
            self.abandon()
            raise UsageError(f"{option}: cannot write {target} ({e.strerror})", field=field) from e

    def _fail(self, error: OSError) -> OutputError:
        where = "standard output" if self.file is None else self.target
        self.failed = OutputError(
            f"{self.option}: cannot write {where} ({error.strerror or error})", field=self.field
        )
        return self.failed

    def write(self, text: str) -> None:
        if self.failed:
            raise self.failed
        if self.file is None:
            try:
                self.stream.write(text)
                self.stream.flush()
            except OSError as e:
                raise self._fail(e) from e
            return
        data = text.encode("utf-8")
        try:
            self.file.write(data)
        except OSError as e:
            try:  # no torn line: the file ends with the last whole write
                if self.file.fd is not None:
                    os.ftruncate(self.file.fd, self._size)
                    os.lseek(self.file.fd, self._size, os.SEEK_SET)
            except OSError:
                pass
            raise self._fail(e) from e
        self._size += len(data)

    def flush(self) -> None:
        """Writes are unbuffered (each reaches the file at once); here for file-like use."""

    def close(self) -> None:
        """Finish the output: the file is synced and put under its name. Raises
        :class:`OutputError` (and removes an atomic file) if that fails."""
        if self.failed:
            self.abandon()
            return
        if self.file is None:
            try:
                self.stream.flush()
            except OSError as e:
                raise self._fail(e) from e
            return
        try:
            self.file.place()
        except OSError as e:
            error = self._fail(e)
            self.abandon()
            raise error from e
        self.file.close()

    def abandon(self) -> None:
        """Close without committing: an atomic file not yet in place is removed."""
        if self.file is not None:
            self.file.discard()
