"""The streams a run reads and writes, and whether a person is watching them.

Decided here once: the CLI makes one :class:`Environment` per command, and everything that
writes to standard output or standard error, or asks whether it is a terminal, takes it from
there. Tests swap the streams by making their own.
"""

from __future__ import annotations

import errno
import io
import os
import signal
import sys
from dataclasses import dataclass, field
from typing import IO, Any, cast


class _Closed(io.TextIOBase):
    """A standard stream the process was started without (``2>&-``, ``>&-``): Python sets it
    to None; here every write fails as a write to a closed descriptor does, so it is reported
    like any other output that cannot be written, never as a traceback."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "it is closed")

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False

    @property
    def buffer(self) -> _Closed:
        return self


class _Dropped(_Closed):
    """Standard error the process was started without: its notes and errors go nowhere (there
    is no one to tell), and the run goes on; the exit status still says how it went."""

    def write(self, text: str) -> int:
        return len(text)


def _stream(stream: IO[Any] | None, closed: type[_Closed] = _Closed) -> IO[Any]:
    return stream if stream is not None else cast(IO[Any], closed())


def _isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stream-like object
        return False


@dataclass
class Environment:
    """Standard input, output and error, and whether output and error are terminals."""

    stdin: IO[Any] = field(default_factory=lambda: _stream(sys.stdin))
    stdout: IO[Any] = field(default_factory=lambda: _stream(sys.stdout))
    stderr: IO[Any] = field(default_factory=lambda: _stream(sys.stderr, _Dropped))
    stdout_isatty: bool | None = None
    stderr_isatty: bool | None = None
    # The process ends when the command does (the console command, not a test or the desk
    # calling it in-process): what a command leaves in memory need not be tidied up.
    process_ends: bool = False
    # --traceback: an unexpected error shows its stack (and a batch row's, sent by its worker).
    traceback: bool = False

    def __post_init__(self) -> None:
        if self.stdout_isatty is None:
            self.stdout_isatty = _isatty(self.stdout)
        if self.stderr_isatty is None:
            self.stderr_isatty = _isatty(self.stderr)

    @property
    def stdin_bytes(self) -> IO[bytes]:
        return getattr(self.stdin, "buffer", self.stdin)

    @property
    def stdout_bytes(self) -> IO[bytes]:
        return getattr(self.stdout, "buffer", self.stdout)


def die_with_parent(parent: int, how: int = signal.SIGKILL) -> None:
    """Have the system send ``how`` to this process when its parent (process ``parent``) dies,
    so no worker of a run that was killed (``kill -9`` included) runs on: Linux's
    ``PR_SET_PDEATHSIG``. A parent that died before this was asked ends the process now."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(how), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # no C library to ask: the worker ends when the pool's pipe closes
    if os.getppid() != parent:
        os.kill(os.getpid(), how)
