"""What a batch run records and shows: one record per input row, the manifest they are
written to, the progress line and the summary."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import IO

from ..environment import Environment
from ..schemas import SCHEMA_VERSION
from ..write.output import Inputs, TextOutput


class Status(str, Enum):
    """What happened to one input row, and the summary count it adds to."""

    counter: str

    def __new__(cls, value: str, counter: str) -> Status:
        member = str.__new__(cls, value)
        member._value_ = value
        member.counter = counter
        return member

    def __str__(self) -> str:
        return self.value

    OK = ("ok", "written")
    FAILED = ("failed", "failed")
    SKIPPED = ("skipped", "skipped")
    DUPLICATE = ("duplicate", "duplicates")
    CANCELLED = ("cancelled", "cancelled")
    # A later revision of the same booking (a reschedule) in the same input replaces it.
    SUPERSEDED = ("superseded", "superseded")

    @classmethod
    def of(cls, value: str) -> Status:
        """The status written ``value`` (``"cancelled"``)."""
        return cls._value2member_map_[value]  # type: ignore[return-value]

    @property
    def made(self) -> bool:
        """Whether the row's handout exists (made now, or kept from an earlier run)."""
        return self in (Status.OK, Status.SKIPPED)

    @property
    def reported(self) -> bool:
        """Whether the row is reported on standard error as it happens."""
        return self in (Status.FAILED, Status.DUPLICATE)


@dataclass
class Record:
    """One manifest line: what happened to one input row."""

    row: int
    status: Status
    output: str | None = None
    sha256: str | None = None
    instruction_set: str | None = None
    version: str | None = None
    field: str | None = None
    reason: str | None = None
    start: str | None = None
    warnings: str | None = None  # "; "-joined: made, but staff should check something
    language: str | None = None  # the handout's language(s), e.g. "es" or "es+en"
    # "; "-joined: the medicines that came from the patient's chart (FHIR), as the table
    # names them (one the table lacks: by its RxNorm code only, unless --verbose).
    chart_medicines: str | None = None
    patient: str | None = dataclasses.field(default=None, repr=False)
    procedure_title: str | None = dataclasses.field(default=None, repr=False)
    document: str | None = dataclasses.field(default=None, repr=False)
    fhir: str | None = dataclasses.field(default=None, repr=False)  # a DocumentReference
    tally: str | None = dataclasses.field(default=None, repr=False)  # why it was not made
    # A keyed hash of what the handout was made from (see pars_docs.batch.folder).
    made_from: str | None = dataclasses.field(default=None, repr=False)
    # The FHIR server's answer to this row's DocumentReference (--fhir-server): status,
    # location, id, outcome, attempts.
    fhir_server: dict | None = dataclasses.field(default=None, repr=False)
    # The stack of a fault in pars-docs that stopped the row (shown with --traceback).
    trace: str | None = dataclasses.field(default=None, repr=False)
    # The patient as the site's audit trail names one (see pars_docs.audit.patient_id).
    audit_patient: str | None = dataclasses.field(default=None, repr=False)

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
        "language",
        "chart_medicines",
    )

    # With --fhir-server, the CSV manifest's columns for the server's answer.
    SERVER_COLUMNS = ("fhir_status", "fhir_id", "fhir_outcome")

    def public(self) -> dict:
        values = {k: getattr(self, k) for k in self.COLUMNS}
        values["status"] = self.status.value
        return values

    def server_columns(self) -> dict:
        """The server's answer as the CSV manifest's columns."""
        answer = self.fhir_server or {}
        return {
            "fhir_status": answer.get("status"),
            "fhir_id": answer.get("id"),
            "fhir_outcome": answer.get("outcome"),
        }


# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: one that could start a formula gets a leading
    ``'``, as OWASP advises; numbers and empty cells are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class Manifest:
    """Writes one record per input row as JSON lines (default) or CSV (``.csv``). Each record
    lands whole or not at all: a disk that fills up leaves the records before it, and an
    :class:`~pars_docs.errors.OutputError`."""

    def __init__(
        self,
        target: str | None,
        env: Environment | None = None,
        inputs: Inputs | None = None,
        server: bool = False,
    ):
        self.target = target
        self.server = server  # each line carries a FHIR server's answer
        self.output: TextOutput | None = None
        self.csv = bool(target and target.lower().endswith(".csv"))
        if not target:
            return
        self.output = TextOutput(target, "--manifest", "manifest", env, inputs=inputs)
        if self.csv:
            try:
                columns = Record.COLUMNS + (Record.SERVER_COLUMNS if server else ())
                self.output.write(self._csv_line(columns))
            except BaseException:
                self.output.abandon()
                raise

    @staticmethod
    def _csv_line(values: Iterable[object]) -> str:
        line = io.StringIO()
        csv.writer(line).writerow(values)
        return line.getvalue()

    def write(self, record: Record) -> None:
        if self.output is None:
            return
        values = record.public()
        if self.server:
            if self.csv:
                values.update(record.server_columns())
            else:
                values["fhir_server"] = record.fhir_server
        if self.csv:
            self.output.write(self._csv_line(neutralised(v) for v in values.values()))
        else:
            values["schema_version"] = SCHEMA_VERSION  # see pars_docs/schemas/manifest
            self.output.write(json.dumps(values, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self.output is not None:
            self.output.close()


class Progress:
    """Rows done, rate and time left on one terminal line; silent when not a terminal."""

    def __init__(self, enabled: bool, total: int | None, stream: IO[str] | None = None):
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
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
        self.stream.write(f"\r{line:<60}")
        self.stream.flush()

    def clear(self) -> None:
        """Blank the progress line, so a message printed next starts on a clean line."""
        if self.enabled and self.shown:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()

    def finish(self) -> None:
        self.clear()
        self.shown = 0.0


@dataclass
class Summary:
    rows: int = 0
    written: int = 0
    failed: int = 0
    skipped: int = 0
    duplicates: int = 0
    cancelled: int = 0
    superseded: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    output_error: str | None = None  # the output the run stopped on (a full disk)
    # Appointments that got no handout, by (status, why): ("skipped", "past"), …
    reasons: Counter = dataclasses.field(default_factory=Counter)

    def count(self, status: Status) -> None:
        """Count one settled row."""
        self.rows += 1
        setattr(self, status.counter, getattr(self, status.counter) + 1)

    def recount(self, was: Status, now: Status) -> None:
        """A settled row turned out otherwise (a handout lost with its packet)."""
        setattr(self, was.counter, getattr(self, was.counter) - 1)
        setattr(self, now.counter, getattr(self, now.counter) + 1)

    def line(self) -> str:
        rate = self.rows / self.seconds if self.seconds else 0
        parts = [f"{self.written} written", f"{self.failed} failed"]
        for count, word in ((self.skipped, "skipped"), (self.cancelled, "cancelled")):
            if count:
                why = sorted((t, n) for (status, t), n in self.reasons.items() if status == word)
                # "1 cancelled (1 cancelled)" would say the same thing twice.
                says_more = why and why != [(word, count)]
                detail = f" ({', '.join(f'{n} {t}' for t, n in why)})" if says_more else ""
                parts.append(f"{count} {word}{detail}")
        if self.superseded:
            parts.append(f"{self.superseded} superseded")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate{'s' if self.duplicates > 1 else ''}")
        rows = f"{self.rows} row{'' if self.rows == 1 else 's'}"
        return f"{rows}: {', '.join(parts)} in {self.seconds:.1f} s ({rate:.0f} rows/s)"
