"""Scheduling a batch run: rows render in this process or on a pool of processes, a bounded
number at a time, and are settled in input order. A Ctrl-C or SIGTERM stops the run at the
next row boundary, every row already started being finished and recorded."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from types import FrameType

from ..errors import Interrupted
from ..load.site import Site
from .ledger import Record, Status
from .settler import Settler
from .tasks import Duplicate, Item
from .worker import Renderer, Task, init_worker, render_in_worker, usable_name

IN_FLIGHT_PER_JOB = 4
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop:
    """Remembers a Ctrl-C or SIGTERM; the run stops at the next row boundary."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.signum = signum

    def check(self) -> None:
        if self.signum is not None:
            raise Interrupted(self.signum)

    @staticmethod
    def raise_now(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signum)

    @contextmanager
    def catching(self) -> Iterator[Stop]:
        """Catch the stop signals while the block runs; restore their handlers after it."""
        previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
        for sig in SIGNALS:
            signal.signal(sig, self)
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def at_once(self) -> None:
        """From now on, a stop signal interrupts at once (for one long step, such as the
        packet, that writes nothing until it is complete)."""
        for sig in SIGNALS:
            signal.signal(sig, self.raise_now)


class Scheduler:
    """Renders the planned items and hands each record to the settler, in input order."""

    def __init__(
        self, renderer: Renderer, settler: Settler, stop: Stop, *, fail_fast: bool = False
    ):
        self.renderer = renderer
        self.settler = settler
        self.stop = stop
        self.fail_fast = fail_fast

    def _settle(self, record: Record) -> bool:
        """Settle one record; True if the run must stop after it (--fail-fast, or an output
        that cannot be written)."""
        self.settler.settle(record)
        return (record.status is Status.FAILED and self.fail_fast) or bool(self.settler.failure)

    def here(self, item: Item | Future) -> Record:
        """The record of an item that is not (or no longer) a pool's future."""
        if isinstance(item, Future):
            return item.result()
        if isinstance(item, Record):
            return item
        if isinstance(item, Duplicate):
            return self._resolve(item)
        return self.renderer.render(item)

    def _resolve(self, duplicate: Duplicate) -> Record:
        """A repeat of a row that was made is not made again; of one that failed, it is."""
        first = self.settler.made(duplicate.first)
        if first is not None:
            return Record(
                duplicate.task.row,
                Status.DUPLICATE,
                output=first.output,
                reason=f"{duplicate.same} as row {first.row}; not made again",
                patient=usable_name(duplicate.task.visit.patient),
            )
        return self.renderer.render(duplicate.task)

    def run_here(self, items: Iterable[Item]) -> None:
        """Render every item in this process, one at a time."""
        for item in items:
            self.stop.check()
            if self._settle(self.here(item)):
                return
        self.stop.check()

    def run_pool(
        self,
        items: Iterable[Item],
        site: Site,
        jobs: int,
        as_of: datetime | None = None,
        include_past: bool = False,
    ) -> None:
        """Render on ``jobs`` processes with a bounded number of rows in flight. On a stop (an
        interrupt, or --fail-fast) rows not yet started are dropped, and rows already started
        are finished and recorded."""
        context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
        pending: deque[Future | Duplicate | Record] = deque()

        def settle_next() -> bool:
            return self._settle(self.here(pending.popleft()))

        def wind_down() -> None:
            for item in pending:
                if isinstance(item, Future):
                    item.cancel()
            while pending:
                item = pending.popleft()
                if isinstance(item, Future) and not item.cancelled():
                    self.settler.settle(item.result())

        with ProcessPoolExecutor(
            jobs,
            mp_context=context,
            initializer=init_worker,
            initargs=(
                site,
                self.renderer.verbose,
                self.renderer.key,
                as_of,
                include_past,
                os.getpid(),
            ),
        ) as pool:
            try:
                for item in items:
                    self.stop.check()
                    pending.append(
                        pool.submit(render_in_worker, item) if isinstance(item, Task) else item
                    )
                    while len(pending) > jobs * IN_FLIGHT_PER_JOB or (
                        pending and not isinstance(pending[0], Future)
                    ):
                        if settle_next():
                            wind_down()
                            return
                        self.stop.check()
                while pending:
                    if settle_next():
                        wind_down()
                        return
                    self.stop.check()
            except Interrupted:
                wind_down()
                raise
