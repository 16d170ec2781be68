"""What a batch run records and shows: one record per input row, the manifest they are
written to, the progress line and the summary."""

from __future__ import annotations

import csv
import dataclasses
import json
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass

from .errors import UsageError


@dataclass
class Record:
    """One manifest line: what happened to one input row."""

    row: int
    status: str  # ok, failed, skipped, duplicate, cancelled
    output: str | None = None
    sha256: str | None = None
    instruction_set: str | None = None
    version: str | None = None
    field: str | None = None
    reason: str | None = None
    start: str | None = None
    warnings: str | None = None  # "; "-joined: made, but staff should check something
    patient: str | None = dataclasses.field(default=None, repr=False)
    procedure_title: str | None = dataclasses.field(default=None, repr=False)
    document: str | None = dataclasses.field(default=None, repr=False)
    fhir: str | None = dataclasses.field(default=None, repr=False)  # a DocumentReference
    tally: str | None = dataclasses.field(default=None, repr=False)  # why it was not made

    COLUMNS = (
        "row",
        "status",
        "output",
        "sha256",
        "instruction_set",
        "version",
        "field",
        "reason",
        "warnings",
    )

    def public(self) -> dict:
        return {k: getattr(self, k) for k in self.COLUMNS}


class Manifest:
    """Writes one record per input row as JSON lines (default) or CSV (``.csv``)."""

    def __init__(self, target: str | None):
        self.target = target
        self.stream = None
        self.writer = None
        if not target:
            return
        if target == "-":
            self.stream = sys.stdout
        else:
            try:
                self.stream = open(target, "w", encoding="utf-8", newline="")  # noqa: SIM115
            except OSError as e:
                raise UsageError(
                    f"--manifest: cannot write {target} ({e.strerror})", field="manifest"
                ) from e
        if target.lower().endswith(".csv"):
            self.writer = csv.DictWriter(self.stream, fieldnames=Record.COLUMNS)
            self.writer.writeheader()

    def write(self, record: Record) -> None:
        if self.stream is None:
            return
        if self.writer:
            self.writer.writerow(record.public())
        else:
            self.stream.write(json.dumps(record.public(), ensure_ascii=False) + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.stream not in (None, sys.stdout):
            self.stream.close()


class Progress:
    """Rows done, rate and time left on one terminal line; silent when not a terminal."""

    def __init__(self, enabled: bool, total: int | None):
        self.enabled = enabled
        self.total = total
        self.started = time.monotonic()
        self.shown = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.shown < 0.1:
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-6)
        line = f"{done} rows  {rate:.0f}/s"
        if self.total:
            left = max(self.total - done, 0) / rate if rate else 0
            minutes, seconds = divmod(int(left), 60)
            line = f"{done}/{self.total} rows  {rate:.0f}/s  {minutes}:{seconds:02d} left"
        sys.stderr.write(f"\r{line:<60}")
        sys.stderr.flush()

    def clear(self) -> None:
        """Blank the progress line, so a message printed next starts on a clean line."""
        if self.enabled and self.shown:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()

    def finish(self) -> None:
        self.clear()
        self.shown = 0.0


class Interrupted(Exception):
    """Raised in the parent when the run is stopped by Ctrl-C or SIGTERM."""

    def __init__(self, signum: int, summary=None):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.summary = summary


@dataclass
class Summary:
    rows: int = 0
    written: int = 0
    failed: int = 0
    skipped: int = 0
    duplicates: int = 0
    cancelled: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    # Appointments that got no handout, by (status, why): ("skipped", "past"), …
    reasons: Counter = dataclasses.field(default_factory=Counter)

    def line(self) -> str:
        rate = self.rows / self.seconds if self.seconds else 0
        parts = [f"{self.written} written", f"{self.failed} failed"]
        for count, word in ((self.skipped, "skipped"), (self.cancelled, "cancelled")):
            if count:
                why = sorted((t, n) for (status, t), n in self.reasons.items() if status == word)
                detail = f" ({', '.join(f'{n} {t}' for t, n in why)})" if why else ""
                parts.append(f"{count} {word}{detail}")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate{'s' if self.duplicates > 1 else ''}")
        rows = f"{self.rows} row{'' if self.rows == 1 else 's'}"
        return f"{rows}: {', '.join(parts)} in {self.seconds:.1f} s ({rate:.0f} rows/s)"
