"""What ``pars-docs check`` finds in an instruction set beyond its schema (format 2).

Every check runs on whatever the schema let through, so one run reports every problem, each
as ``file:line: key.path: plain words``:

- :func:`old_form`: a set without ``format: 2``, one line per old key saying what to write;
- :func:`cross_checks`: sources, numbers in their facts, moments (moments.py), conditions,
  groups, medicine rules and the medicine holds an item declares, numbers typed into wording;
(The dry run, which renders every text, is compose/dry_run.py: it needs the composer.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..plan import moments as timing_model
from .loader import LoadedYAML
from .pictures import pictures
from .structure import SECTIONS, texts
from .validate import facts_mention, problem

if TYPE_CHECKING:
    from .medicines import MedicineTable

DERIVED = ("afternoon",)
ICONS = ("food", "medicine", "car", "activity", "bandage", "phone", "pencil")
MEDICINE_TEXTS = ("stop", "late", "keep", "ask", "none_listed")
_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    "thirty|forty|forty-five|sixty|ninety"
)
# Numbers of the kinds that belong in timing, typed into wording: "2 hours", "five hours",
# "day 7", "10 lb", "3 months". Other numbers ("floor 3", "Call 911") are fine.
_TYPED = [
    (
        re.compile(
            rf"(?<![\w.])(?:\d+(?:[.,]\d+)?|{_NUMBER_WORDS})(?:\s*(?:-|–|to|or)\s*\d+(?:[.,]\d+)?)?"
            r"[\s-]*(?:hours?|hrs?|days?|weeks?|wks?|minutes?|mins?|months?)\b",
            re.IGNORECASE,
        ),
        "a length of time",
        "make it a moment in timing (e.g. {hours: 5, before: arrive, source: ...}) and print "
        "{{ moments.NAME | when }}, or a quantity ({{ t.NAME.hours }})",
    ),
    (
        re.compile(r"\b(?:day|week|month)\s+\d+\b", re.IGNORECASE),
        "a day number",
        "make it a moment in timing (e.g. {days: 7, after: start, source: ...}) and print "
        "{{ moments.NAME | day }}",
    ),
    (
        re.compile(
            rf"(?<![\w.])(?:\d+(?:[.,]\d+)?|{_NUMBER_WORDS})\s*(?:lbs?|pounds?|kg|kilos?|kilograms?)\b",
            re.IGNORECASE,
        ),
        "a weight",
        "make it a quantity in timing (e.g. lifting: {pounds: 10, kilograms: 4.5, source: ...}) "
        "and print {{ t.lifting.pounds }}",
    ),
    (
        re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?\s*°\s*[FC]\b"),
        "a temperature",
        "make it a quantity in timing (e.g. fever: {fahrenheit: 100.4, celsius: 38, "
        "source: ...}) and print {{ t.fever.fahrenheit }}",
    ),
]


def typed_number(text: str) -> str | None:
    """Why ``text`` (wording without its ``{{ }}`` parts) types a number that belongs in a
    set's ``timing``, or ``None``."""
    prose = _JINJA.sub("", text)
    for pattern, what, advice in _TYPED:
        match = pattern.search(prose)
        if match:
            return f"'{match.group()}' is typed into the wording ({what}); {advice}"
    return None


# -- the old form ------------------------------------------------------------------------

_OLD_SPANS = ("after_sedation", "bandage_off", "shower", "follow_up", "full_effect")
_OLD_ICONS = {
    "fasting": "food",
    "medicines": "medicine",
    "ride_home": "car",
    "activity": "activity",
    "site_care": "bandage",
}


def old_form(loaded: LoadedYAML) -> list[str]:
    """A set without ``format: 2``: one line per old key with what to write instead (the
    migration note in docs/instruction-sets.md lists the same)."""
    data = loaded.data if isinstance(loaded.data, dict) else {}
    out = [
        problem(
            loaded,
            ("format",) if "format" in data else (),
            "this set is in the old form; write format: 2 at the top and change the keys "
            "below (see 'Moving a set from the old form' in docs/instruction-sets.md)",
        )
    ]
    timing: dict = _dicts(data.get("timing"))
    found = [*_old_timing(timing), *_old_spans(timing), *_old_groups(data)]
    found += _old_placeholders(data)
    return out + [problem(loaded, field, text) for field, text in found]


