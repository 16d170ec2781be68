"""Batch runs: an appointment list in, one handout per row (and/or one packet) out.

One bad row never costs the others: each row succeeds or fails on its own and is recorded in
the manifest. Rows render on all cores, a bounded number at a time, so memory stays flat
however long the list is. Every PDF is written through a temporary file and a rename, so an
interrupted run leaves no half-written handout, and ``skip_existing`` resumes it.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import multiprocessing
import os
import re
import signal
import string
import sys
import time
import unicodedata
import xml.etree.ElementTree as ET
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .compose import compose_packet
from .errors import ParsDocsError, UsageError
from .fhir import BundleWriter, document_reference
from .handout import Engine
from .output import write_atomic
from .render_pdf import render_pdf
from .rows import REQUIRED, parse_medications, parse_sedation, reformat_date
from .site import Site
from .visit import make_visit

DEFAULT_NAME = "{date}_{time}_{procedure}_{id}"
NAME_FIELDS = ("date", "time", "procedure", "mrn", "row", "id", "patient")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+|\s+')
IN_FLIGHT_PER_JOB = 4
MAX_NAME_BYTES = 200


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
    patient: str | None = dataclasses.field(default=None, repr=False)
    procedure_title: str | None = dataclasses.field(default=None, repr=False)
    document: str | None = dataclasses.field(default=None, repr=False)
    fhir: str | None = dataclasses.field(default=None, repr=False)  # a DocumentReference

    COLUMNS = ("row", "status", "output", "sha256", "instruction_set", "version", "field", "reason")

    def public(self) -> dict:
        return {k: getattr(self, k) for k in self.COLUMNS}


@dataclass
class Options:
    out_dir: Path | None = None
    name: str = DEFAULT_NAME
    merge: Path | None = None
    duplex: bool = False
    index: bool = False
    manifest: str | None = None
    fail_fast: bool = False
    skip_existing: bool = False
    jobs: int = 0
    date_format: str | None = None
    paper: str | None = None
    emit: str = "pdf"  # or "fhir": a Bundle of DocumentReferences to fhir_output
    verbose: bool = False  # patient values in row reasons
    fhir_output: str = "-"


# Output names --------------------------------------------------------------------------------


def safe_name(text: str, fallback: str) -> str:
    """A file name made from row values: no separators, no ``..``, nothing hidden, and at most
    200 bytes, well inside every file system's limit whatever the script."""
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE.sub("_", text).replace("..", "_").strip("._ ")
    encoded = text.encode("utf-8")[:MAX_NAME_BYTES]
    text = encoded.decode("utf-8", errors="ignore").strip("._ ")
    return text or fallback


def check_name_pattern(pattern: str) -> None:
    """Only plain ``{field}`` placeholders: no attribute or index lookups, no conversions."""
    allowed = f"{{{'}, {'.join(NAME_FIELDS)}}}"
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as e:
        raise UsageError(
            f"--name: '{pattern}' is not a pattern ({e}); use {allowed}", field="name"
        ) from e
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in NAME_FIELDS or spec or conversion:
            raise UsageError(
                f"--name: '{{{field}}}' is not a placeholder; use {allowed}", field="name"
            )


def output_name(pattern: str, visit, row: int) -> str:
    values = {
        "date": visit.date.isoformat(),
        "time": visit.time.strftime("%H%M"),
        "procedure": visit.procedure,
        "mrn": visit.mrn or "",
        "row": str(row),
        "id": visit.mrn or f"row{row}",
        "patient": visit.patient,
    }
    values = {k: safe_name(v, "") for k, v in values.items()}
    name = safe_name(pattern.format_map(values), f"row{row}")
    return name if name.lower().endswith(".pdf") else name + ".pdf"


