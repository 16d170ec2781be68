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

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .options import Options
    from .run import run_batch

# The Python API (`from pars_docs.batch import Options, run_batch`), imported when first
# used: importing a submodule (the ledger, for `--help`) must not load the whole runner.
_LAZY = {"Options": "options", "run_batch": "run"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Options", "run_batch"]
