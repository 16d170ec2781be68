"""The published contracts of pars-docs' machine-readable outputs, as JSON Schemas
(draft 2020-12): the JSON rendition of a handout, a manifest line and an ``--errors json``
line. Each output carries the ``schema_version`` its schema gives (a ``const``); the same
files are in ``docs/schemas/``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

SCHEMA_VERSION = "1"
NAMES = ("handout", "manifest", "errors")


@cache
def schema(name: str) -> dict:
    """The schema called ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise KeyError(name)
    return json.loads(files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8"))
