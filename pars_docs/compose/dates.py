"""Dates and times written from CLDR patterns (the letters of ``templates/formats.yaml``).

Babel holds every language's names of months, days and AM/PM, and writes any pattern. Loading
it and a language's data is a twentieth of a cold `make`, for a handful of names. So the names
a language needs are asked of Babel once and kept in the start-up cache (see startup_cache.py),
keyed by the language, Babel's version and pars-docs' code, and the fields the formats use
are written here: weekday (E, c), month (M, L), day (d), year (y), hour (h, H, K, k),
minute (m), second (s) and AM/PM (a). A pattern with any other field (an era, a week, a
time zone…), or one of Babel's named formats ("medium"), is written by Babel itself.
``tests/test_dates.py`` holds the two to the same output.

A language whose CLDR data has no names of months and weekdays (Haitian Creole: Babel prints
"Thu" and "M03") gives them in its block of ``formats.yaml`` (``months``, ``weekdays``); they
replace CLDR's wide names (MMMM, LLLL, EEEE, cccc) for that language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from functools import cache, lru_cache
from importlib.util import find_spec
from typing import TypeGuard

from .. import startup_cache

# Babel's pattern letters (babel.dates.PATTERN_CHARS): any other letter is printed as it is.
_PATTERN_LETTERS = frozenset("GyYuQqMLwWdDFgEecabBhHKkmsSAzZOvVxX")
_NAMED = ("short", "medium", "long", "full")
# The textual fields and the samples their names are read from: a month, and a weekday.
_MONTHS = [date(2026, month, 1) for month in range(1, 13)]
_WEEKDAYS = [date(2026, 11, 23 + day) for day in range(7)]  # Monday 23 November to Sunday
_TEXT_FIELDS: dict[tuple[str, int], list[date] | list[time]] = {
    **{("M", n): _MONTHS for n in (3, 4, 5)},
    **{("L", n): _MONTHS for n in (3, 4, 5)},
    **{("E", n): _WEEKDAYS for n in (1, 2, 3, 4, 5, 6)},
    **{("c", n): _WEEKDAYS for n in (3, 4, 5, 6)},
    **{("a", n): [time(1), time(13)] for n in (1, 2, 3, 4, 5)},
}
_NUMBERS = frozenset("dhHKkmsML")  # and y, of any length


@lru_cache(maxsize=256)
def _tokens(pattern: str) -> tuple[tuple[str, int] | str, ...] | None:
    """The pattern as literal text and (letter, count) fields, or None when a field is one
    this module leaves to Babel."""
    if pattern in _NAMED:
        return None
    tokens: list[tuple[str, int] | str] = []
    literal: list[str] = []
    quoted = False
    index = 0
    text = pattern.replace("''", "\0")
    while index < len(text):
        char = text[index]
        if char == "'":
            quoted = not quoted
            index += 1
            continue
        if quoted or char not in _PATTERN_LETTERS:
            literal.append("'" if char == "\0" else char)
            index += 1
            continue
        run = index
        while run < len(text) and text[run] == char:
            run += 1
        count = run - index
        if not ((char, count) in _TEXT_FIELDS or char == "y" or (char in _NUMBERS and count <= 2)):
            return None
        if literal:
            tokens.append("".join(literal))
            literal = []
        tokens.append((char, count))
        index = run
    if literal:
        tokens.append("".join(literal))
    return tuple(tokens)


@cache
def babel_version() -> str:
    """Babel's version, read from its source without importing it."""
    spec = find_spec("babel")
    if spec is None or spec.origin is None:
        return ""
    try:
        with open(spec.origin, encoding="utf-8") as source:
            found = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", source.read())
    except OSError:
        return ""
    return found.group(1) if found else ""


