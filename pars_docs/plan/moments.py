"""The moments of an instruction set (format 2): what each ``timing`` entry is, and when.

A ``timing`` entry is one of four kinds (see docs/instruction-sets.md):

- a **quantity**: numbers the wording prints (``t.ice.minutes``), no anchor;
- a **moment**: ``before``/``after`` another moment, by one offset, optionally at a clock
  time (``at``), as a day with no time (``day_only``), or as a visit of its own (``visit``);
- a **series**: a moment whose offset is a list, one moment per number (a pain diary);
- a **repeated task**: ``every`` so long ``from`` a moment ``until`` another (or ``for``).

:func:`resolve` computes them for one visit into a :class:`Timeline`: the one place the
plan keeps its moments, in a documented order (``start``, ``end``, then the set's own in the
order written), with what each asks of the patient (its ``key``, ``late`` and ``calendar``
wording stays in the set). :func:`problems` finds what is wrong with a set's ``timing``
without a visit, for ``check``.

Minutes and hours count elapsed time (on UTC); days, weeks and months count calendar dates
and keep the wall-clock time.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ..errors import VisitError, say

UTC = timezone.utc
BUILT_IN = ("start", "end")
UNITS = ("minutes", "hours", "days", "weeks", "months")
ELAPSED = ("minutes", "hours")
MAX_REPEATS = 1000
MOMENT_KEYS = frozenset(UNITS)  # occurrences of one repeated task; more is surely a mistake

Moment = datetime | date  # a date for a day-only moment


def kind(entry: Mapping[str, Any]) -> str:
    """``quantity``, ``moment``, ``series`` or ``repeat`` for one ``timing`` entry."""
    if "every" in entry:
        return "repeat"
    if "before" in entry or "after" in entry:
        offsets = [entry[u] for u in UNITS if u in entry]
        if any(isinstance(o, list) for o in offsets):
            return "series"
        return "moment"
    return "quantity"


def anchor_of(entry: Mapping[str, Any]) -> str | None:
    """The moment an entry is counted from (``from`` for a repeated task)."""
    if "every" in entry:
        return entry.get("from")
    return entry.get("before") or entry.get("after")


def depends_on(entry: Mapping[str, Any]) -> list[str]:
    """Every moment name an entry needs: its anchor, and a repeated task's ``until``."""
    names = [anchor_of(entry)]
    if "every" in entry:
        names.append(entry.get("until"))
    return [n for n in names if isinstance(n, str)]


def offset_of(entry: Mapping[str, Any]) -> tuple[str, Any] | None:
    units = [u for u in UNITS if u in entry]
    return (units[0], entry[units[0]]) if len(units) == 1 else None


@dataclass(frozen=True)
class Repeat:
    """A repeated task for one visit: its first and last time, how many, and its rule."""

    name: str
    first: Moment
    last: Moment
    count: int
    unit: str  # minutes, hours, days or weeks
    interval: int | float

    @property
    def rrule(self) -> dict[str, Any]:
        """RFC 5545 RRULE parts: FREQ, INTERVAL and UNTIL (in UTC for a timed task)."""
        freq = {"minutes": "MINUTELY", "hours": "HOURLY", "days": "DAILY", "weeks": "WEEKLY"}
        until = self.last.astimezone(UTC) if isinstance(self.last, datetime) else self.last
        return {"FREQ": freq[self.unit], "INTERVAL": int(self.interval), "UNTIL": until}

    @property
    def rrule_text(self) -> str:
        parts = self.rrule
        until = parts["UNTIL"]
        text = (
            until.strftime("%Y%m%dT%H%M%SZ")
            if isinstance(until, datetime)
            else until.strftime("%Y%m%d")
        )
        return f"FREQ={parts['FREQ']};INTERVAL={parts['INTERVAL']};UNTIL={text}"


@dataclass
class Timeline:
    """Every computed moment of one visit.

    ``moments``: name → datetime (a date for a day-only moment, a list for a series), in
    order: ``start``, ``end``, then the set's moments as written. ``repeats``: name →
    :class:`Repeat`. ``entries``: the set's ``timing`` (the wording of each moment).
    """

    moments: dict[str, Any] = field(default_factory=dict)
    repeats: dict[str, Repeat] = field(default_factory=dict)
    entries: Mapping[str, Any] = field(default_factory=dict)

    def entry(self, name: str) -> Mapping[str, Any]:
        return self.entries.get(name) or {}


# -- counting --------------------------------------------------------------------------------


