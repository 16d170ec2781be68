"""A ``TZ`` that names no time zone is ignored, before anything reads it.

Babel reads ``TZ`` when it is imported: a ``TZ`` naming a file that is not a zone file
(``TZ=/etc/passwd``, a folder) would end every command, even ``--version``, in a traceback.
pars-docs never prints on this computer's clock unless a site profile says ``timezone:
local``, so such a ``TZ`` is dropped and the computer's own zone (``/etc/localtime``) used.
"""

from __future__ import annotations

import os
import zoneinfo

DROPPED_TZ: str | None = None  # the value of TZ that was dropped, if one was


def _names_a_zone(value: str) -> bool:
    name = value[1:] if value.startswith(":") else value
    if not name or not os.path.exists(name):
        return True  # a zone name or a POSIX rule: read without touching a file
    try:
        with open(name, "rb") as stream:
            zoneinfo.ZoneInfo.from_file(stream)
    except (OSError, ValueError, EOFError):
        return False
    return True


def guard() -> None:
    """Drop ``TZ`` from the environment if it names a file that is not a zone file."""
    global DROPPED_TZ
    value = os.environ.get("TZ")
    if value and not _names_a_zone(value):
        DROPPED_TZ = value
        del os.environ["TZ"]


guard()
