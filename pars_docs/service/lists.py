"""The front door's lists: a batch run over rows from any input, its options, its records
and its summary (see :mod:`pars_docs.batch`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..batch.ledger import Progress, Record, Status, Summary
from ..batch.options import Options
from ..load.site import Site

if TYPE_CHECKING:
    from ..read.rows import RowResult

__all__ = ["Options", "Progress", "Record", "Status", "Summary", "run_batch"]


def run_batch(rows: Iterable[RowResult], site: Site, options: Options, **how: Any) -> Summary:
    """:func:`pars_docs.batch.run_batch`: the run's process pool and ReportLab are imported
    only when a run starts."""
    from ..batch.run import run_batch as run

    return run(rows, site, options, **how)
