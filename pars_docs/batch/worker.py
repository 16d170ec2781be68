"""Making one row's handout, in this process or in a pool worker."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import signal
import traceback
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..environment import die_with_parent
from ..errors import ParsDocsError, trace_without_values
from ..handout import Engine, Handout
from ..load.site import Site
from ..plan.timeline import redacted
from ..read.visit import Visit, clean_text
from ..render.pdf.fonts import check_drawable
from ..write.output import write_atomic
from .folder import FileRecord, fingerprint
from .ledger import Record, Status


@dataclass
class Task:
    """One row for a worker: the visit and what to make of it."""

    row: int
    visit: Visit
    target: str | None = None  # where the file goes (None: not written to a folder)
    kept: FileRecord | None = None  # what the file at target was made from (--skip-existing)
    document: bool = False  # return the composed document, for a packet
    paper: str | None = None
    rendition: str = "pdf"  # what the file in the folder holds: pdf, text, json or ics
    fhir: bool = False  # return a DocumentReference
    refs: dict[str, str] | None = None  # the input's references, for it


def chart_list(names: tuple[str, ...], verbose: bool) -> str | None:
    """The medicines from the chart for the manifest: the table's names; one it lacks is
    shown as "(RxNorm CODE)" only (its text is the chart's, kept out unless ``verbose``)."""
    shown = []
    for name in names:
        if not verbose and name.endswith(")") and " (RxNorm " in name:
            name = "(RxNorm " + name.rsplit(" (RxNorm ", 1)[1]
        shown.append(name)
    return "; ".join(shown) or None


def row_reason(error: ParsDocsError, verbose: bool) -> str:
    """The first line of ``error``, with patient values only if ``verbose``."""
    return error.public(verbose).splitlines()[0]


def usable_name(value: object, error: ParsDocsError | None = None) -> str | None:
    """The patient's name as a failed row gives it, if it is fit to print (for the packet's
    list of rows with no handout): not the field that failed, and a name the handouts could
    print; else ``None``."""
    if value is None or (error is not None and error.field == "patient"):
        return None
    try:
        name = clean_text(str(value), "patient", required=True)
        check_drawable(name, "patient")
    except ParsDocsError:
        return None
    return name


class Renderer:
    """Plans, composes and writes rows' handouts for one site. ``key`` is the output folder's
    key (see :mod:`.folder`): with it, each file's record says what it was made from."""

    def __init__(self, engine: Engine, verbose: bool = False, key: bytes | None = None):
        self.engine = engine
        self.verbose = verbose
        self.key = key
        self._logo: str | None = None

    def render(self, task: Task) -> Record:
        """Plan, compose and (unless kept or only merged) write one row's handout. Whatever
        goes wrong with one row, even a fault in pars-docs itself, costs only that row."""
        try:
            return self._render(task)
        except Exception as e:  # noqa: BLE001 - one row's fault must not stop the others
            detail = f": {e}" if self.verbose else ""
            return Record(
                task.row,
                Status.FAILED,
                reason=f"could not make this handout ({type(e).__name__}{detail}); "
                "please report it",
                # Sent to the parent with the record: shown with --traceback, in full with
                # --verbose, else without the message (which may quote a row's value).
                trace="".join(traceback.format_exception(e))
                if self.verbose
                else trace_without_values(e),
            )

    def _render(self, task: Task) -> Record:
        try:
            handout = self.engine.prepare(task.visit, fallback=True)
        except ParsDocsError as e:
            return Record(
                task.row,
                Status.FAILED,
                field=e.field,
                reason=row_reason(e, self.verbose),
                patient=usable_name(task.visit.patient, e),
            )
        iset = handout.instruction_set
        record = Record(
            task.row,
            Status.OK,
            instruction_set=iset.id,
            version=iset.version,
            start=handout.plan.moments["start"].isoformat(),
            patient=task.visit.patient,
            procedure_title=iset.title,
            warnings="; ".join(w if self.verbose else redacted(w) for w in handout.warnings)
            or None,
            language="+".join(handout.languages),
            chart_medicines=chart_list(task.visit.chart_medicines, self.verbose),
        )
        site = self.engine.site
        if site.audit is not None:
            from ..audit import patient_id

            record.audit_patient = patient_id(task.visit, site.audit_patient)
        if handout.requested_language:
            record.reason = (
                f"language: '{handout.requested_language}' is not available; used the site's "
                f"fallback language '{handout.language}'"
            )
        pdf = None
        # A text, JSON or calendar rendition costs little next to the PDF: it is made first,
        # and what it holds (time zone, language, reminders, UIDs) is compared whole.
        rendered = None
        if task.target and task.rendition != "pdf":
            rendered = handout.render(task.rendition, task.paper)
        made_from = self._made_from(handout, task, rendered) if task.target else None
        kept = self._kept(task, made_from)
        if kept is not None:
            record.status, record.output = Status.SKIPPED, task.target
            record.reason = "already made from the same row, instruction set and site"
            record.sha256 = hashlib.sha256(kept).hexdigest()
            pdf = kept if task.rendition == "pdf" else None
        elif task.target or task.fhir:
            data = rendered if rendered is not None else handout.render(task.rendition, task.paper)
            pdf = data if task.rendition == "pdf" else None
            record.sha256 = hashlib.sha256(data).hexdigest()
            if task.target:
                try:
                    write_atomic(Path(task.target), data)
                except OSError as e:
                    # A file name may hold the MRN (or the name): shown only with --verbose;
                    # the folder is always named.
                    target = Path(task.target)
                    name = target if self.verbose else f"the row's file in {target.parent}"
                    return Record(
                        task.row,
                        Status.FAILED,
                        field="output",
                        reason=f"output: cannot write {name} ({e.strerror})",
                    )
                record.output = task.target
                record.made_from = made_from
        if task.fhir:
            resource = handout.document_reference(pdf, task.refs)
            record.fhir = json.dumps(resource, ensure_ascii=False)
        if task.document:
            # <handouts> with one part per language, the patient's first.
            record.document = ET.tostring(handout.composed(), encoding="unicode")
        return record

    def _made_from(self, handout: Handout, task: Task, rendered: bytes | None) -> str | None:
        """The keyed hash of everything the row's file is made from: for every rendition the
        composed document, the set's version, the site's time zone, clock, reminder time and
        wound-check days, and the languages; for text, JSON and calendars also the rendered
        bytes themselves."""
        if self.key is None:
            return None
        site = self.engine.site
        if site.logo and self._logo is None:
            self._logo = hashlib.sha256(Path(site.logo).read_bytes()).hexdigest()
        iset = handout.instruction_set
        parts = {
            "set": [iset.id, iset.version],
            "visit": dataclasses.asdict(task.visit),
            "rendition": task.rendition,
            "paper": task.paper or site.paper,
            "pdfa": site.pdfa,
            "author": site.name,
            "logo": self._logo,
            # Every part, in every language it is printed in.
            "document": ET.tostring(handout.composed(), encoding="unicode"),
            "timezone": site.timezone,
            "clock": site.clock,
            "reminder_time": site.reminder_time.isoformat(),
            "wound_check_days": site.wound_check_days,
            "languages": list(handout.languages),
            "calendar_key": hashlib.sha256(site.calendar_key or b"").hexdigest(),
            "rendered": _content_digest(rendered, task.rendition, site.calendar_key),
        }
        return fingerprint(self.key, parts)

    @staticmethod
    def _kept(task: Task, made_from: str | None) -> bytes | None:
        """The file already at the row's target, if it may be kept: this folder's record says
        it was made from exactly what the row would make it from now, and it is unchanged."""
        if task.kept is None or made_from is None or task.target is None:
            return None
        if not hmac.compare_digest(task.kept.made_from, made_from):
            return None
        try:
            fd = os.open(task.target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        with os.fdopen(fd, "rb") as kept:
            data = kept.read()
        return data if hashlib.sha256(data).hexdigest() == task.kept.sha256 else None


class _Worker:
    """The renderer of a pool worker process, set by the pool's initialiser."""

    renderer: Renderer | None = None


def init_worker(
    site: Site,
    verbose: bool = False,
    key: bytes | None = None,
    as_of: datetime | None = None,
    include_past: bool = False,
    parent: int | None = None,
) -> None:
    """The pool's initialiser: one engine per worker process, which dies with ``parent``."""
    # The parent decides when to stop and lets rows already started finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if parent is not None:
        die_with_parent(parent)
    _Worker.renderer = Renderer(Engine(site, as_of, include_past), verbose, key)


def render_in_worker(task: Task) -> Record:
    """Render ``task`` in a pool worker (after :func:`init_worker`)."""
    if _Worker.renderer is None:
        raise RuntimeError("render_in_worker runs in a pool set up by init_worker")
    return _Worker.renderer.render(task)


def _content_digest(rendered: bytes | None, rendition: str, calendar_key: bytes | None) -> str:
    """The digest of a rendition's bytes. Without the clinic's calendar key a calendar's
    event UIDs are drawn afresh by each run (see render/ics.py): they are left out, and
    everything else in it (time zone, times, reminders, wording) counts."""
    if rendered is None:
        return ""
    if rendition == "ics" and calendar_key is None:
        unfolded = rendered.replace(b"\r\n ", b"").replace(b"\r\n\t", b"")
        rendered = b"\r\n".join(
            line for line in unfolded.split(b"\r\n") if not line.startswith(b"UID:")
        )
    return hashlib.sha256(rendered).hexdigest()
