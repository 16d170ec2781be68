"""The shape of an instruction set, read from its JSON Schema: the one place it is written.

Format 2 (see docs/instruction-sets.md): the sections ``before``, ``day_of`` and ``after``
hold groups the author names, printed in the order written; ``timing`` holds entries the
author names (see moments.py); ``options`` declares the conditions. Which keys hold wording a
patient reads (and a translator translates) is read from the schema: every place it refers
to ``#/$defs/text``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from ..resources import instructions_dir
from .validate import load_schema

SCHEMA_FILE = "instruction-set.schema.json"
FORMAT = 2
SECTIONS = ("before", "day_of", "after")

_TEXT = "#/$defs/text"


@cache
def schema() -> dict[str, Any]:
    """The instruction-set schema, read once."""
    return load_schema(instructions_dir() / SCHEMA_FILE)


def slot_names() -> tuple[str, ...]:
    """The page template's named places for a clinic's own paragraphs (``$defs/slots``)."""
    return tuple(schema()["$defs"]["slots"]["properties"])


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node and node["$ref"] != _TEXT:
        node = schema()["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _branch(branches: list, value: Any) -> dict | None:
    """The first branch of a ``oneOf`` that takes ``value``'s type, if any."""
    for branch in branches:
        branch = _resolve(branch)
        if branch.get("$ref") == _TEXT or branch.get("type") == "string":
            if isinstance(value, str):
                return branch
        elif branch.get("type") == "object" and isinstance(value, dict):
            return branch
        elif branch.get("type") == "array" and isinstance(value, list):
            return branch
    return None


def texts(value: Any, field: tuple = (), node: Any = None) -> Iterator[tuple[tuple, str]]:
    """Every (field path, text) of wording in ``value``, found by walking the schema beside
    it: a value where the schema says ``text`` is wording; everything else (numbers, names,
    ``when``, ``style``) is not."""
    node = _resolve(schema() if node is None else node)
    if not isinstance(node, dict):
        return
    if node.get("$ref") == _TEXT:
        if isinstance(value, str):
            yield field, value
        return
    if "oneOf" in node:
        branch = _branch(node["oneOf"], value)
        if branch is not None:
            yield from texts(value, field, branch)
        return
    if isinstance(value, dict):
        properties = node.get("properties", {})
        other = node.get("additionalProperties")
        for key, child in value.items():
            if key in properties:
                yield from texts(child, field + (key,), properties[key])
            elif isinstance(other, dict):
                yield from texts(child, field + (key,), other)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for index, child in enumerate(value):
            yield from texts(child, field + (index,), node["items"])
