"""Batch runs: an appointment list in, one handout per row (and/or one packet) out.

One bad row never costs the others: each row succeeds or fails on its own and is recorded in
the manifest. Rows render on all cores, a bounded number at a time, so memory stays flat
however long the list is. Every PDF is written through a temporary file and a rename, so an
interrupted run leaves no half-written handout, and ``skip_existing`` resumes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import signal
import sys
import time
import xml.etree.ElementTree as ET
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .compose import compose_packet
from .ehr import Skip
from .errors import ParsDocsError, UsageError
from .fhir_out import BundleWriter
from .handout import RENDITIONS, Engine
from .ledger import Interrupted, Manifest, Progress, Record, Summary
from .names import (
    DEFAULT_NAME,
    check_name_pattern,
    check_writable,
    output_name,
    remove_stale_parts,
)
from .output import write_atomic
from .pdf import render_pdf
from .rows import REQUIRED, parse_medications, parse_sedation, reformat_date
from .site import Site
from .visit import Visit, make_visit

IN_FLIGHT_PER_JOB = 4


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
    output_format: str = "pdf"  # what each file in out_dir holds: pdf, text, json or ics
    sedation: bool | None = None  # for rows that do not say (FHIR never does)
    emit: str = "file"  # or "fhir": a Bundle of DocumentReferences to fhir_output
    verbose: bool = False  # patient values in row reasons
    fhir_output: str = "-"
    fhir_bundle: str = "collection"  # or "transaction", for a server to accept


# Which summary count each row status adds to.
COUNTERS = {
    "ok": "written",
    "failed": "failed",
    "skipped": "skipped",
    "duplicate": "duplicates",
    "cancelled": "cancelled",
}

# Output names --------------------------------------------------------------------------------


# Workers -------------------------------------------------------------------------------------

_engine: Engine | None = None


@dataclass
class Task:
    """One row for a worker: the visit and what to make of it."""

    row: int
    visit: Visit
    target: str | None = None  # where the PDF goes (None: not written to a folder)
    keep: bool = False  # the target exists and is kept (--skip-existing)
    document: bool = False  # return the composed document, for a packet
    paper: str | None = None
    rendition: str = "pdf"  # what the file in the folder holds: pdf, text, json or ics
    fhir: dict | None | bool = False  # references for a DocumentReference; False: none


def _init_worker(site: Site, verbose: bool = False) -> None:
    global _engine, _verbose
    _verbose = verbose
    # The parent decides when to stop and lets rows already started finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _engine = Engine(site)


def _render(task: Task) -> Record:
    """Plan, compose and (unless kept or only merged) write one row's handout. Whatever goes
    wrong with one row, even a fault in pars-docs itself, costs only that row."""
    try:
        return _render_row(task)
    except Exception as e:  # noqa: BLE001 - one row's fault must not stop the others
        detail = f": {e}" if _verbose else ""
        return Record(
            task.row,
            "failed",
            reason=f"could not make this handout ({type(e).__name__}{detail}); please report it",
        )


def _render_row(task: Task) -> Record:
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
        warnings="; ".join(handout.warnings) or None,
    )
    pdf = None
    if task.keep:
        record.status, record.output, record.reason = "skipped", task.target, "already exists"
        data = Path(task.target).read_bytes()
        record.sha256 = hashlib.sha256(data).hexdigest()
        pdf = data if task.rendition == "pdf" else None
    elif task.target or task.fhir is not False:
        data = handout.render(task.rendition, task.paper)
        pdf = data if task.rendition == "pdf" else None
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
        resource = handout.document_reference(pdf, task.fhir)
        record.fhir = json.dumps(resource, ensure_ascii=False)
    if task.document:
        record.document = ET.tostring(handout.document, encoding="unicode")
    return record


_verbose = False  # set per run (and per worker): patient values in row reasons


def _row_reason(error: ParsDocsError) -> str:
    return error.public(_verbose).splitlines()[0]


# The run -------------------------------------------------------------------------------------


def _visits(rows, options: Options, engine: Engine, visit_refs: dict):
    """Turn input rows into visits, yielding (row, visit) or (row, Record of the failure)."""
    for number, row in rows:
        if isinstance(row, ParsDocsError):
            yield number, Record(number, "failed", field=row.field, reason=_row_reason(row))
            continue
        if isinstance(row, Skip):  # an appointment that gets no handout
            yield number, Record(number, row.status, reason=row.reason, tally=row.tally)
            continue
        missing = [name for name in REQUIRED if name not in row]
        if missing:
            reason = "; ".join(f"{name}: is required" for name in missing)
            yield number, Record(number, "failed", field=missing[0], reason=reason)
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
                sedation=(
                    parse_sedation(row["sedation"]) if "sedation" in row else options.sedation
                ),
                medications=parse_medications(row.get("medications")),
                note=row.get("note"),
                fold=row.get("fold", 0),
                visit_id=str(row["visit_id"]) if "visit_id" in row else None,
                revision=row.get("revision"),
            )
            engine.library.get(visit.procedure)
            visit_refs[number] = row.get("_fhir")
        except ParsDocsError as e:
            yield number, Record(number, "failed", field=e.field, reason=_row_reason(e))
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

    def raise_now(self, signum, _frame):
        raise Interrupted(signum)


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
    if options.merge and options.output_format != "pdf":
        raise UsageError(
            "--merge makes a PDF packet; it cannot be used with --output-format "
            f"{options.output_format}",
            field="merge",
        )
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
    emitter = (
        BundleWriter(options.fhir_output, options.fhir_bundle) if options.emit == "fhir" else None
    )
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
        counter = COUNTERS[record.status]
        setattr(summary, counter, getattr(summary, counter) + 1)
        if record.tally:
            summary.reasons[record.status, record.tally] += 1
        if record.status in ("failed", "duplicate") or record.warnings:
            progress.clear()
            report(record)
        if emitter and record.fhir:
            emitter.add(record.fhir)
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
            _init_engine_here(site)
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
                suffix = RENDITIONS[options.output_format]
                name = output_name(options.name, item, number, suffix)
                if name in claimed:
                    name = name[: -len(suffix)] + f"-row{number}{suffix}"
                claimed[name] = number
                target = options.out_dir / name
            keep = bool(target and options.skip_existing and _complete(target))
            task = Task(
                number,
                item,
                str(target) if target else None,
                keep=keep,
                document=bool(options.merge),
                paper=options.paper,
                rendition=options.output_format,
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
    finished = False
    try:
        if jobs <= 1:
            _init_engine_here(site)
            for task in tasks():
                record = _settle_in_process(task, resolve)
                settle(record)
                if record.status == "failed" and options.fail_fast:
                    break
                stop.check()
        else:
            engine.warm()  # before the workers fork, so they share what it loaded
            _run_parallel(tasks(), site, jobs, settle, resolve, options, stop)
        stop.check()
        progress.finish()
        if options.merge and merged:
            # One long ReportLab build: a stop now abandons the packet at once (nothing is
            # written until it is complete).
            for sig in previous:
                signal.signal(sig, stop.raise_now)
            _write_packet(merged, options, site)
        finished = True
    except Interrupted as interrupted:
        summary.interrupted = True
        interrupted.summary = summary
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        progress.finish()
        summary.seconds = time.monotonic() - started
        if not finished and options.merge:
            for record in held:  # the packet was not written: nothing points into it
                if record.output == str(options.merge):
                    record.output = record.sha256 = None
        for record in sorted(held, key=lambda r: r.row):
            manifest.write(record)
        manifest.close()
        if emitter:
            emitter.close()
    return summary


def _complete(path: Path) -> bool:
    """Whether ``path`` is a finished file worth keeping on a resumed run. pars-docs never
    leaves a partial file, but one copied in by hand or cut short elsewhere is made again: a
    PDF must end with its end-of-file marker."""
    try:
        size = path.stat().st_size
        if path.suffix.lower() != ".pdf":
            return size > 0
        with open(path, "rb") as handle:
            handle.seek(max(0, size - 1024))
            return b"%%EOF" in handle.read()
    except OSError:
        return False


def _settle_in_process(item, resolve) -> Record:
    if isinstance(item, Record):
        return item
    if isinstance(item, _Duplicate):
        return resolve(item)
    return _render(item)


def _init_engine_here(site: Site) -> None:
    """Render in this process (``--jobs 1``, or a repeat of a failed row)."""
    global _engine
    _engine = Engine(site)


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
        pdfa=site.pdfa,
    )
    write_atomic(options.merge, data)
    digest = hashlib.sha256(data).hexdigest()
    for record in records:
        if not record.output:
            record.output = str(options.merge)
            record.sha256 = digest
