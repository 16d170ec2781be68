"""JSON from outside, read strictly: a key written twice, nesting past reason and numbers
too long to read are refused with one line, never a traceback or a silent choice."""

from __future__ import annotations

import json
from typing import Any

from ..errors import DataError

MAX_DEPTH = 64  # FHIR resources nest a dozen levels; an appointment list two


class Object(dict):
    """A JSON object; ``duplicates`` names keys the text wrote more than once (the JSON
    decoder would silently keep the last)."""

    duplicates: tuple[str, ...] = ()


def _pairs(pairs: list[tuple[str, Any]]) -> Object:
    result = Object(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        twice = []
        for key, _ in pairs:
            if key in seen:
                twice.append(key)
            seen.add(key)
        result.duplicates = tuple(twice)
    return result


DECODER = json.JSONDecoder(object_pairs_hook=_pairs)


def depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def problem(value: Any) -> str | None:
    """What makes a decoded ``value`` unacceptable: a key written twice anywhere in it, or
    nesting deeper than :data:`MAX_DEPTH`; None if nothing does."""
    if depth(value) > MAX_DEPTH:
        return f"nested more than {MAX_DEPTH} levels deep"
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Object) and item.duplicates:
            return f"the key '{item.duplicates[0]}' is written twice in one object"
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def reason(error: Exception, where: bool = True) -> str:
    """What the JSON decoder found wrong, in a few words (with its line and column if
    ``where``)."""
    if isinstance(error, RecursionError):
        return f"nested more than {MAX_DEPTH} levels deep"
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg}: line {error.lineno} column {error.colno}" if where else error.msg
    text = str(error)
    if "integer string conversion" in text:
        return "a number has too many digits"
    return text.split(";")[0]


def raw_decode(text: str, position: int) -> tuple[Any, int]:
    """One JSON value from ``text`` at ``position``, and where it ends. Raises ValueError
    (RecursionError becomes one) for text that is not JSON."""
    try:
        return DECODER.raw_decode(text, position)
    except RecursionError as e:
        raise ValueError(reason(e)) from None


def loads(text: str, label: str) -> Any:
    """The JSON value of the whole ``text``; a :class:`DataError` naming ``label`` if it is
    not JSON, writes a key twice or nests too deeply."""
    try:
        value = DECODER.decode(text)
    except (ValueError, RecursionError) as e:
        raise DataError(f"{label}: not valid JSON ({reason(e)})", field="input") from e
    wrong = problem(value)
    if wrong:
        raise DataError(f"{label}: {wrong}", field="input")
    return value
