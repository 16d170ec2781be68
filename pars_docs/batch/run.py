"""Run a batch: plan the rows, render them and settle the results (the package docstring,
:mod:`pars_docs.batch`, says what a run promises and how its three parts divide the work)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..environment import Environment
from ..errors import AuditError, Interrupted, OutputError
from ..handout import Engine
from ..load.site import Site
from ..read.rows import RowResult
from ..write.fhir_post import ServerWriter
from ..write.names import check_writable, remove_stale_parts
from ..write.output import Inputs, check_output
from .folder import FolderState
from .ledger import Progress, Status, Summary
from .options import Options
from .scheduler import Scheduler, Stop
from .settler import RowReporter, Settler
from .tasks import Planner
from .worker import Renderer

if TYPE_CHECKING:
    from ..audit import AuditTrail


def _server_writer(options: Options, site: Site) -> ServerWriter | None:
    """What files the DocumentReferences on ``--fhir-server``, checked before any work."""
    if not options.fhir_server:
        return None
    from ..write.fhir_post import server_writer

    return server_writer(
        options.fhir_server, options.fhir_token_file, options.fhir_vendor, options.fhir_write, site
    )


def run_batch(
    rows: Iterable[RowResult],
    site: Site,
    options: Options,
    *,
    report: RowReporter | None = None,
    progress_total: int | None = None,
    show_progress: bool = False,
    env: Environment | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Make a handout for every row (from :func:`pars_docs.read.rows.read_rows` or
    :func:`pars_docs.read.fhir.read_appointments`). ``report(record)`` receives each failed or
    duplicate row as it happens; ``progress`` (instead of the terminal's progress line) is
    told how many rows are settled as each one is. Returns the summary; raises
    :class:`Interrupted` (carrying the summary) after a clean stop, every row already started
    being finished and recorded, and :class:`~pars_docs.errors.OutputError` (carrying it too)
    when an output cannot be written, the manifest holding only true records. Raises
    :class:`UsageError` before any work for an output that is a link, a device or one of the
    run's inputs, and for an ``out_dir`` another run is writing to."""
    env = env or Environment()
    options.validate()
    inputs = Inputs(options.inputs)
    inputs.add_site(site)
    _check_outputs(options, inputs)
    poster = _server_writer(options, site)
    trail = _audit_trail(site, options)
    state = None
    if options.out_dir:
        check_writable(options.out_dir, "--out-dir")
        state = FolderState(options.out_dir)
    try:
        _remove_stale_parts(options)
        started = time.monotonic()
        engine = Engine(site, options.as_of, options.include_past)
        settler = Settler(
            options,
            site,
            report=report,
            progress=progress or Progress(show_progress, progress_total, env.stderr),
            env=env,
            state=state,
            inputs=inputs,
            poster=poster,
        )
    except BaseException:
        if state:
            state.close()
        raise
    jobs = options.workers
    stop = Stop()
    renderer = Renderer(engine, options.verbose, state.key if state else None)
    scheduler = Scheduler(renderer, settler, stop, fail_fast=options.fail_fast)
    items = Planner(options, engine, state, inputs).items(rows)
    try:
        with stop.catching():
            if jobs <= 1:
                scheduler.run_here(items)
            else:
                engine.warm()  # before the workers fork, so they share what it loaded
                scheduler.run_pool(items, site, jobs, options.as_of, options.include_past)
            stop.check()
            settler.progress.finish()
            if settler.has_packet and not settler.failure:
                # A stop now abandons the packet at once (nothing is written until it is
                # complete).
                stop.at_once()
                settler.write_packet(jobs)
    except Interrupted as interrupted:
        settler.summary.interrupted = True
        interrupted.summary = settler.summary
        raise
    except OutputError as error:
        settler.fail(error)
    finally:
        settler.summary.seconds = time.monotonic() - started
        settler.close()
        if trail is not None:
            _record(trail, settler, options)
        if settler.failure:
            settler.summary.output_error = settler.failure.public(options.verbose)
    if settler.failure:
        settler.failure.summary = settler.summary
        raise settler.failure
    return settler.summary


def _check_outputs(options: Options, inputs: Inputs) -> None:
    """Refuse, before any work, an output that is a link, a device or one of the run's
    inputs, and a packet whose folder cannot be written."""
    if options.merge:
        check_writable(options.merge.parent, "--merge")
        check_output(options.merge, "--merge", "merge", inputs, dash=False)
    check_output(options.manifest, "--manifest", "manifest", inputs)
    if options.bundle_target:
        check_output(options.bundle_target, "--fhir-output", "fhir_output", inputs)


def _remove_stale_parts(options: Options) -> None:
    """Remove the parts an earlier run left behind when it was stopped mid-write."""
    if options.out_dir:
        remove_stale_parts(options.out_dir)
    for done in (options.merge, options.bundle_target):
        if done and str(done) != "-":
            remove_stale_parts(Path(done).parent, Path(done).name)


def _audit_trail(site: Site, options: Options) -> AuditTrail | None:
    """The site's audit trail, for a run that names its user; opened now, so a trail that
    cannot be written stops the run before any work."""
    if site.audit is None or options.audit_user is None:
        return None
    from ..audit import AuditTrail

    trail = AuditTrail(site.audit, site.audit_patient)
    trail.ensure()
    return trail


def _record(trail: AuditTrail, settler: Settler, options: Options) -> None:
    """Record each handout the run made, and its packet, in one transaction. If that
    fails, the run fails with the trail's message (its handouts are written already)."""
    user = options.audit_user or ""
    made = [
        {
            "event": "handout-made",
            "user": user,
            "channel": "batch",
            "set_id": record.instruction_set,
            "set_version": record.version,
            "language": record.language,
            "patient": record.audit_patient,
            "pdf_sha256": record.sha256,
            "detail": f"row {record.row}",
        }
        for record in sorted(settler.settled.values(), key=lambda r: r.row)
        if record.status is Status.OK
    ]
    if settler.packet_written:
        made.append(
            {
                "event": "packet-made",
                "user": user,
                "channel": "batch",
                "detail": f"{len(made)} handouts, {settler.summary.failed} rows failed",
            }
        )
    if not made:
        return
    try:
        trail.record_all(made)
    except AuditError as e:
        settler.fail(OutputError(e.message, field="audit"))