def shift_hours(moment: datetime, hours: float) -> datetime:
    """``moment`` moved by ``hours`` of elapsed time, read on the same zone's clock."""
    return (moment.astimezone(UTC) + timedelta(hours=hours)).astimezone(moment.tzinfo)


def _wall(naive: datetime, tz: Any) -> datetime:
    """A wall-clock reading on ``tz``; a skipped time moves forward."""
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def shift_days(moment: datetime, days: int) -> datetime:
    """The same wall-clock time ``days`` dates later; a skipped time moves forward."""
    return _wall(moment.replace(tzinfo=None) + timedelta(days=days), moment.tzinfo)


def add_months(day: date, months: int) -> date:
    """``day`` moved by calendar months, clamped to the month's last day (Nov 30 + 3 →
    Feb 28, or 29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def localize(day: date, clock: time, tz: Any, what: str, fold: int = 0) -> datetime:
    """The aware datetime for a wall-clock time; a :class:`VisitError` naming ``what`` if the
    clocks skip it on that date."""
    naive = datetime.combine(day, clock)
    aware = naive.replace(tzinfo=tz, fold=fold)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise VisitError(
            say(
                "{what}: {clock} on {day} does not exist in {zone}: the clocks skip that hour; "
                "choose another time",
                words={
                    "what": what,
                    "zone": getattr(tz, "key", tz),
                    "clock": clock.strftime("%H:%M"),
                },
                day=day.isoformat(),
            ),
            field="time",
        )
    return aware


def _count(base: Moment, unit: str, amount: float, sign: int) -> Moment:
    if unit in ELAPSED:
        if not isinstance(base, datetime):
            raise ValueError("minutes or hours from a day with no time")
        hours = amount / 60 if unit == "minutes" else amount
        return shift_hours(base, sign * hours)
    if unit == "months":
        day = add_months(
            base if not isinstance(base, datetime) else base.date(), sign * int(amount)
        )
    else:
        days = int(amount) * (7 if unit == "weeks" else 1)
        day = (base if not isinstance(base, datetime) else base.date()) + timedelta(
            days=sign * days
        )
    if isinstance(base, datetime):
        return _wall(datetime.combine(day, base.timetz().replace(tzinfo=None)), base.tzinfo)
    return day


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _moment(name: str, entry: Mapping[str, Any], base: Moment, amount: float, tz: Any) -> Moment:
    unit = offset_of(entry)
    assert unit is not None
    sign = -1 if "before" in entry else 1
    moment = _count(base, unit[0], amount, sign)
    if "at" in entry:
        day = moment.date() if isinstance(moment, datetime) else moment
        moment = localize(day, _clock(entry["at"]), tz, f"timing.{name}.at")
    if entry.get("day_only") and isinstance(moment, datetime):
        moment = moment.date()
    return moment


def _repeat(
    name: str, entry: Mapping[str, Any], begin: Moment, stop: Moment | None, tz: Any
) -> Repeat | None:
    unit, interval = next(iter(entry["every"].items()))
    if stop is None:
        length_unit, length = next(iter(entry["for"].items()))
        stop = _count(begin, length_unit, length, 1)
    first = begin
    if "at" in entry:
        day = begin.date() if isinstance(begin, datetime) else begin
        first = localize(day, _clock(entry["at"]), tz, f"timing.{name}.at")
        if isinstance(begin, datetime) and first < begin:
            first = localize(day + timedelta(days=1), _clock(entry["at"]), tz, f"timing.{name}.at")
    times: list[Moment] = []
    current = first
    while _before(current, stop) and len(times) < MAX_REPEATS:
        times.append(current)
        current = _count(first, unit, interval * len(times), 1)
    if not times:
        return None
    return Repeat(name, times[0], times[-1], len(times), unit, interval)


def _before(a: Moment, b: Moment) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a < b
    day_a = a.date() if isinstance(a, datetime) else a
    day_b = b.date() if isinstance(b, datetime) else b
    return day_a < day_b


def _repeat_from(
    name: str, entry: Mapping[str, Any], get: Callable[[str], Any], tz: Any
) -> Repeat | None:
    """The repeated task ``name`` between the moments it names (found by ``get``), if both
    exist."""
    begin = get(entry["from"])
    stop = get(entry["until"]) if "until" in entry else None
    if begin is None or ("until" in entry and stop is None):
        return None
    return _repeat(name, entry, begin, stop, tz)


def resolve(
    timing: Mapping[str, Any],
    start: datetime,
    applies: Callable[[Mapping[str, bool] | None], bool],
    site_values: Mapping[str, int | None],
) -> Timeline:
    """Every moment and repeated task of ``timing`` for a visit starting at ``start``.

    A moment whose ``when`` does not hold, or whose anchor does not exist, does not exist.
    An offset ``{site: NAME}`` comes from the site profile (``site_values``); without it the
    moment does not exist. A clock time (``at``) the clocks skip is a :class:`VisitError`.
    """
    tz = start.tzinfo
    end = shift_hours(start, timing["duration"]["minutes_max"] / 60)
    known: dict[str, Any] = {"start": start, "end": end}
    absent: set[str] = set()
    repeats: dict[str, Repeat] = {}
    visiting: list[str] = []

    def get(name: str) -> Any:
        if name in known or name in absent:
            return known.get(name)
        entry = timing.get(name)
        if not isinstance(entry, Mapping) or kind(entry) in ("quantity",):
            absent.add(name)
            return None
        if name in visiting:
            cycle = " → ".join([*visiting[visiting.index(name) :], name])
            raise VisitError(f"timing.{name}: the moments depend on each other ({cycle})")
        visiting.append(name)
        try:
            value = _compute(name, entry)
        finally:
            visiting.pop()
        if value is None:
            absent.add(name)
        else:
            known[name] = value
        return value

    def _compute(name: str, entry: Mapping[str, Any]) -> Any:
        if not applies(entry.get("when")):
            return None
        what = kind(entry)
        if what == "repeat":
            found = _repeat_from(name, entry, get, tz)
            if found is not None:
                repeats[name] = found
            return None  # a repeated task is not a moment
        base = get(anchor_of(entry) or "")
        if base is None:
            return None
        offset = offset_of(entry)
        assert offset is not None
        amount = offset[1]
        if isinstance(amount, Mapping):
            amount = site_values.get(amount.get("site", ""))
            if amount is None:
                return None
        if what == "series":
            return [_moment(name, entry, base, a, tz) for a in amount]
        return _moment(name, entry, base, amount, tz)

    for name in timing:
        get(name)
    ordered = {"start": start, "end": end}
    ordered.update((name, known[name]) for name in timing if name in known)
    return Timeline(ordered, {n: repeats[n] for n in timing if n in repeats}, timing)


# -- checks ------------------------------------------------------------------------------


Problem = tuple[tuple, str]  # (field path, words)


def problems(timing: Mapping[str, Any], conditions: Callable[[str], bool]) -> list[Problem]:
    """What is wrong with a set's ``timing``, found without a visit: unknown anchors,
    cycles, two offsets, ``at`` with elapsed time, a repeated task without an end, a
    ``when`` missing where the anchor may be absent, reserved names."""
    found: list[Problem] = []
    names = [n for n, e in timing.items() if isinstance(e, Mapping)]
    moments = [n for n in names if kind(timing[n]) in ("moment",)]
    defined = ", ".join([*BUILT_IN, *moments]) or "(none)"
    for name in names:
        entry = timing[name]
        what = kind(entry)
        where = ("timing", name)
        if name in BUILT_IN:
            found.append((where, f"'{name}' is a built-in moment; choose another name"))
        if what == "quantity":
            found += _quantity_problems(where, entry)
            continue
        found += _unknown_keys(where, entry)
        if what == "repeat":
            found += _repeat_problems(timing, name, entry, moments, defined)
            continue
        found += _offset_problems(where, entry, what)
        found += _anchor_problems(timing, name, entry, defined)
    found += _cycles(timing, names)
    return found


def _quantity_problems(where: tuple, entry: Mapping[str, Any]) -> list[Problem]:
    """Keys only a moment takes, given to a quantity."""
    wording = [
        k
        for k in (
            "key",
            "late",
            "calendar",
            "when",
            "at",
            "day_only",
            "visit",
            "show",
            "for_medicines",
            "clinic_day",
        )
        if k in entry
    ]
    return [
        (
            (*where, key),
            "only a moment takes this; give it before: or after: a moment "
            "(a quantity has numbers only)",
        )
        for key in wording
    ]


def _unknown_keys(where: tuple, entry: Mapping[str, Any]) -> list[Problem]:
    """Keys no moment or repeated task takes."""
    return [
        (
            (*where, key),
            "unknown key (a moment takes before or after, one of minutes, hours, "
            "days, weeks or months, and at, day_only, visit, show, when, key, "
            "late, late_as, calendar, source; a repeated task every, from, until "
            "or for, at)",
        )
        for key, value in entry.items()
        if key not in MOMENT_KEYS and not isinstance(value, (dict, list, str, bool))
    ]


def _offset_problems(where: tuple, entry: Mapping[str, Any], what: str) -> list[Problem]:
    """A moment's offset: one direction, one unit, and a clock time only with whole days."""
    found: list[Problem] = []
    if "before" in entry and "after" in entry:
        found.append((where, "give before or after, not both"))
    units = [u for u in UNITS if u in entry]
    if len(units) != 1:
        found.append(
            (where, "give exactly one of minutes, hours, days, weeks or months")
            if units
            else (where, "give how far: one of minutes, hours, days, weeks or months")
        )
    if "at" in entry and any(u in entry for u in ELAPSED):
        found.append(
            (
                (*where, "at"),
                "a clock time goes with days, weeks or months, not minutes or hours",
            )
        )
    if what == "series" and "at" in entry:
        found.append(((*where, "at"), "a series takes no clock time"))
    return found


