"""The streams a run reads and writes, and whether a person is watching them.

Decided here once: the CLI makes one :class:`Environment` per command, and everything that
writes to standard output or standard error, or asks whether it is a terminal, takes it from
there. Tests swap the streams by making their own.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import IO, Any


def _isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stream-like object
        return False


@dataclass
class Environment:
    """Standard input, output and error, and whether output and error are terminals."""

    stdin: IO[Any] = field(default_factory=lambda: sys.stdin)
    stdout: IO[Any] = field(default_factory=lambda: sys.stdout)
    stderr: IO[Any] = field(default_factory=lambda: sys.stderr)
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
