"""The set editor's hints: which keys an instruction set allows at a place in its YAML, and
what each means, read from ``instruction-set.schema.json`` (its ``properties``,
``patternProperties``, ``additionalProperties``, ``$ref``, ``oneOf`` and ``description``):
the schema is the one place the shape of a set is written, so the hints never drift from it.

A place is the path of keys from the top of the file to the mapping the cursor is in, with
``[]`` for an entry of a list (``before.fasting.items.[]``). A clinic's changes to a built-in
set (``extends``) write a list as ``{add: [...], remove: [...]}``; ``add`` and ``remove``
stand for the list there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..service.offers import schema

ITEM = "[]"
LIST_OPS = ("add", "remove")  # a clinic's changes to a list (load/extend.py)


@dataclass
class Key:
    """One key allowed at a place: its name (or ``None`` for a name of the author's own,
    with ``pattern``), what it holds, and what the schema says it means."""

    name: str | None
    kind: str  # text, number, yes-no, choice, list, mapping, names, name
    about: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    pattern: str = ""


@dataclass
class Place:
    """What the schema allows at one place of a set."""

    path: tuple[str, ...]
    found: bool  # False: the path leads nowhere the schema knows (a misspelt key above)
    kind: str = "mapping"
    about: str = ""
    keys: list[Key] = field(default_factory=list)


def _resolve(node: Any) -> dict:
    defs = schema()["$defs"]
    while isinstance(node, dict) and "$ref" in node:
        merged = {k: v for k, v in node.items() if k != "$ref"}
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **merged}  # a description beside the $ref wins
    return node if isinstance(node, dict) else {}


def _branches(node: dict) -> list[dict]:
    return [_resolve(b) for b in node.get("oneOf", node.get("anyOf", []))]


def _kind(node: dict) -> str:
    node = _resolve(node)
    if "enum" in node:
        return "choice"
    kinds = [node.get("type")] + [b.get("type") for b in _branches(node)]
    for wanted, kind in (  # the simplest form a value may take
        ("number", "number"),
        ("integer", "number"),
        ("boolean", "yes-no"),
        ("string", "text"),
        ("array", "list"),
        ("object", "mapping"),
    ):
        if wanted in kinds:
            return kind
    return "mapping"


def _about(node: dict) -> str:
    node = _resolve(node)
    return str(node.get("description") or "")


def _as_mapping(node: dict) -> dict | None:
    node = _resolve(node)
    if node.get("type") == "object" or "properties" in node or "additionalProperties" in node:
        return node
    for branch in _branches(node):
        if branch.get("type") == "object":
            return branch
    return None


def _as_list(node: dict) -> dict | None:
    node = _resolve(node)
    if node.get("type") == "array":
        return node
    for branch in _branches(node):
        if branch.get("type") == "array":
            return branch
    return None


def _child(node: dict, key: str) -> dict | None:
    """The schema of ``key`` inside ``node`` (a list's entries for ``[]``)."""
    if key == ITEM:
        listed = _as_list(node)
        return _resolve(listed.get("items", {})) if listed else None
    if key in LIST_OPS and _as_list(node) is not None and _as_mapping(node) is None:
        return node  # a clinic's {add: [...], remove: [...]} stands for the list
    mapping = _as_mapping(node)
    if mapping is None:
        return None
    if key in mapping.get("properties", {}):
        return _resolve(mapping["properties"][key])
    for pattern, child in mapping.get("patternProperties", {}).items():
        if re.search(pattern, key):
            return _resolve(child)
    extra = mapping.get("additionalProperties")
    if isinstance(extra, dict):
        return _resolve(extra)
    return None


def _pattern_word(pattern: str) -> str:
    """A name pattern shown plainly: the negative look-ahead listing reserved words is not
    for reading."""
    return re.sub(r"^\^\(\?!.*?\)\$\)", "^", pattern)


def place(path: tuple[str, ...]) -> Place:
    """What the schema allows in the mapping at ``path`` (the keys, each with its meaning)."""
    node: dict | None = _resolve(schema())
    for key in path:
        node = _child(node, key) if node is not None else None
        if node is None:
            return Place(path, found=False)
    assert node is not None
    if _as_mapping(node) is None and _as_list(node) is not None:
        listed = _as_list(node)
        assert listed is not None
        node = _resolve(listed.get("items", {}))  # a list: its entries' keys
    shown = Place(path, found=True, kind=_kind(node), about=_about(node))
    mapping = _as_mapping(node)
    if mapping is None:
        return shown
    required = set(mapping.get("required", ()))
    for name, child in mapping.get("properties", {}).items():
        if name == "$schema":
            continue
        child = _resolve(child)
        shown.keys.append(
            Key(
                name,
                _kind(child),
                _about(child),
                name in required,
                tuple(str(c) for c in child.get("enum", ())),
            )
        )
    for pattern, child in mapping.get("patternProperties", {}).items():
        shown.keys.append(Key(None, _kind(child), _about(child), pattern=_pattern_word(pattern)))
    extra = mapping.get("additionalProperties")
    if isinstance(extra, dict):
        names = mapping.get("propertyNames", {}).get("pattern", "")
        shown.keys.append(Key(None, _kind(extra), _about(extra), pattern=names))
    return shown


def parse_path(text: str) -> tuple[str, ...]:
    """``before.fasting.items.[]`` as a path; at most 12 keys, each a plain YAML name."""
    parts = tuple(p for p in text.split(".") if p)[:12]
    return tuple(p for p in parts if p == ITEM or re.fullmatch(r"[A-Za-z0-9_$-]{1,64}", p))