def check_writable(folder: Path, what: str) -> None:
    """Fail before any work if ``folder`` cannot take new files."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".pars-docs-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise UsageError(f"{what}: cannot write to {folder} ({e.strerror})", field=what) from e


def remove_stale_parts(folder: Path) -> None:
    """Temporary files a killed run left behind; never a finished handout."""
    for stale in folder.glob(".*.pdf.*.part"):
        stale.unlink(missing_ok=True)


# Workers -------------------------------------------------------------------------------------

_engine: Engine | None = None


@dataclass
class Task:
    """One row for a worker: the visit and what to make of it."""

    row: int
    visit: object
    target: str | None = None  # where the PDF goes (None: not written to a folder)
    keep: bool = False  # the target exists and is kept (--skip-existing)
    document: bool = False  # return the composed document, for a packet
    paper: str | None = None
    fhir: dict | None | bool = False  # references for a DocumentReference; False: none


def _init_worker(site: Site, verbose: bool = False) -> None:
    global _engine, _verbose
    _verbose = verbose
    # The parent decides when to stop and lets rows already started finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _engine = Engine(site)


def _render(task: Task) -> Record:
    """Plan, compose and (unless kept or only merged) write one row's handout."""
    try:
        handout = _engine.prepare(task.visit)
    except ParsDocsError as e:
        return Record(task.row, "failed", field=e.field, reason=_row_reason(e))
    iset = handout.instruction_set
    record = Record(
        task.row,
        "ok",
        instruction_set=iset.id,
        version=iset.version,
        start=handout.plan.moments["start"].isoformat(),
        patient=task.visit.patient,
        procedure_title=iset.title,
    )
    if task.keep:
        record.status, record.output, record.reason = "skipped", task.target, "already exists"
        data = Path(task.target).read_bytes()
        record.sha256 = hashlib.sha256(data).hexdigest()
        if task.fhir is not False:
            record.fhir = json.dumps(
                document_reference(handout, data, task.fhir), ensure_ascii=False
            )
    elif task.target or task.fhir is not False:
        data = handout.pdf(task.paper)
        record.sha256 = hashlib.sha256(data).hexdigest()
        if task.target:
            try:
                write_atomic(Path(task.target), data)
            except OSError as e:
                return Record(
                    task.row,
                    "failed",
                    field="output",
                    reason=f"output: cannot write {Path(task.target).name} ({e.strerror})",
                )
            record.output = task.target
        if task.fhir is not False:
            record.fhir = json.dumps(
                document_reference(handout, data, task.fhir), ensure_ascii=False
            )
    if task.document:
        record.document = ET.tostring(handout.document, encoding="unicode")
    return record


_verbose = False  # set per run (and per worker): patient values in row reasons


def _row_reason(error: ParsDocsError) -> str:
    return error.public(_verbose).splitlines()[0]


# The run -------------------------------------------------------------------------------------


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

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")


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
    records: list = dataclasses.field(default_factory=list)

    def line(self) -> str:
        rate = self.rows / self.seconds if self.seconds else 0
        parts = [f"{self.written} written", f"{self.failed} failed"]
        for count, word in ((self.skipped, "skipped"), (self.cancelled, "cancelled")):
            if count:
                parts.append(f"{count} {word}")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate{'s' if self.duplicates > 1 else ''}")
        rows = f"{self.rows} row{'' if self.rows == 1 else 's'}"
        return f"{rows}: {', '.join(parts)} in {self.seconds:.1f} s ({rate:.0f} rows/s)"


def _visits(rows, options: Options, engine: Engine, visit_refs: dict):
    """Turn input rows into visits, yielding (row, visit) or (row, Record of the failure)."""
    for number, row in rows:
        if isinstance(row, ParsDocsError):
            yield number, Record(number, "failed", field=row.field, reason=_row_reason(row))
            continue
        if isinstance(row, tuple):  # ("cancelled", reason): an appointment not to make
            yield number, Record(number, row[0], reason=row[1])
            continue
        missing = [name for name in REQUIRED if name not in row]
        if missing:
            yield (
                number,
                Record(number, "failed", field=missing[0], reason=f"{missing[0]}: is required"),
            )
            continue
        try:
            visit = make_visit(
                row.get("procedure", ""),
                row.get("patient"),
                reformat_date(row.get("date"), options.date_format, "date") or "",
                row.get("time") or "",
                row.get("clinician"),
                dob=reformat_date(row.get("dob"), options.date_format, "dob"),
                mrn=str(row["mrn"]) if "mrn" in row else None,
                sedation=parse_sedation(row.get("sedation")),
                medications=parse_medications(row.get("medications")),
                note=row.get("note"),
            )
            engine.library.get(visit.procedure)
            visit_refs[number] = row.get("_fhir")
        except ParsDocsError as e:
            yield (
                number,
                Record(
                    number,
                    "failed",
                    field=e.field,
                    reason=_row_reason(e).removeprefix(f"row {number}: "),
                ),
            )
            continue
        yield number, visit