def _old_timing(timing: dict) -> list[tuple[tuple, str]]:
    """The old fasting and arrival keys, each with the format 2 key to write instead."""
    found = []
    fasting: dict = _dicts(timing.get("fasting"))
    for old, new in (("solids", "stop_solids"), ("clear_liquids", "stop_liquids")):
        entry = fasting.get(old)
        if isinstance(entry, dict):
            anchor = "arrive" if entry.get("before") == "arrival" else "start"
            found.append(
                (
                    ("timing", "fasting", old),
                    f"format 2 names each moment; write timing.{new}: {{hours: "
                    f"{entry.get('hours')}, before: {anchor}, source: {entry.get('source')}, "
                    "key: ..., late: ...}",
                )
            )
    arrive = timing.get("arrive")
    if isinstance(arrive, dict) and "minutes_before" in arrive:
        found.append(
            (
                ("timing", "arrive", "minutes_before"),
                f"write timing.arrive: {{minutes: {arrive['minutes_before']}, before: start, "
                f"source: {arrive.get('source')}, key: ...}}",
            )
        )
    return found


def _old_spans(timing: dict) -> list[tuple[tuple, str]]:
    """The old spans after the procedure (activity limits, recovery in weeks)."""
    found = []
    for old in ("activity_limits", *_OLD_SPANS):
        entry = timing.get(old)
        if not isinstance(entry, dict):
            continue
        new = "activity_end" if old == "activity_limits" else old
        unit = next((u for u in ("hours", "days", "weeks") if u in entry), "days")
        found.append(
            (
                ("timing", old),
                f"write timing.{new}: {{{unit}: {entry.get(unit)}, after: "
                f"{entry.get('from', 'start')}, source: {entry.get('source')}}}",
            )
        )
    recovery = timing.get("recovery")
    if isinstance(recovery, dict) and "weeks_min" in recovery:
        found.append(
            (
                ("timing", "recovery"),
                "keep it as a quantity and add recovery_from: {weeks: "
                f"{recovery['weeks_min']}, after: start, source: ...}} and recovery_to: "
                f"{{weeks: {recovery.get('weeks_max')}, after: start, source: ...}}",
            )
        )
    return found


def _old_groups(data: dict) -> list[tuple[tuple, str]]:
    """Groups that relied on the old page template's choices (style, icon)."""
    found: list[tuple[tuple, str]] = []
    for section in SECTIONS:
        part: dict = _dicts(data.get(section))
        for name, group in part.items():
            if not isinstance(group, dict):
                continue
            if name == "medicines" and group.get("style") != "medicines":
                found.append(
                    ((section, name, "style"), "the medicines group says style: medicines")
                )
            if name in _OLD_ICONS and "icon" not in group:
                found.append(
                    (
                        (section, name),
                        f"the page template no longer picks icons; add icon: {_OLD_ICONS[name]}",
                    )
                )
    return found


def _old_placeholders(data: dict) -> list[tuple[tuple, str]]:
    """Wording that names an old timing key."""
    found = []
    for field, text in texts_any(data):
        if "t.fasting." in text:
            found.append(
                (
                    field,
                    "t.fasting.solids is now t.stop_solids "
                    "(t.fasting.clear_liquids: t.stop_liquids)",
                )
            )
        if "t.arrive.minutes_before" in text:
            found.append((field, "t.arrive.minutes_before is now t.arrive.minutes"))
    return found