@cache
def _names(locale: str) -> dict[str, list[str]]:
    """The month, weekday and AM/PM names of ``locale``, for each textual field, as Babel
    writes them; from the cache when they were asked for before."""
    version = babel_version()
    kept = None
    if version:
        # Keyed by pars-docs' own code too (startup_cache.key): a version that reads more fields
        # never finds a record made without them.
        kept = startup_cache.key("date names", locale, version)[:32]
        names = startup_cache.load("dates", kept)
        if _names_shape(names):
            return names
    from babel.dates import DateTimeFormat

    names = {
        f"{char}{count}": [DateTimeFormat(sample, locale)[char * count] for sample in samples]
        for (char, count), samples in _TEXT_FIELDS.items()
    }
    if kept is not None:
        startup_cache.keep("dates", kept, names)
    return names


def _names_shape(names: object) -> TypeGuard[dict[str, list[str]]]:
    return (
        type(names) is dict
        and set(names) == {f"{char}{count}" for char, count in _TEXT_FIELDS}
        and all(
            type(found) is list
            and len(found) == len(_TEXT_FIELDS[(key[0], int(key[1:]))])
            and all(type(name) is str for name in found)
            for key, found in names.items()
        )
    )


def _field(value: date | datetime, char: str, count: int, names: dict[str, list[str]]) -> str:
    if char in "ML":
        if count <= 2:
            return f"{value.month:0{count}d}"
        return names[f"{char}{count}"][value.month - 1]
    if char in "Ec":
        return names[f"{char}{count}"][value.weekday()]
    if char == "d":
        return f"{value.day:0{count}d}"
    if char == "y":
        year = f"{value.year:0{count}d}"
        return year[-2:] if count == 2 else year
    if not isinstance(value, datetime):
        raise KeyError(char)  # a time field in a date's pattern: as Babel, an error
    hour = value.hour
    if char == "a":
        return names[f"a{count}"][hour >= 12]
    number = {
        "h": hour % 12 or 12,
        "H": hour,
        "K": hour % 12,
        "k": hour or 24,
        "m": value.minute,
        "s": value.second,
    }[char]
    return f"{number:0{count}d}"


# The wide fields a language's own names replace, and the key of formats.yaml that holds them.
OWN_NAMES = {"months": (("M", 4), ("L", 4)), "weekdays": (("E", 4), ("c", 4))}
OWN_NAME_COUNTS = {"months": 12, "weekdays": 7}


def format_date(
    value: date, pattern: str, locale: str, own: Mapping[str, Sequence[str]] | None = None
) -> str:
    """``value`` written by the CLDR ``pattern`` in ``locale`` (``en``, ``es_US``…);
    ``own`` holds a language's own ``months`` and ``weekdays`` (Monday first), if any."""
    if isinstance(value, datetime):
        value = value.date()
    return _write(value, pattern, locale, own)


def format_datetime(
    value: datetime, pattern: str, locale: str, own: Mapping[str, Sequence[str]] | None = None
) -> str:
    """``value``'s wall-clock reading written by the CLDR ``pattern`` in ``locale``."""
    return _write(value, pattern, locale, own)


def own_names_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be written with a language's own names: a field left to Babel,
    which would print CLDR's names instead."""
    tokens = _tokens(pattern)
    if tokens is None:
        return "uses a field that only Babel writes, which would not use the language's own names"
    for token in tokens:
        if not isinstance(token, str) and token[0] in "MLEc" and token[1] in (1, 2, 3, 5, 6):
            if token[0] in "ML" and token[1] <= 2:
                continue  # the month as a number
            char = token[0]
            field = char * token[1]
            return f"uses {field}: only the full names ({char * 4}) are the language's own"
    return None


def _write(
    value: date | datetime,
    pattern: str,
    locale: str,
    own: Mapping[str, Sequence[str]] | None = None,
) -> str:
    tokens = _tokens(pattern)
    if tokens is None:
        import babel.dates

        if isinstance(value, datetime):
            return babel.dates.format_datetime(value, pattern, locale=locale)
        return babel.dates.format_date(value, pattern, locale=locale)
    names = _names(locale)
    if own:
        names = dict(names)
        for kind, fields in OWN_NAMES.items():
            if kind in own:
                for char, count in fields:
                    names[f"{char}{count}"] = list(own[kind])
    return "".join(
        token if isinstance(token, str) else _field(value, token[0], token[1], names)
        for token in tokens
    )