class _Duplicate:
    """A row that repeats an earlier one; settled after that row, in input order."""

    def __init__(self, task: Task, first: int):
        self.task = task
        self.first = first


class _Stop:
    """Remembers a Ctrl-C or SIGTERM; the run stops at the next row boundary."""

    def __init__(self):
        self.signum: int | None = None

    def __call__(self, signum, _frame):
        self.signum = signum

    def check(self) -> None:
        if self.signum is not None:
            raise Interrupted(self.signum)


def run_batch(
    rows,
    site: Site,
    options: Options,
    *,
    report=None,
    progress_total=None,
    show_progress: bool = False,
) -> Summary:
    """Make a handout for every row. ``report(record)`` receives each failed or duplicate
    row as it happens. Returns the summary; raises :class:`Interrupted` (carrying the summary)
    after a clean stop, every row already started being finished and recorded."""
    global _verbose
    _verbose = options.verbose
    report = report or (lambda record: None)
    check_name_pattern(options.name)
    if options.merge:
        check_writable(options.merge.parent, "--merge")
    if options.manifest and options.manifest != "-":
        folder = Path(options.manifest).parent
        if not folder.is_dir():
            raise UsageError(f"--manifest: folder {folder} does not exist", field="manifest")
    if options.out_dir:
        check_writable(options.out_dir, "--out-dir")
        remove_stale_parts(options.out_dir)
    manifest = Manifest(options.manifest)
    engine = Engine(site)
    emitter = BundleWriter(options.fhir_output) if options.emit == "fhir" else None
    summary = Summary()
    progress = Progress(show_progress, progress_total)
    jobs = options.jobs or os.cpu_count() or 1
    started = time.monotonic()
    claimed: dict[str, int] = {}
    seen: dict[tuple, Task] = {}
    settled: dict[int, Record] = {}
    merged: list[Record] = []
    visit_refs: dict[int, dict | None] = {}
    held: list[Record] = []  # with --merge, records wait for the packet's hash
    stop = _Stop()

    def settle(record: Record) -> None:
        summary.rows += 1
        settled[record.row] = record
        status = record.status
        if status == "ok":
            summary.written += 1
        elif status == "failed":
            summary.failed += 1
            report(record)
        elif status == "skipped":
            summary.skipped += 1
        elif status == "duplicate":
            summary.duplicates += 1
            report(record)
        elif status == "cancelled":
            summary.cancelled += 1
        if emitter and record.fhir:
            emitter.add(record.fhir, record.sha256)
        if options.merge:
            if record.document:
                merged.append(record)
            held.append(record)
        else:
            manifest.write(record)
        progress.update(summary.rows)

    def resolve(duplicate: _Duplicate) -> Record:
        """A repeat of a row that was made is not made again; of one that failed, it is."""
        first = settled.get(duplicate.first)
        if first is not None and first.status in ("ok", "skipped"):
            return Record(
                duplicate.task.row,
                "duplicate",
                output=first.output,
                reason=f"same patient, procedure and time as row {first.row}; not made again",
            )
        if _engine is None:
            _init_engine_here(site, options.verbose)
        return _render(duplicate.task)

    def tasks():
        for number, item in _visits(rows, options, engine, visit_refs):
            stop.check()
            if isinstance(item, Record):
                yield item
                if item.status == "failed" and options.fail_fast:
                    return
                continue
            key = (item.patient.casefold(), item.mrn or "", item.procedure, item.date, item.time)
            fhir = visit_refs.pop(number, None) if options.emit == "fhir" else False
            if key in seen:
                # A repeat takes its first row's file, should that row fail and it be made.
                first = seen[key]
                yield _Duplicate(
                    dataclasses.replace(first, row=number, visit=item, fhir=fhir), first.row
                )
                continue
            target = None
            if options.out_dir:
                name = output_name(options.name, item, number)
                if name in claimed:
                    name = name[:-4] + f"-row{number}.pdf"
                claimed[name] = number
                target = options.out_dir / name
            keep = bool(target and options.skip_existing and target.exists())
            task = Task(
                number,
                item,
                str(target) if target else None,
                keep=keep,
                document=bool(options.merge),
                paper=options.paper,
                fhir=fhir,
            )
            seen[key] = task
            if keep and not options.merge and options.emit != "fhir":
                iset = engine.library.get(item.procedure)
                yield Record(
                    number,
                    "skipped",
                    output=str(target),
                    reason="already exists",
                    sha256=hashlib.sha256(target.read_bytes()).hexdigest(),
                    instruction_set=iset.id,
                    version=iset.version,
                )
                continue
            yield task

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, stop)
    try:
        if jobs <= 1:
            _init_engine_here(site, options.verbose)
            for task in tasks():
                record = _settle_in_process(task, resolve)
                settle(record)
                if record.status == "failed" and options.fail_fast:
                    break
                stop.check()
        else:
            _run_parallel(tasks(), site, jobs, settle, resolve, options, stop)
    except Interrupted as interrupted:
        summary.interrupted = True
        interrupted.summary = summary
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        progress.finish()
        summary.seconds = time.monotonic() - started
        if options.merge and merged and not summary.interrupted:
            _write_packet(merged, options, site)
        for record in sorted(held, key=lambda r: r.row):
            manifest.write(record)
        manifest.close()
        if emitter:
            emitter.close()
    return summary


