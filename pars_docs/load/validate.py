"""Check loaded YAML against a JSON Schema and report every problem at once.

Each problem reads ``file:line: field.path: message``. Unknown keys are named one by one with
the keys that are allowed there, because a misspelt key must never silently drop an
instruction.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .loader import LoadedYAML, format_field

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


@cache
def load_schema(path: Path) -> dict[str, Any]:
    """The JSON Schema at ``path`` (one of those shipped with the package), read once."""
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _leaves(error: ValidationError):
    """Descend through ``oneOf``/``anyOf`` failures to the error a person can act on."""
    from jsonschema.exceptions import best_match

    while error.context:
        # Prefer the branch whose type matched: an object item with a bad key should report the
        # bad key, not "is not a string".
        typed = [e for e in error.context if e.validator != "type"]
        error = best_match(typed or error.context)
    yield error


def _message(error: ValidationError, loaded: LoadedYAML) -> list[tuple[tuple, str]]:
    field = tuple(error.absolute_path)
    if (
        error.validator == "additionalProperties"
        and isinstance(error.instance, dict)
        and isinstance(error.schema, dict)
    ):
        allowed = sorted(error.schema.get("properties", {}))
        out = []
        for key in error.instance:
            if key in allowed:
                continue
            import difflib  # only to suggest a fix

            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            out.append((field + (key,), f"unknown key{hint} (allowed: {', '.join(allowed)})"))
        return out
    if error.validator == "required":
        return [(field, error.message.replace("is a required property", "is missing"))]
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        keys = [k for k in ("hours", "days", "weeks") if k in error.instance]
        if keys or "hours" in str(error.schema):
            return [(field, "give exactly one of hours, days or weeks")]
    return [(field, _without_value(error))]


_TYPES = {
    "object": "a mapping of keys to values",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


# What each remaining schema rule asks, with its value (the schema's, never the file's).
_RULES = {
    "const": "must be {}",
    "minimum": "must be at least {}",
    "exclusiveMinimum": "must be more than {}",
    "maximum": "must be at most {}",
    "exclusiveMaximum": "must be less than {}",
    "minLength": "must be at least {} characters long",
    "maxLength": "must be at most {} characters long",
    "minItems": "must list at least {}",
    "maxItems": "must list at most {}",
    "pattern": "is not written the way this field asks (pattern {})",
    "format": "is not a valid {}",
    "uniqueItems": "lists the same item twice",
}


def _without_value(error: ValidationError) -> str:
    """What ``error`` found wrong, said from the schema alone. jsonschema's own messages
    quote the value, and a file that is not what it should be (``check /etc/passwd``, a
    linked file) must not be printed through them."""
    rule, wanted = error.validator, cast(Any, error.validator_value)
    if rule == "type":
        kinds = wanted if isinstance(wanted, list) else [wanted]
        return "must be " + " or ".join(_TYPES.get(str(k), str(k)) for k in kinds)
    if rule == "enum":
        return "must be one of " + ", ".join(str(v) for v in wanted)
    if rule in _RULES:
        return _RULES[rule].format(wanted)
    return f"breaks the rule '{rule}' of the schema"


def schema_problems(loaded: LoadedYAML, schema: Path) -> list[str]:
    """Every way ``loaded`` breaks the named schema, sorted by line."""
    import jsonschema  # only when something is checked: it takes longer to import than to use

    validator = jsonschema.Draft202012Validator(
        load_schema(schema), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    found: list[tuple[int, str]] = []
    for top in validator.iter_errors(loaded.data):
        for error in _leaves(top):
            for field, text in _message(error, loaded):
                found.append(
                    (
                        loaded.line(field),
                        f"{loaded.path}:{loaded.line(field)}: {format_field(field)}: {text}",
                    )
                )
    return [text for _, text in sorted(set(found))]


def problem(loaded: LoadedYAML, field: tuple, text: str) -> str:
    """Format one problem found outside the schema (a bad reference, an impossible range)."""
    return f"{loaded.where(field)}: {format_field(field)}: {text}"


def number_text(value: float) -> str:
    """A number as a source would write it: 8 not 8.0, 100.4 as is."""
    return str(int(value)) if float(value).is_integer() else str(value)


def facts_mention(facts: str | None, value: float) -> bool:
    """Whether a source's ``facts`` write ``value`` as digits ("24" in "24-48 hours", but not
    in "2024"). The check a reviewer does by eye, made mechanical where it can be."""
    digits = re.escape(number_text(value))
    return re.search(rf"(?<![\d.]){digits}(?!\d|\.\d)", facts or "") is not None
