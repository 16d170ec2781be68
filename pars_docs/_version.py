"""The installed distribution's version, read from its metadata (setup.cfg is the one place it
is written) when first asked for.

The look-up imports ``importlib.metadata`` (and with it the ``email`` package) and searches
the import path: a few hundredths of a second, which `--help` and `list` need not pay and a
`make` need not pay every time. The answer is remembered in the cache folder (see startup_cache.py)
with the modification times of the folders on the import path; installing, upgrading or
removing a distribution changes its folder's time, and the version is read again.
"""

from __future__ import annotations

import hashlib
import os
import sys
from functools import cache

from . import startup_cache


def _stamp() -> list[list]:
    """Each folder on the import path with its modification time. The working folder
    (``python -m pars_docs`` puts it first) is left out: writing a handout there changes its
    time, and no distribution is installed into it."""
    stamp = []
    try:
        here = os.getcwd()
    except OSError:  # the working folder was removed
        here = ""
    for entry in sys.path:
        if entry in ("", here):
            continue
        try:
            stamp.append([entry, os.stat(entry).st_mtime_ns])
        except OSError:
            stamp.append([entry, None])
    return stamp


def _record() -> str:
    # One record per interpreter and pars-docs location: two environments never share one.
    where = f"{sys.executable}\0{os.path.dirname(__file__)}".encode()
    return hashlib.sha256(where).hexdigest()[:32]


@cache
def version() -> str:
    """The version of the installed pars-docs distribution."""
    shipped = startup_cache.load("version", "built")  # written into the package when it was built
    if type(shipped) is str:
        return shipped
    record = _record()
    stamp = _stamp()
    kept = startup_cache.load("version", record)
    if type(kept) is dict and kept.get("stamp") == stamp and type(kept.get("version")) is str:
        return kept["version"]
    from importlib.metadata import version as distribution_version

    found = distribution_version("pars-docs")
    startup_cache.keep("version", record, {"stamp": stamp, "version": found})
    return found


def __getattr__(name: str) -> str:
    if name == "__version__":
        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