def _settle_in_process(item, resolve) -> Record:
    if isinstance(item, Record):
        return item
    if isinstance(item, _Duplicate):
        return resolve(item)
    return _render(item)


def _init_engine_here(site: Site, verbose: bool) -> None:
    global _engine, _verbose
    _engine, _verbose = Engine(site), verbose


def _run_parallel(
    tasks, site: Site, jobs: int, settle, resolve, options: Options, stop: _Stop
) -> None:
    """Render on ``jobs`` processes with a bounded number of rows in flight, settling results
    in input order. On a stop (an interrupt, or --fail-fast) rows not yet started are
    dropped, and rows already started are finished and recorded."""
    context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    pending: deque = deque()

    def settle_next() -> bool:
        """Settle the oldest row; True if the run must stop after a failure."""
        item = pending.popleft()
        if isinstance(item, Future):
            record = item.result()
        else:
            record = _settle_in_process(item, resolve)
        settle(record)
        return record.status == "failed" and options.fail_fast

    def wind_down() -> None:
        for item in pending:
            if isinstance(item, Future):
                item.cancel()
        while pending:
            item = pending.popleft()
            if isinstance(item, Future) and not item.cancelled():
                settle(item.result())

    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_init_worker, initargs=(site, options.verbose)
    ) as pool:
        try:
            for task in tasks:
                pending.append(pool.submit(_render, task) if isinstance(task, Task) else task)
                while len(pending) > jobs * IN_FLIGHT_PER_JOB or (
                    pending and not isinstance(pending[0], Future)
                ):
                    if settle_next():
                        wind_down()
                        return
                    stop.check()
            while pending:
                if settle_next():
                    wind_down()
                    return
                stop.check()
        except Interrupted:
            wind_down()
            raise


def _write_packet(records: list[Record], options: Options, site: Site) -> None:
    """One PDF of every handout in appointment order, fonts embedded once."""
    records.sort(key=lambda r: (r.start, r.row))
    documents = [ET.fromstring(r.document) for r in records]
    packet = compose_packet(records, site)
    data = render_pdf(
        documents,
        paper=options.paper or site.paper,
        logo=site.logo,
        author=site.name,
        duplex=options.duplex,
        title=packet.get("title"),
        index=packet.find("index") if options.index else None,
    )
    write_atomic(options.merge, data)
    digest = hashlib.sha256(data).hexdigest()
    for record in records:
        if not record.output:
            record.output = str(options.merge)
            record.sha256 = digest
