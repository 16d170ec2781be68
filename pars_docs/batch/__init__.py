"""Batch runs: an appointment list in, one handout per row (and/or one packet) out.

One bad row never costs the others: each row succeeds or fails on its own and is recorded in
the manifest. Rows render on all cores, a bounded number at a time, so memory stays flat
however long the list is. Every file is written through a temporary file and a rename, so an
interrupted run leaves no half-written handout, and ``skip_existing`` resumes it.

A run has three parts: :mod:`~pars_docs.batch.tasks` plans (rows to visits, repeats, file
names, files kept), :mod:`~pars_docs.batch.scheduler` renders (here or on a pool, minding
signals) and :mod:`~pars_docs.batch.settler` settles (records, summary, manifest, packet,
bundle).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from ..environment import Environment
from ..handout import Engine
from ..ledger import Interrupted, Progress, Summary
from ..names import check_writable, remove_stale_parts
from ..output import check_target
from ..rows import RowResult
from ..site import Site
from .options import Options
from .scheduler import Scheduler, Stop
from .settler import Report, Settler
from .tasks import Planner
from .worker import Renderer

__all__ = ["Options", "run_batch"]


def run_batch(
    rows: Iterable[RowResult],
    site: Site,
    options: Options,
    *,
    report: Report | None = None,
    progress_total: int | None = None,
    show_progress: bool = False,
    env: Environment | None = None,
) -> Summary:
    """Make a handout for every row (from :func:`pars_docs.rows.read_rows` or
    :func:`pars_docs.fhir.read_appointments`). ``report(record)`` receives each failed or
    duplicate row as it happens. Returns the summary; raises :class:`Interrupted` (carrying
    the summary) after a clean stop, every row already started being finished and recorded."""
    env = env or Environment()
    options.validate()
    if options.merge:
        check_writable(options.merge.parent, "--merge")
    check_target(options.manifest, "--manifest", "manifest")
    if options.out_dir:
        check_writable(options.out_dir, "--out-dir")
        remove_stale_parts(options.out_dir)
    started = time.monotonic()
    engine = Engine(site)
    settler = Settler(
        options,
        site,
        report=report,
        progress=Progress(show_progress, progress_total, env.stderr),
        env=env,
    )
    jobs = options.jobs or os.cpu_count() or 1
    stop = Stop()
    renderer = Renderer(engine, options.verbose)
    scheduler = Scheduler(renderer, settler, stop, fail_fast=options.fail_fast)
    items = Planner(options, engine).items(rows)
    finished = False
    try:
        with stop.catching():
            if jobs <= 1:
                scheduler.run_here(items)
            else:
                engine.warm()  # before the workers fork, so they share what it loaded
                scheduler.run_pool(items, site, jobs)
            stop.check()
            settler.progress.finish()
            if settler.has_packet:
                # One long ReportLab build: a stop now abandons the packet at once (nothing is
                # written until it is complete).
                stop.at_once()
                settler.write_packet()
        finished = True
    except Interrupted as interrupted:
        settler.summary.interrupted = True
        interrupted.summary = settler.summary
        raise
    finally:
        settler.summary.seconds = time.monotonic() - started
        settler.close(finished)
    return settler.summary
