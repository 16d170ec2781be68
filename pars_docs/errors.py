"""Exceptions raised by pars-docs.

Every error a person can cause carries the context needed to fix it (file, line, field, row)
and an exit code: 2 for a usage error on the command line, 1 for bad data in a file.
"""

from __future__ import annotations

import re
import signal
import traceback
from collections.abc import Mapping
from enum import IntEnum


class ExitStatus(IntEnum):
    """Every exit status pars-docs ends with."""

    SUCCESS = 0
    ERROR = 1  # bad data in a file, or a batch with a failed row
    USAGE = 2  # a malformed command line or value
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT
    TERMINATED = 143  # SIGTERM: 128 + SIGTERM

    @classmethod
    def for_signal(cls, signum: int) -> ExitStatus:
        """The status a run stopped by ``signum`` ends with (128 + the signal's number)."""
        return cls(128 + signum)


# Fields a row gives: their values are left out of messages unless the caller asks for them
# (--verbose), so logs of unattended runs hold no patient data. Every column counts, not only
# the name's: an export with its columns shifted puts a name where the procedure belongs.
PATIENT_FIELDS = {
    "patient",
    "dob",
    "mrn",
    "note",
    "medication",
    "medications",
    "clinician",
    "procedure",
    "date",
    "time",
    "sedation",
    "visit_id",
    "large_print",
}


class Said(str):
    """A message with the values in it, and ``redacted``: the same words with each value
    written "…" (built by :func:`say` or :func:`plain`, or given both ways)."""

    redacted: str

    def __new__(cls, text: str, redacted: str | None = None) -> Said:
        said = super().__new__(cls, text)
        said.redacted = text if redacted is None else redacted
        return said


def plain(message: str) -> Said:
    """A message about a row's field that quotes nothing the row gave ("the appointment has
    no start"), marked so: its redacted form is itself. Use :func:`say` for any message
    that holds a value."""
    return Said(message, message)


def say(template: str, /, *, words: Mapping[str, object] | None = None, **values: object) -> Said:
    """The message ``template`` with its ``{name}`` fields filled in, and its redacted form.

    ``values`` are what a row or a person gave (a name, a date, a column's text): in the
    redacted form each is written "…". ``words`` are not values (a field's name, the list of
    known procedures) and are the same in both. Values are never searched for in the words
    afterwards, so no value, whatever quotes, brackets or lines it holds, can slip through.

    >>> said = say("{field}: '{value}' is not a date", words={"field": "dob"}, value="O'B'")
    >>> said, said.redacted
    ("dob: 'O'B'' is not a date", "dob: '…' is not a date")
    """
    shown = dict(words or {})
    return Said(
        template.format(**shown, **values), template.format(**shown, **dict.fromkeys(values, "…"))
    )


# Characters that would steer a terminal or reorder the line it shows: C0 and C1 controls
# (ESC starts colour, cursor and title sequences), DEL, and the bidirectional controls
# (Unicode TR #36 and UTS #39 list them as the spoofing ones).
STEERING = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every terminal control and bidirectional control written as an escape
    (``\\x1b``, ``\\u202e``), so a value from a file can neither colour, move or retitle a
    terminal nor make a message read differently from what it says. Line breaks are kept."""
    return STEERING.sub(_escape, text)


class ParsDocsError(Exception):
    """Raised for any problem pars-docs reports to a person instead of crashing."""

    exit_code = ExitStatus.ERROR

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        row: int | None = None,
        redacted: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.row = row
        if redacted is None and isinstance(message, Said):
            redacted = message.redacted
        self.redacted = redacted  # the message without patient values, when the raiser knows it

    def __str__(self) -> str:
        return self.message

    def public(self, verbose: bool = False) -> str:
        """The message, or unless ``verbose`` its redacted form (see :func:`say`). A message
        about a row's field that was not built with its values apart is not searched for
        them: it is left out whole, naming only the field."""
        if verbose:
            return self.message
        if self.redacted is not None:
            return self.redacted
        if self.field not in PATIENT_FIELDS:
            return self.message
        return f"{self.field}: this value cannot be used (--verbose shows it and why)"

    def as_dict(self, verbose: bool = False) -> dict:
        """The error as a JSON-ready record, for scripts."""
        return {
            "row": self.row,
            "field": self.field,
            "message": self.public(verbose),
            "status": "failed",
            "kind": type(self).__name__,
            "exit_code": int(self.exit_code),
        }


class UsageError(ParsDocsError):
    """Raised when a value given on the command line or to the API is malformed."""

    exit_code = ExitStatus.USAGE


class InstructionError(ParsDocsError):
    """Raised when an instruction set, medicine table or template is invalid."""


class SiteError(ParsDocsError):
    """Raised when a site profile cannot be read or is invalid."""


class DataError(ParsDocsError):
    """Raised when an input list or resource cannot be read: bad encoding, bad JSON."""


class VisitError(ParsDocsError):
    """Raised when a visit cannot be planned, e.g. a local time the site's zone skips."""


class AccountError(ParsDocsError):
    """Raised when a desk account cannot be added, found or changed, or its file read."""


class AuditError(ParsDocsError):
    """Raised when the audit trail cannot be written or read: the action it would record is
    refused rather than left unrecorded."""


class GlyphError(ParsDocsError):
    """Raised when text holds characters the bundled fonts cannot draw."""


class OutputError(ParsDocsError):
    """Raised when an output cannot be written once a run is under way: a full disk, a closed
    pipe. What was written before it is left whole, or removed. A batch run's carries its
    ``summary``."""

    summary: object = None


class Interrupted(Exception):
    """Raised in the parent when the run is stopped by Ctrl-C or SIGTERM."""

    def __init__(self, signum: int, summary=None):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.summary = summary


def trace_without_values(error: BaseException) -> str:
    """Where ``error`` happened, for a log: each frame's file, line, function and code, and
    the exception's type, but not its message (which may quote a patient's value)."""
    frames = traceback.extract_tb(error.__traceback__)
    lines = ["Traceback (most recent call last):"]
    for frame in frames:
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    lines.append(f"{type(error).__module__}.{type(error).__qualname__}")
    return "\n".join(lines)
