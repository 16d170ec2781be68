"""The shape of an instruction set, read from its JSON Schema: the one place it is written.

Adding a group to a section, a span to ``timing`` or a condition (``when:``) means editing
``instructions/instruction-set.schema.json``; the planner, the composer and the checks of the
set library read the names from here.

- A **section** is a top-level key with a ``heading`` whose other keys are all groups
  (``before``, ``day_of``, ``after``); its groups print in the order the schema lists them.
- A **span** is a ``timing`` key that refers to ``#/$defs/span``: a moment counted from the
  start or the end of the procedure.
- A **condition** is a key of ``#/$defs/condition``. Each is also an ``options`` entry of the
  set (its default, and whether the visit may change it) and a field of the visit.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ..resources import instructions_dir
from .validate import load_schema

# The engine still reads the old form until format 2 lands (issue #19); the format 2 schema is
# instruction-set.schema.json.
SCHEMA_FILE = "instruction-set.format1.schema.json"

_TEXT = "#/$defs/text"
_GROUP = "#/$defs/group"
_MEDICINES_GROUP = "#/$defs/medicines_group"
_SPAN = "#/$defs/span"


@cache
def schema() -> dict[str, Any]:
    """The instruction-set schema, read once."""
    return load_schema(instructions_dir() / SCHEMA_FILE)


def _properties(node: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = node.get("properties", {})
    return properties


@cache
def section_groups() -> dict[str, tuple[str, ...]]:
    """Each section of the handout body → its groups, in the order they print."""
    out: dict[str, tuple[str, ...]] = {}
    for key, node in _properties(schema()).items():
        children = _properties(node)
        groups = tuple(
            name
            for name, child in children.items()
            if child.get("$ref") in (_GROUP, _MEDICINES_GROUP)
        )
        if "heading" in children and groups and len(groups) == len(children) - 1:
            out[key] = groups
    return out


@cache
def medicines_groups() -> frozenset[str]:
    """The groups that list the patient's own medicines (their lines come from the table)."""
    return frozenset(
        name
        for node in _properties(schema()).values()
        for name, child in _properties(node).items()
        if child.get("$ref") == _MEDICINES_GROUP
    )


@cache
def span_moments() -> tuple[str, ...]:
    """The ``timing`` keys that are spans, in schema order."""
    timing = _properties(_properties(schema())["timing"])
    return tuple(name for name, node in timing.items() if node.get("$ref") == _SPAN)


@cache
def timing_ranges() -> tuple[tuple[str, str, str], ...]:
    """``(key, low, high)`` for each ``timing`` entry given as a range (``minutes_min`` and
    ``minutes_max``), where the low end must not pass the high one."""
    out = []
    for name, node in _properties(_properties(schema())["timing"]).items():
        for low in _properties(node):
            if low.endswith("_min") and f"{low[:-4]}_max" in _properties(node):
                out.append((name, low, f"{low[:-4]}_max"))
    return tuple(out)


@cache
def conditions() -> tuple[str, ...]:
    """The visit options an item can depend on (``when: {sedation: true}``)."""
    return tuple(_properties(schema()["$defs"]["condition"]))


@cache
def wording_keys() -> frozenset[str]:
    """The keys under which an instruction set can hold wording a patient reads.

    Everything else (``timing``, ``sources``, ``when``, ``style``…) is data about the wording.
    """
    defs = schema()["$defs"]
    reaches: dict[str, bool] = {}

    def has_text(node: Any, seen: frozenset[str]) -> bool:
        if isinstance(node, list):
            return any([has_text(child, seen) for child in node])  # visit every branch
        if not isinstance(node, dict):
            return False
        ref = node.get("$ref")
        if ref == _TEXT:
            return True
        if ref and ref not in seen:
            return has_text(defs[ref.rsplit("/", 1)[-1]], seen | {ref})
        found = False
        for key in ("items", "oneOf", "anyOf"):
            found = has_text(node.get(key), seen) or found
        for name, child in _properties(node).items():
            here = has_text(child, seen)
            reaches[name] = reaches.get(name, False) or here
            found = found or here
        return found

    has_text(schema(), frozenset())
    for node in defs.values():
        has_text(node, frozenset())
    return frozenset(name for name, found in reaches.items() if found)
