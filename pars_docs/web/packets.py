"""A packet from an uploaded appointment list, made by the batch runner in its own process.

The upload is checked here first (format, encoding, the columns and the mapping), so a bad
file is refused at once with the message ``pars-docs batch`` gives. The run itself is
:func:`~pars_docs.batch.run_batch` in a child process: it owns its signals and its worker
pool there, and the web server's threads stay free to show progress. Everything the run
writes goes into a private folder (mode 0700) that is read back into memory and removed as
soon as the run ends; a server that stops removes the folders of runs still going.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import logging
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import (
    DataError,
    ExitStatus,
    Interrupted,
    ParsDocsError,
    UsageError,
    trace_without_values,
)
from ..service.inputs import (
    FEEDS,
    FORMATS,
    Row,
    RowResult,
    Site,
    Source,
    check_date_format,
    check_zone,
    code_map,
    input_rows,
    read_mapping,
)
from ..service.lists import Options, Progress, Record, join_packet, run_batch
from ..service.outputs import build_time, engine

log = logging.getLogger("pars_docs.web")

INPUT_SUFFIXES = {".csv", ".tsv", ".tab", ".json", ".ndjson", ".jsonl", ".hl7", ".xml", ".xlsx"}
MAP_SUFFIXES = {".yaml", ".yml", ".json"}
CODES_SUFFIXES = {".yaml", ".yml", ".json"}
SHOWN = ("patient", "date", "time", "procedure")  # what the result table shows of each row
NAMED = ("mrn", "dob")  # kept too, for the audit trail's patient identifier
# What a failed row's form offers to correct, in the order it shows them.
FIXABLE = (
    "procedure",
    "patient",
    "dob",
    "mrn",
    "date",
    "time",
    "clinician",
    "sedation",
    "medications",
    "note",
    "language",
)
FIX_SECONDS = 120  # a corrected row is one handout: far less than this


@dataclass
class Job:
    """One upload's run and, once it ends, its results, held in memory."""

    key: str
    folder: Path
    total: int
    label: str
    process: Any = None  # the run's multiprocessing Process
    state: str = "running"  # running, packing, done, failed, stopped
    error: str | None = None
    read: Any = None  # a multiprocessing Value: rows settled so far
    rows: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    packet: bytes | None = None
    handouts: bytes | None = None  # a zip
    manifest: bytes | None = None  # CSV
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    owner: str = ""  # the session that started it
    audited: bool = False  # its handouts are in the audit trail, so it may be given out
    options: Options = field(default_factory=Options)  # the batch run's, as the form chose
    site: Site | None = None  # the run's site (its zone and code map)
    # What each failed row said (FIXABLE fields), for correcting it in the page.
    given: dict[int, dict[str, str]] = field(default_factory=dict)
    day: str = ""  # the list's dates, for the downloads' names: 2027-03-08 (-to-2027-03-09)

    @property
    def done(self) -> int:
        return min(self.read.value, self.total) if self.read is not None else 0

    @property
    def failed_rows(self) -> list[dict]:
        return [row for row in self.rows if row["status"] == "failed"]