def texts_any(value: Any, field: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Every string in ``value``, with its field (for a file the schema cannot guide)."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from texts_any(child, field + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from texts_any(child, field + (index,))
    elif isinstance(value, str):
        yield field, value


# -- cross checks ------------------------------------------------------------------------


def _source_refs(value: Any, field: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "source" and isinstance(child, str):
                yield field + (key,), child
            else:
                yield from _source_refs(child, field + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _source_refs(child, field + (index,))


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def cross_checks(loaded: LoadedYAML, table: MedicineTable | None = None) -> list[str]:
    """Every problem of a format 2 set outside its schema; tolerant of a set the schema
    refused (a part of the wrong type is skipped: the schema already named it)."""
    data = _dicts(loaded.data)
    found: list[str] = []

    def say_all(problems: Iterable[tuple[tuple, str]]) -> None:
        found.extend(problem(loaded, field, text) for field, text in problems)

    if isinstance(data.get("id"), str) and data["id"] != loaded.path.stem:
        say_all([(("id",), f"'{data['id']}' must match the file name '{loaded.path.stem}'")])
    sources = [s for s in _list(data.get("sources")) if isinstance(s, dict)]
    say_all(_source_problems(data, sources))
    facts = {s.get("id"): s.get("facts") for s in sources if isinstance(s.get("id"), str)}
    timing = {k: v for k, v in _dicts(data.get("timing")).items() if isinstance(v, dict)}
    found += _numbers_in_facts(loaded, timing, data.get("medicine_rules"), facts)
    say_all(_range_problems(timing))
    say_all(_condition_problems(data, timing))
    found += _group_problems(loaded, data, timing)
    found += _picture_problems(loaded, data)
    found += _rule_problems(loaded, data, timing, table)
    found += _hold_problems(loaded, data, timing, table)
    say_all(_wording_problems(data))
    return found


def _source_problems(data: dict, sources: list[dict]) -> Iterator[tuple[tuple, str]]:
    """A source id used twice, and a reference to a source that is not there."""
    ids = [s.get("id") for s in sources]
    for index, source_id in enumerate(ids):
        if source_id in ids[:index]:
            yield ("sources", index, "id"), f"source id '{source_id}' is used twice"
    for field, ref in _source_refs(data, ()):
        if field[0] != "sources" and ref not in ids:
            yield field, f"no source with id '{ref}' (sources: {', '.join(map(str, ids))})"


def _range_problems(timing: dict) -> Iterator[tuple[tuple, str]]:
    """A range in ``timing`` whose low end is above its high end."""
    for name, entry in timing.items():
        for low in entry:
            if low.endswith("_min") and f"{low[:-4]}_max" in entry:
                high = f"{low[:-4]}_max"
                if _num(entry[low]) and _num(entry[high]) and entry[low] > entry[high]:
                    yield ("timing", name), f"{low} is more than {high}"


def _condition_problems(data: dict, timing: dict) -> Iterator[tuple[tuple, str]]:
    """Declared options that may not be declared, the timing's own problems, and a ``when``
    naming a condition that is not declared."""
    options = _dicts(data.get("options"))
    for name in options:
        if name in DERIVED:
            yield (
                ("options", name),
                f"'{name}' is worked out from the visit's time; it cannot be declared",
            )
    known_conditions = set(options) | set(DERIVED)
    yield from timing_model.problems(timing, known_conditions.__contains__)
    for field, condition in _whens(data):
        for name in condition:
            if name not in known_conditions:
                declared = ", ".join([*options, *DERIVED])
                yield (
                    (*field, name),
                    f"unknown condition '{name}'; declare it in options (declared: {declared})",
                )


def _wording_problems(data: dict) -> Iterator[tuple[tuple, str]]:
    """Wording with a number or name typed in, a template error, or a construct that could
    reach Python's internals."""
    import jinja2  # only to check a set: `list` and a warm start do without

    from ..sandbox import unsafe_constructs

    for field, text in texts(data):
        typed = typed_number(text)
        if typed:
            yield field, typed
        try:
            unsafe = unsafe_constructs(text)
        except jinja2.TemplateSyntaxError as e:
            yield field, f"template error: {e.message}"
            continue
        for what in unsafe:
            yield field, f"{what}: not allowed (wording may not reach Python internals)"


def _num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers_in_facts(loaded: LoadedYAML, timing: dict, rules: Any, facts: dict) -> list[str]:
    """Each number in ``timing`` (and the medicine rules) is written, as digits, in the facts
    of the source it credits. (Whether the source itself says it is for a reviewer; this
    catches a number credited to a source that never mentions it.)"""
    found = []

    def numbers(value: Any, field: tuple) -> Iterator[tuple[tuple, float]]:
        if _num(value):
            yield field, value
        elif isinstance(value, list):
            for index, child in enumerate(value):
                yield from numbers(child, (*field, index))
        elif isinstance(value, dict):
            for key, child in value.items():
                if key not in ("calendar",):
                    yield from numbers(child, (*field, key))

    places = [(("timing", name), entry) for name, entry in timing.items()]
    places += [
        (("medicine_rules", index), rule)
        for index, rule in enumerate(rules if isinstance(rules, list) else [])
        if isinstance(rule, dict)
    ]
    for field, entry in places:
        source = entry.get("source")
        if source not in facts:
            continue  # reported as a missing source
        for where, value in numbers({k: v for k, v in entry.items() if k != "source"}, field):
            if not facts_mention(facts[source], value):
                shown = int(value) if float(value).is_integer() else value
                found.append(
                    problem(
                        loaded,
                        where,
                        f"{shown} is credited to '{source}', whose facts do not mention it",
                    )
                )
    return found


def _whens(data: dict) -> Iterator[tuple[tuple, dict]]:
    for name, entry in _dicts(data.get("timing")).items():
        if isinstance(entry, dict) and isinstance(entry.get("when"), dict):
            yield ("timing", name, "when"), entry["when"]
    for section in (*SECTIONS, "when_to_call"):
        for name, group in _dicts(data.get(section)).items():
            if not isinstance(group, dict):
                continue
            if isinstance(group.get("when"), dict):
                yield (section, name, "when"), group["when"]
            for index, item in enumerate(_list(group.get("items"))):
                if isinstance(item, dict) and isinstance(item.get("when"), dict):
                    yield (section, name, "items", index, "when"), item["when"]


_STYLE_NEEDS = {
    "checklist": ("items",),
    "bullets": ("items",),
    "steps": ("items",),
    "paragraph": ("text",),
    "table": ("series", "columns"),
    "medicines": MEDICINE_TEXTS,
}


def _group_problems(loaded: LoadedYAML, data: dict, timing: dict) -> list[str]:
    found = []
    avoids = any(
        isinstance(r, dict) and "avoid_until" in r for r in _list(data.get("medicine_rules"))
    )
    for section in SECTIONS:
        for name, group in _dicts(data.get(section)).items():
            if name == "heading" or not isinstance(group, dict):
                continue
            where = (section, name)
            style = group.get("style", "bullets")
            for key in _STYLE_NEEDS.get(style, ()):
                if key not in group:
                    found.append(problem(loaded, where, f"a group of style {style} needs {key}"))
            if style == "medicines" and avoids and "avoid" not in group:
                found.append(
                    problem(loaded, where, "a medicine rule has avoid_until: give the avoid text")
                )
            if style == "table" and isinstance(group.get("series"), str):
                series = timing.get(group["series"])
                if series is None or timing_model.kind(series) != "series":
                    found.append(
                        problem(
                            loaded,
                            (*where, "series"),
                            f"'{group['series']}' is not a series in timing (a moment whose "
                            "offset is a list)",
                        )
                    )
                else:
                    offset = timing_model.offset_of(series)
                    rows = len(offset[1]) if offset and isinstance(offset[1], list) else 0
                    columns = [c for c in _list(group.get("columns")) if isinstance(c, dict)]
                    labels = group.get("row_labels")
                    if any(c.get("value") == "offset" for c in columns) and (
                        not isinstance(labels, list) or len(labels) != rows
                    ):
                        found.append(
                            problem(
                                loaded,
                                (*where, "row_labels"),
                                f"give {rows} row_labels, one per row of '{group['series']}'",
                            )
                        )
    return found


def _picture_problems(loaded: LoadedYAML, data: dict) -> list[str]:
    """A picture named in ``about`` or a group that ``templates/pictures.yaml`` does not
    draw."""
    places = [("about",)] + [
        (section, name)
        for section in SECTIONS
        for name, group in _dicts(data.get(section)).items()
        if isinstance(group, dict)
    ]
    found = []
    for place in places:
        part: Any = data
        for key in place:
            part = _dicts(part).get(key)
        name = _dicts(part).get("picture")
        if isinstance(name, str) and name not in pictures():
            found.append(
                problem(
                    loaded,
                    (*place, "picture"),
                    f"there is no picture '{name}'; the pictures are "
                    f"{', '.join(sorted(pictures()))} (templates/pictures.yaml)",
                )
            )
    return found


def moment_names(timing: dict) -> list[str]:
    return ["start", "end", *(n for n, e in timing.items() if timing_model.kind(e) == "moment")]


def _rule_problems(
    loaded: LoadedYAML, data: dict, timing: dict, table: MedicineTable | None
) -> list[str]:
    found = []
    rules = data.get("medicine_rules")
    moments = moment_names(timing)
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        where = ("medicine_rules", index)
        if ("classes" in rule) == ("medicines" in rule):
            found.append(
                problem(
                    loaded, where, "name the medicines by classes or by medicines (one of the two)"
                )
            )
        effects = [
            k for k in ("restart_not_before", "avoid_until", "stop_days_before") if k in rule
        ]
        if len(effects) != 1:
            found.append(
                problem(
                    loaded, where, "give one of restart_not_before, avoid_until or stop_days_before"
                )
            )
        if "restart_days_after" in rule and "stop_days_before" not in rule:
            found.append(
                problem(loaded, (*where, "restart_days_after"), "goes with stop_days_before")
            )
        for key in ("restart_not_before", "avoid_until"):
            name = rule.get(key)
            if isinstance(name, str) and name not in moments:
                found.append(
                    problem(
                        loaded,
                        (*where, key),
                        f"unknown moment '{name}'; the set defines: {', '.join(moments)}",
                    )
                )
        if table is not None:
            for position, name in enumerate(_list(rule.get("medicines"))):
                if isinstance(name, str) and table.find(name) is None:
                    found.append(
                        problem(
                            loaded,
                            (*where, "medicines", position),
                            f"'{name}' is not in the medicine table",
                        )
                    )
    return found


def _holds(data: dict) -> Iterator[tuple[tuple, dict, str]]:
    for section in (*SECTIONS, "when_to_call"):
        for name, group in _dicts(data.get(section)).items():
            if not isinstance(group, dict):
                continue
            for index, item in enumerate(_list(group.get("items"))):
                text = item.get("text") if isinstance(item, dict) else item
                holds = item.get("holds") if isinstance(item, dict) else None
                field = (section, name, "items", index)
                yield (
                    field,
                    holds if isinstance(holds, dict) else {},
                    text if isinstance(text, str) else "",
                )


def _hold_problems(
    loaded: LoadedYAML, data: dict, timing: dict, table: MedicineTable | None
) -> list[str]:
    """An item that holds a class of medicine until a moment, while some medicine of that
    class in the table restarts earlier (no rule keeps it to the moment); and an item whose
    words hold a medicine without saying so (``holds``)."""
    found = []
    rules = [r for r in _list(data.get("medicine_rules")) if isinstance(r, dict)]
    risk = data.get("bleeding_risk")
    phrases = hold_phrases(str(data.get("language", "en")))
    moments = moment_names(timing)
    for field, holds, text in _holds(data):
        if not holds:
            if any(p.search(_JINJA.sub(" ", text)) for p in phrases):
                found.append(
                    problem(
                        loaded,
                        field,
                        "these words keep a medicine from the patient until a moment; say which "
                        "with holds: {classes: [...], until: MOMENT}, so check can prove the "
                        "medicine lines agree",
                    )
                )
            continue
        until = holds.get("until")
        if until not in moments:
            found.append(
                problem(
                    loaded,
                    (*field, "holds", "until"),
                    f"unknown moment '{until}'; the set defines: {', '.join(moments)}",
                )
            )
            continue
        if table is None:
            continue
        for cls in _list(holds.get("classes")):
            covered = any(
                cls in _list(r.get("classes"))
                and until in (r.get("restart_not_before"), r.get("avoid_until"))
                for r in rules
            )
            if covered:
                continue
            early = [
                m.name
                for m in table.medicines
                if m.cls == cls and _may_restart(m.pause.get(risk) or {})
            ]
            if early:
                found.append(
                    problem(
                        loaded,
                        field,
                        f"says not to take {cls} medicines until '{until}', but the medicine lines "
                        f"restart {', '.join(early[:3])}{' and others' if len(early) > 3 else ''} "
                        f"earlier; add medicine_rules: - {{classes: [{cls}], restart_not_before: "
                        f"{until}, source: ...}}",
                    )
                )
    return found


@lru_cache(maxsize=8)
def hold_phrases(language: str) -> tuple[re.Pattern[str], ...]:
    """The phrases of ``language`` (templates/checks.yaml) that keep a medicine from the
    patient until a moment ("do not start your blood thinner again while ...")."""
    from ..errors import InstructionError
    from ..resources import templates_dir
    from .loader import load_yaml

    loaded = load_yaml(templates_dir() / "checks.yaml", InstructionError)
    table = loaded.data if isinstance(loaded.data, dict) else {}
    block = table.get(language) or table.get(language.split("-")[0]) or {}
    return tuple(re.compile(p, re.IGNORECASE) for p in block.get("holds") or ())


def _may_restart(pause: Mapping[str, Any]) -> bool:
    """Whether a medicine table entry lets the patient take the medicine again (keep, or a
    pause with a restart day) before any moment the set names."""
    return pause.get("action") == "keep" or "restart_days_after" in pause