def _anchor_problems(
    timing: Mapping[str, Any], name: str, entry: Mapping[str, Any], defined: str
) -> list[Problem]:
    """The moment a moment counts from: defined, a moment, with a clock time when counted
    in minutes or hours, and present whenever this one is; and a series' numbers listed."""
    where = ("timing", name)
    found: list[Problem] = []
    anchor = anchor_of(entry) or ""
    key = "before" if "before" in entry else "after"
    if anchor not in BUILT_IN and anchor not in timing:
        found.append(((*where, key), f"unknown moment '{anchor}'; the set defines: {defined}"))
    elif anchor not in BUILT_IN and kind(timing[anchor]) != "moment":
        found.append(
            (
                (*where, key),
                f"'{anchor}' is a {kind(timing[anchor])}, not a moment; count from a moment",
            )
        )
    elif anchor not in BUILT_IN:
        if timing[anchor].get("day_only") and any(u in entry for u in ELAPSED):
            found.append(
                (
                    where,
                    f"'{anchor}' is a day with no clock time: count from it in days, "
                    "weeks or months, or give it a time",
                )
            )
        found += _when_problems(timing, name, entry, anchor)
    if kind(entry) == "series":
        found += [
            ((*where, unit), "a series lists its numbers")
            for unit in UNITS
            if unit in entry and isinstance(entry[unit], Mapping)
        ]
    return found