class Packets:
    """Starts runs, follows them and keeps their results for a while."""

    KEEP_SECONDS = 30 * 60
    KEEP_AT_MOST = 8
    RUNNING_AT_MOST = 2  # each run uses every core already

    def __init__(self, site: Site, library, root: Path, quiet: threading.Lock | None = None):
        self.site = site
        # Held while the run's process forks, so no thread is midway through a handout (and
        # ReportLab's module state) at that moment.
        self._quiet = quiet or threading.Lock()
        self.library = library
        self.root = root
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        method = "fork" if sys.platform != "win32" else "spawn"
        self._context: Any = multiprocessing.get_context(method)

    def start(
        self,
        upload: bytes,
        filename: str,
        options: Options,
        *,
        fmt: str | None = None,
        encoding: str | None = None,
        columns: tuple[str, ...] = (),
        timezone: str | None = None,
        mapping_upload: tuple[bytes, str] | None = None,
        codes_upload: tuple[bytes, str] | None = None,
    ) -> str:
        """Check the upload and start its run with ``options`` (those of the batch run the
        form offers); a :class:`ParsDocsError` if it cannot run. ``fmt``, ``encoding`` and
        ``columns`` say how the list is read; ``timezone`` is the clinic's zone for a FHIR or
        HL7 v2 list (else the site's)."""
        if not upload:
            raise UsageError("INPUT: choose a file to upload", field="input")
        with self._lock:
            running = sum(1 for job in self._jobs.values() if job.ended is None)
        if running >= self.RUNNING_AT_MOST:
            raise UsageError(
                f"{running} packets are being made already; upload this list when one of "
                "them is done",
                field="packet",
            )
        if fmt and fmt not in FORMATS:
            raise UsageError(f"--format: '{fmt}' is not a known format", field="format")
        if options.date_format:
            check_date_format(options.date_format)
        zone = check_zone(timezone) if timezone else None
        label = _display_name(filename)
        folder = Path(tempfile.mkdtemp(prefix="job-", dir=self.root))
        try:
            suffix = Path(filename).suffix.lower()
            source_path = folder / ("input" + (suffix if suffix in INPUT_SUFFIXES else ""))
            source_path.write_bytes(upload)
            map_path = None
            if mapping_upload:
                data, map_name = mapping_upload
                map_suffix = Path(map_name).suffix.lower()
                map_path = folder / ("map" + (map_suffix if map_suffix in MAP_SUFFIXES else ""))
                map_path.write_bytes(data)
            codes_path = None
            if codes_upload:
                data, codes_name = codes_upload
                codes_suffix = Path(codes_name).suffix.lower()
                codes_path = folder / (
                    "codes" + (codes_suffix if codes_suffix in CODES_SUFFIXES else ".yaml")
                )
                codes_path.write_bytes(data)
            names = {
                str(source_path): label,
                str(map_path): "the mapping file",
                str(codes_path): "the code map",
            }
            with _relabelled(names):
                mapping = read_mapping(str(map_path) if map_path else None, columns)
                source = Source(str(source_path), fmt, encoding)
                site = self._site_for(source, zone)
                if codes_path is not None:
                    site = replace(site, procedure_codes=codes_path)
                try:
                    rows, _ = input_rows(
                        source,
                        site,
                        mapping=mapping,
                        library=self.library,
                        include_past=options.include_past,
                    )
                    total = sum(1 for _ in rows())
                except ParsDocsError:
                    raise
                except Exception as e:  # noqa: BLE001 - a reader's fault is still a bad upload
                    raise DataError(
                        f"{label}: could not be read as {source.format.upper()} "
                        f"({type(e).__name__})"
                    ) from e
            if not total:
                raise DataError(f"{label}: holds no rows")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        job = Job(secrets.token_urlsafe(18), folder, total, label, options=options, site=site)
        job.read = self._context.Value("i", 0)
        receive, send = self._context.Pipe(duplex=False)
        job.process = self._context.Process(
            target=_run,
            args=(folder, source_path.name, source.format, encoding, mapping, options),
            kwargs={"site": site, "counter": job.read, "reply": send, "parent": os.getpid()},
            daemon=False,  # its batch run starts a worker pool of its own
        )
        with self._lock:
            self._expire()
            self._jobs[job.key] = job
        with self._quiet:
            job.process.start()
        send.close()
        threading.Thread(target=self._follow, args=(job, receive), daemon=True).start()
        return job.key

    def _site_for(self, source: Source, zone: ZoneInfo | None) -> Site:
        """The site a run uses: on the zone given for a FHIR or HL7 v2 list, whose times are
        instants. The built-in site's zone is this computer's, which would print the wrong
        clock time, so such a list needs a zone when the desk runs without a site profile.
        A list of clock times (CSV and the like) is read on the site's clock as written."""
        if source.format not in FEEDS:
            return self.site
        if zone is not None:
            return replace(self.site, tz=zone)
        if self.site.is_default:
            kind = "an HL7 v2 list" if source.format == "hl7" else "a FHIR list"
            raise UsageError(
                f"timezone: {kind}'s times are instants, and without a site profile the "
                f"handouts would print them on this computer's clock ({self.site.timezone}); "
                "give the clinic's time zone (e.g. America/Chicago), or start pars-docs serve "
                "with a site profile (--site)",
                field="timezone",
            )
        return self.site

    def get(self, key: str) -> Job | None:
        with self._lock:
            self._expire()
            return self._jobs.get(key)

    def _follow(self, job: Job, receive) -> None:
        """Wait for the run, read what it wrote into memory, and remove its folder."""
        message = None
        try:
            message = receive.recv()
        except (EOFError, OSError):
            pass
        finally:
            receive.close()
            job.process.join()
        state, error = "done", None
        try:
            if message is None:
                state, error = "failed", "the run stopped before it finished"
            elif message[0] == "error":
                state, error = "failed", message[1]
            elif message[0] == "stopped":
                state, error = "stopped", "the run was stopped"
            else:
                job.state = "packing"
                _, summary, shown = message
                self._collect(job, summary, shown)
        except Exception as e:  # noqa: BLE001 - the page must say so, not hang
            state, error = "failed", f"the results could not be read ({type(e).__name__})"
        finally:
            shutil.rmtree(job.folder, ignore_errors=True)
            job.ended = time.monotonic()
            job.error, job.state = error, state  # last: the page sees a finished, tidy run

    def _collect(self, job: Job, summary: dict, shown: dict) -> None:
        folder = job.folder
        packet = folder / "packet.pdf"
        job.packet = packet.read_bytes() if packet.is_file() else None
        records = []
        manifest = folder / "manifest.jsonl"
        if manifest.is_file():
            with open(manifest, encoding="utf-8") as lines:
                records = [json.loads(line) for line in lines if line.strip()]
        handouts = folder / "handouts"
        job.day = _list_day(records, self.site)
        stamp = build_time().timetuple()[:6]
        stamp = stamp if stamp[0] >= 1980 else (1980, 1, 1, 0, 0, 0)  # zip's first year
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for path in sorted(handouts.glob("*.pdf")) if handouts.is_dir() else []:
                info = zipfile.ZipInfo(f"handouts/{path.name}", date_time=stamp)
                archive.writestr(info, path.read_bytes())
        job.handouts = buffer.getvalue()
        table = io.StringIO(newline="")
        # The manifest lines carry more than its CSV columns (schema_version).
        writer = csv.DictWriter(table, fieldnames=Record.COLUMNS, extrasaction="ignore")
        writer.writeheader()
        rows = []
        titles = self._titles()
        for record in sorted(records, key=lambda r: r["row"]):
            record["output"] = _relative_output(record.get("output"), folder)
            writer.writerow(record)
            given = shown.get(record["row"], {})
            row = {**record, **{k: given.get(k, "") for k in SHOWN + NAMED}}
            row["procedure"] = titles.get(row["procedure"], row["procedure"])
            rows.append(row)
            if record["status"] == "failed":
                job.given[record["row"]] = {k: given.get(k, "") for k in FIXABLE}
        job.manifest = table.getvalue().encode("utf-8")
        job.rows = rows
        job.summary = summary

    def code_map(self) -> list[dict[str, str]]:
        """The site's code map as the upload page shows it: each code (or words) and the
        handout it chooses, the site's own entries first, then the sets' own codes."""
        try:
            codes = code_map(self.site, self.library)
        except ParsDocsError as e:
            return [{"code": "", "system": "", "title": f"The site's code map: {e.message}"}]
        titles = self._titles()
        shown = [
            {
                "code": f"words “{entry['text']}”",
                "system": "",
                "title": titles.get(entry["procedure"], entry["procedure"]),
            }
            for entry in codes.texts
        ]
        shown += [
            {
                "code": entry["code"],
                "system": entry["system"] or "any",
                "title": titles.get(entry["procedure"], entry["procedure"]),
            }
            for entry in codes.entries
        ]
        return shown

    def fix(self, job: Job, number: int, values: dict[str, str]) -> dict:
        """Make failed row ``number`` again from ``values`` (the row as corrected in the
        page), alone, in a child process as a run's rows are; the rows already made are
        kept. Made, its handout joins the packet (in appointment order, the index made
        again), the zip and the manifest; failed again, the row says why. The row's record."""
        index = next(
            (i for i, r in enumerate(job.rows) if r["row"] == number and r["status"] == "failed"),
            None,
        )
        if index is None or job.site is None or job.state != "done":
            raise UsageError(f"row {number}: there is no failed row {number} to correct")
        site = job.site
        folder = Path(tempfile.mkdtemp(prefix="fix-", dir=self.root))
        try:
            row = Row(
                number, {k: v.strip() for k, v in values.items() if k in FIXABLE and v.strip()}
            )
            receive, send = self._context.Pipe(duplex=False)
            process = self._context.Process(
                target=_run,
                args=(folder, None, None, None, {}, replace(job.options, index=False)),
                kwargs={
                    "site": site,
                    "counter": self._context.Value("i", 0),
                    "reply": send,
                    "parent": os.getpid(),
                    "rows": [row],
                },
                daemon=False,
            )
            with self._quiet:
                process.start()
            send.close()
            try:
                message = receive.recv() if receive.poll(FIX_SECONDS) else None
            except (EOFError, OSError):
                message = None
            finally:
                receive.close()
                process.join(10)
                if process.is_alive():
                    process.kill()
                    process.join()
            if message is None or message[0] != "done":
                why = message[1] if message and message[0] == "error" else "it did not finish"
                raise DataError(f"row {number}: could not be made again ({why})")
            with open(folder / "manifest.jsonl", encoding="utf-8") as lines:
                (record,) = [json.loads(line) for line in lines if line.strip()]
            made = None
            if record["status"] == "ok":
                made = (folder / record["output"]).read_bytes()
                record["output"] = _relative_output(record["output"], folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        titles = self._titles()
        shown = {k: values.get(k, "") for k in SHOWN + NAMED}
        shown["procedure"] = titles.get(shown["procedure"], shown["procedure"])
        with self._lock:
            job.rows[index] = {**record, **shown}
            if made is None:
                job.given[number] = {k: values.get(k, "") for k in FIXABLE}
                return job.rows[index]
            job.given.pop(number, None)
            job.summary["written"] = job.summary.get("written", 0) + 1
            job.summary["failed"] = max(0, job.summary.get("failed", 0) - 1)
            job.handouts = _with_file(job.handouts, record["output"], made)
            job.manifest = _manifest(job.rows)
            job.packet = _packet(job, site)
            return job.rows[index]

    def _titles(self) -> dict[str, str]:
        titles = {}
        for set_id in self.library.ids():
            try:
                titles[set_id] = self.library.get(set_id).title
            except ParsDocsError:
                continue  # a broken set: its rows failed and say why
        return titles

    def stop_all(self) -> None:
        """Stop every run still going and remove every folder (the server is stopping)."""
        with self._lock:
            jobs = list(self._jobs.values())
            self._jobs.clear()
        for job in jobs:
            process = job.process
            if process is not None and process.is_alive():
                process.terminate()  # SIGTERM: the batch run stops at a row boundary
                process.join(10)
                if process.is_alive():
                    process.kill()
                    process.join()
            shutil.rmtree(job.folder, ignore_errors=True)

    def _expire(self) -> None:
        now = time.monotonic()
        old = [
            k
            for k, job in self._jobs.items()
            if job.ended is not None and now - job.ended > self.KEEP_SECONDS
        ]
        for key in old:
            del self._jobs[key]
        finished = [k for k, job in self._jobs.items() if job.ended is not None]
        while len(self._jobs) >= self.KEEP_AT_MOST and finished:
            del self._jobs[finished.pop(0)]


def _die_with(parent: int, folder: Path) -> None:
    """Stop this run when the server that started it is gone (killed with SIGKILL, crashed):
    a thread watches for the parent to change. SIGTERM stops the batch run at a row boundary
    and its worker pool with it; whatever is still running ten seconds later is killed, and
    the run's folder removed."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
        for child in multiprocessing.active_children():
            child.kill()
        shutil.rmtree(folder, ignore_errors=True)
        os._exit(ExitStatus.TERMINATED)

    threading.Thread(target=watch, name="die-with-server", daemon=True).start()


def _run(
    folder, input_name, fmt, encoding, mapping, options, *, site, counter, reply, parent, rows=None
) -> None:
    """The child process: one batch run into ``folder`` (of the upload, or of ``rows``: a
    corrected row), then one message back."""
    # Not the server's handlers (inherited through fork): outside the run a stop ends the
    # process at once; inside it the batch runner stops at a row boundary.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with(parent, folder)
    shown: dict[int, dict] = {}
    source = None
    try:
        library = engine(site).library
        if rows is None:
            source = Source(str(folder / input_name), fmt, encoding)

        def noted() -> Iterator[RowResult]:
            if source is None:
                read: Iterable[RowResult] = rows or []
            else:
                read = input_rows(
                    source,
                    site,
                    mapping=mapping,
                    library=library,
                    include_past=options.include_past,
                )[0]()
            for row in read:
                if isinstance(row, Row):
                    shown[row.number] = {
                        k: _text(row.values[k]) for k in FIXABLE if row.values.get(k) is not None
                    }
                yield row

        (folder / "handouts").mkdir()
        batch_options = replace(
            options,
            out_dir=folder / "handouts",
            merge=folder / "packet.pdf" if rows is None else None,
            manifest=str(folder / "manifest.jsonl"),
        )
        summary = run_batch(noted(), site, batch_options, progress=_Counted(counter))
        _send(reply, ("done", asdict(summary), shown))
    except Interrupted:
        _send(reply, ("stopped",))
    except ParsDocsError as e:
        _send(reply, ("error", e.message.replace(str(folder / (input_name or "")), "the upload")))
    except Exception as e:  # noqa: BLE001 - reported on the page, never a traceback
        log.error("packet run failed:\n%s", trace_without_values(e))
        _send(reply, ("error", f"the run failed ({type(e).__name__}); please report it"))
    finally:
        if source is not None:
            source.close()
        reply.close()
        if os.getppid() != parent:  # no server to read the results and remove the folder
            shutil.rmtree(folder, ignore_errors=True)


def _send(reply, message: tuple) -> None:
    try:
        reply.send(message)
    except OSError:  # the server is gone: nobody to tell
        pass


class _Counted(Progress):
    """The rows a run has settled, in a counter the page's progress bar reads. (Rows are
    counted as they are settled, not read: a FHIR or HL7 list is read whole before the first
    handout, to find the newest revision of each booking.)"""

    def __init__(self, counter) -> None:
        super().__init__(False, None)
        self.counter = counter

    def update(self, done: int) -> None:
        with self.counter.get_lock():
            self.counter.value = done


class _relabelled:
    """Errors raised inside name the upload as the person knows it, not its private path."""

    def __init__(self, names: dict[str, str]):
        self.names = names

    def __enter__(self):
        return self

    def __exit__(self, kind, error, _trace):
        if isinstance(error, ParsDocsError):
            for path, name in self.names.items():
                error.message = error.message.replace(path, name)
                if error.redacted:
                    error.redacted = error.redacted.replace(path, name)
        return False


def _display_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name
    return "".join(c for c in name if c.isprintable())[:120] or "the upload"


def _relative_output(output: str | None, folder: Path) -> str | None:
    if not output:
        return output
    try:
        return Path(output).relative_to(folder).as_posix()
    except ValueError:
        return Path(output).name


def _list_day(records: list[dict], site: Site) -> str:
    """The dates of a list's appointments, from its handouts' file names (which start with
    the appointment's date): one date, or the first and last; today's for none."""
    days = sorted(
        {
            match.group(0)
            for record in records
            if record.get("status") == "ok"
            and (match := re.match(r"\d{4}-\d\d-\d\d", Path(record.get("output") or "").name))
        }
    )
    if not days:
        return datetime.datetime.now(site.tz).date().isoformat()
    return days[0] if len(days) == 1 else f"{days[0]}-to-{days[-1]}"


def _text(value: Any) -> str:
    """A row's value as the correction form shows it."""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _with_file(archive: bytes | None, name: str, data: bytes) -> bytes:
    """The zip ``archive`` with ``name`` added."""
    stamp = build_time().timetuple()[:6]
    stamp = stamp if stamp[0] >= 1980 else (1980, 1, 1, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
        if archive:
            with zipfile.ZipFile(io.BytesIO(archive)) as old:
                for info in old.infolist():
                    out.writestr(info, old.read(info))
        out.writestr(zipfile.ZipInfo(name, date_time=stamp), data)
    return buffer.getvalue()


def _manifest(rows: list[dict]) -> bytes:
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=Record.COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: r["row"]):
        writer.writerow({k: row.get(k) for k in Record.COLUMNS})
    return table.getvalue().encode("utf-8")


def _start(name: str, site: Site) -> str:
    """A handout's start from its file name (``2026-12-03_0800_…``), as ISO 8601."""
    try:
        moment = datetime.datetime.strptime(name[:15], "%Y-%m-%d_%H%M")
    except ValueError:
        return "9999-12-31T00:00:00"  # a name of another shape: last
    return moment.replace(tzinfo=site.tz).isoformat()


def _packet(job: Job, site: Site) -> bytes | None:
    """The packet made again from the kept handouts (the zip): the index first, when it was
    asked for, then each handout in appointment order, then row."""
    from types import SimpleNamespace

    if not job.handouts:
        return None
    with zipfile.ZipFile(io.BytesIO(job.handouts)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    made, others = [], []
    for row in job.rows:
        if row["status"] == "ok" and row.get("output") in files:
            name = Path(row["output"]).name
            made.append(
                SimpleNamespace(
                    row=row["row"],
                    start=_start(name, site),
                    patient=row.get("patient", ""),
                    procedure_title=row.get("procedure", ""),
                    output=row["output"],
                )
            )
        elif row["status"] != "ok":
            others.append(
                SimpleNamespace(
                    row=row["row"],
                    patient=row.get("patient") or None,
                    status=row["status"],
                    reason=row.get("reason") or "",
                )
            )
    made.sort(key=lambda r: (r.start, r.row))
    others.sort(key=lambda r: r.row)
    return join_packet(
        made,
        others,
        files,
        site,
        paper=job.options.paper,
        duplex=job.options.duplex,
        index=job.options.index,
    )