def _repeat_problems(timing, name, entry, moments, defined) -> list[Problem]:
    where = ("timing", name)
    found: list[Problem] = []
    if "from" not in entry:
        found.append((where, "a repeated task says where it starts: from: a moment"))
    if ("until" in entry) == ("for" in entry):
        found.append(
            (where, "a repeated task ends: give until: a moment, or for: a length (one of the two)")
        )
    if "at" in entry and next(iter(entry["every"]), "") in ELAPSED:
        found.append(((*where, "at"), "a clock time goes with every: days or weeks"))
    for key in ("from", "until"):
        other = entry.get(key)
        if other is None or other in BUILT_IN:
            continue
        if other not in timing:
            found.append(((*where, key), f"unknown moment '{other}'; the set defines: {defined}"))
        elif kind(timing[other]) != "moment":
            found.append(((*where, key), f"'{other}' is a {kind(timing[other])}, not a moment"))
        else:
            found += _when_problems(timing, name, entry, other)
    return found


def _when_problems(timing, name, entry, anchor) -> list[Problem]:
    """A moment whose anchor may be absent (its ``when``) must carry the same conditions."""
    needed = dict(timing[anchor].get("when") or {})
    have = dict(entry.get("when") or {})
    missing = {k: v for k, v in needed.items() if have.get(k) != v}
    if not missing:
        return []
    cond = ", ".join(f"{k}: {str(v).lower()}" for k, v in missing.items())
    return [
        (
            ("timing", name),
            f"'{anchor}' exists only when {{{cond}}}; give this moment the same when",
        )
    ]


def _cycles(timing: Mapping[str, Any], names: list[str]) -> list[Problem]:
    found: list[Problem] = []
    reported: set[frozenset[str]] = set()
    for name in names:
        path = [name]
        current = name
        while True:
            entry = timing.get(current)
            nexts = (
                [n for n in depends_on(entry) if n in timing] if isinstance(entry, Mapping) else []
            )
            if not nexts:
                break
            current = nexts[0]
            if current in path:
                cycle = path[path.index(current) :]
                if frozenset(cycle) not in reported and cycle[0] == min(cycle):
                    reported.add(frozenset(cycle))
                    shown = " → ".join([*cycle, cycle[0]])
                    found.append(
                        (("timing", cycle[0]), f"the moments depend on each other: {shown}")
                    )
                break
            path.append(current)
    return found
