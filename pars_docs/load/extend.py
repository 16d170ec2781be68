"""A clinic's changes to a built-in set, without a copy: ``extends:`` and only what differs.

A clinic's file ``pars-defect-injection.yaml`` that says ``extends: {set:
pars-defect-injection, version: "1.1.0"}`` holds only its changes: a number in ``timing`` (with
its own ``source``), a source, an item added to or removed from a list, a group or paragraph
added, changed or removed, a moment added. :func:`merge` lays them over the built-in set; the
result is checked as any set is (schema, sources, moments, dry run), and :class:`Extension`
keeps a short listing of what the clinic changed for ``pars-docs check``.

Translations stay the built-in ones for every string the clinic did not touch. The strings it
wrote (:func:`overlay_texts`) need a translation of their own: ``ID.LANG.yaml`` in the
clinic's folder, with the same keys as the clinic's file and only those strings; the same
merge lays it over the built-in translation, so a removed or added item lands in the same
place in every language.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .loader import LoadedYAML, format_field
from .structure import SECTIONS, schema, texts
from .validate import problem

# The keys of a clinic's file that describe the file, not the set.
HEADER = ("$schema", "format", "id", "extends", "version", "reviewed", "language")
# A moment's offset and what it counts from: a clinic's entry that gives one of a kind
# replaces the built-in's of that kind ({minutes: 480} replaces {hours: 8}).
OFFSETS = ("minutes", "hours", "days", "weeks", "months", "at")
ANCHORS = ("before", "after")
# Keys of a timing entry that are wording or names, not numbers needing a source.
NOT_NUMBERS = ("source", "key", "late", "calendar", "late_as", "show", "when", "before", "after")
LIST_OPS = ("add", "remove")
ADD_FACTS = "add_facts"  # a source's facts the clinic adds to a built-in source's
PLACE = "place"  # where an added group goes: {after: GROUP}, {before: GROUP} or first
# The wording lists a clinic may change item by item.
ITEM_LISTS = {("about", "treats"): "text", ("items",): "item"}


def _defs() -> dict[str, Any]:
    return schema()["$defs"]


@dataclass
class Merged:
    """A set with a clinic's changes laid over it."""

    data: dict
    changes: list[str] = field(default_factory=list)  # what the clinic changed, one per line
    problems: list[str] = field(default_factory=list)
    # A field of the merged set → the clinic file's field it came from, where they differ (an
    # added item is items[7] in the set and items.add[0] in the file).
    paths: dict[tuple, tuple] = field(default_factory=dict)


class MergedYAML(LoadedYAML):
    """The merged set as a loaded file: problems name the clinic's file, at the line of the
    clinic's own field when it wrote one, else of the nearest part it wrote."""

    def __init__(self, merged: Merged, clinic: LoadedYAML):
        super().__init__(merged.data, clinic.text, clinic.path)
        self._clinic = clinic
        self._paths = merged.paths

    def line(self, field: tuple) -> int:
        field = tuple(field)
        for length in range(len(field), 0, -1):
            mapped = self._paths.get(field[:length])
            if mapped is not None:
                return self._clinic.line(mapped + field[length:])
        return self._clinic.line(field)


def _short(value: Any, width: int = 48) -> str:
    if isinstance(value, dict) and "text" in value:
        value = value["text"]
    if isinstance(value, (dict, list)):
        return "…"
    if isinstance(value, str):
        text = " ".join(value.split())
        return f'"{text[: width - 1]}…"' if len(text) > width else f'"{text}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text_of(item: Any) -> str:
    text = item.get("text", "") if isinstance(item, dict) else item
    return " ".join(str(text).split())


def _at(data: Any, path: tuple) -> Any:
    for key in path:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return None
    return data


class _Merge:
    def __init__(self, base: dict, clinic: LoadedYAML, english: dict | None):
        self.clinic = clinic
        self.english = english if english is not None else base
        self.out = Merged(copy.deepcopy(base))

    def say(self, path: tuple, text: str) -> None:
        self.out.problems.append(problem(self.clinic, path, text))

    def change(self, kind: str, path: tuple, detail: str = "") -> None:
        self.out.changes.append(f"{kind:<8} {format_field(path)}{': ' + detail if detail else ''}")

    # -- the parts of a set ------------------------------------------------------------

    def run(self, overlay: dict) -> Merged:
        data = self.out.data
        for key, value in overlay.items():
            if key in HEADER:
                continue
            path = (key,)
            if key == "timing":
                self.timing(value)
            elif key == "sources":
                self.sources(value)
            elif key in (*SECTIONS, "when_to_call"):
                self.section(key, value)
            elif key in ("about", "options", "slots"):
                if isinstance(value, dict) and key not in data:
                    data[key] = {}  # each of the clinic's entries is listed on its own
                self.mapping(data, key, value, path)
            elif value is None:
                if key in data:
                    del data[key]
                    self.change("removed", path)
            else:
                if data.get(key) != value:
                    self.change("changed" if key in data else "added", path, _short(value))
                data[key] = value
        return self.out

    def mapping(self, parent: dict, key: str, value: Any, path: tuple) -> None:
        """A mapping the clinic changes key by key (a group, ``about``, the options)."""
        if value is None:
            if key in parent:
                del parent[key]
                self.change("removed", path)
            else:
                self.say(path, "is not in the built-in set; there is nothing to remove")
            return
        if not isinstance(value, dict) or not isinstance(parent.get(key), dict):
            if parent.get(key) != value:
                self.change("changed" if key in parent else "added", path, _short(value))
            parent[key] = value
            return
        target = parent[key]
        for name, child in value.items():
            where = (*path, name)
            if isinstance(child, (dict, list)) and self._is_list_ops(where, child):
                self.items(target, name, child, where)
            elif child is None:
                if name in target:
                    del target[name]
                    self.change("removed", where)
                else:
                    self.say(where, "is not in the built-in set; there is nothing to remove")
            elif isinstance(child, dict) and isinstance(target.get(name), dict):
                self.mapping(target, name, child, where)
            elif target.get(name) != child:
                self.change("changed" if name in target else "added", where, _short(child))
                target[name] = child

    def _is_list_ops(self, path: tuple, value: Any) -> bool:
        return path[-1] == "items" or path[-2:] == ("about", "treats")

    def items(self, parent: dict, name: str, ops: Any, path: tuple) -> None:
        """A list of wording: replaced whole (a list), or changed item by item:
        ``{remove: [3, "Take a blood thinner."], add: [...]}``; ``remove`` names an item of
        the built-in list by its place (from 1) or its words."""
        given = parent.get(name)
        old: list = given if isinstance(given, list) else []
        if isinstance(ops, list):
            parent[name] = ops
            self.change("replaced", path, f"{len(ops)} items")
            return
        unknown = [k for k in ops if k not in LIST_OPS]
        for key in unknown:
            self.say((*path, key), "give add, remove, or the whole list")
        found_english = _at(self.english, path)
        english: list = found_english if isinstance(found_english, list) else old
        drop: set[int] = set()
        removes = ops.get("remove") or []
        for index, which in enumerate(removes if isinstance(removes, list) else [removes]):
            where = (*path, "remove", index)
            found = None
            if isinstance(which, int) and not isinstance(which, bool):
                found = which - 1 if 1 <= which <= len(old) else None
                if found is None:
                    self.say(where, f"the built-in list has {len(old)} items; give 1 to {len(old)}")
            elif isinstance(which, str):
                wanted = " ".join(which.split())
                matches = [i for i, item in enumerate(english) if _text_of(item) == wanted]
                found = matches[0] if matches else None
                if found is None:
                    self.say(
                        where, "no item of the built-in list has these words; copy them exactly"
                    )
            else:
                self.say(where, "name an item by its place (1, 2, …) or its words")
            if found is not None:
                drop.add(found)
                self.change("removed", (*path, found), _short(english[found]))
        kept = [item for index, item in enumerate(old) if index not in drop]
        adds = ops.get("add") or []
        if not isinstance(adds, list):
            self.say((*path, "add"), "give a list of items to add")
            adds = []
        for index, item in enumerate(adds):
            self.out.paths[path + (len(kept),)] = path + ("add", index)
            kept.append(item)
            self.change("added", path, _short(item))
        parent[name] = kept

    def timing(self, overlay: Any) -> None:
        if not isinstance(overlay, dict):
            self.say(("timing",), "give the timing entries you change, by name")
            return
        timing = self.out.data.setdefault("timing", {})
        for name, entry in overlay.items():
            path = ("timing", name)
            old = timing.get(name)
            if entry is None:
                self.mapping(timing, name, None, path)
                continue
            if not isinstance(entry, dict) or not isinstance(old, dict):
                if isinstance(entry, dict):
                    self.change("added", path, "a new " + ("moment" if _anchor(entry) else "entry"))
                timing[name] = entry
                continue
            new, numbers = _merged_entry(old, entry)
            self._entry_changes(path, old, new)
            if numbers and "source" not in entry:
                self.say(
                    path,
                    "a changed number needs its own source: add source: (a source whose facts "
                    "say it; for your clinic's own choice, a clinic-policy source that says so)",
                )
            timing[name] = new

    def _entry_changes(self, path: tuple, old: dict, new: dict) -> None:
        """List each key of a timing entry that the clinic's change removed, added or
        changed."""
        for key in dict.fromkeys([*old, *new]):
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            if key not in new:
                self.change("removed", (*path, key), _short(was))
            elif key not in old:
                self.change("added", (*path, key), _short(now))
            else:
                self.change("changed", (*path, key), f"{_short(was)} → {_short(now)}")

    def sources(self, overlay: Any) -> None:
        """Sources by id: one with a built-in id replaces it (or, with ``add_facts``, adds
        to its facts), a new one is added."""
        if not isinstance(overlay, list):
            self.say(("sources",), "give a list of sources, each with its id")
            return
        sources = self.out.data.setdefault("sources", [])
        for index, source in enumerate(overlay):
            ids = [s.get("id") for s in sources if isinstance(s, dict)]
            source_id = source.get("id") if isinstance(source, dict) else None
            if source_id in ids and isinstance(source, dict) and ADD_FACTS in source:
                # The clinic's own facts added to a built-in source (its clinic-policy).
                at = ids.index(source_id)
                merged = {**sources[at], **{k: v for k, v in source.items() if k != ADD_FACTS}}
                merged["facts"] = " ".join(
                    part for part in (sources[at].get("facts"), source[ADD_FACTS]) if part
                )
                sources[at] = merged
                self.out.paths[("sources", at)] = ("sources", index)
                self.change(
                    "added", ("sources", str(source_id), "facts"), _short(source[ADD_FACTS])
                )
            elif source_id in ids:
                at = ids.index(source_id)
                if sources[at] != source:
                    sources[at] = source
                    self.out.paths[("sources", at)] = ("sources", index)
                    self.change("replaced", ("sources",), str(source_id))
            else:
                self.out.paths[("sources", len(sources))] = ("sources", index)
                sources.append(source)
                self.change("added", ("sources",), str(source_id))

    def section(self, name: str, overlay: Any) -> None:
        data = self.out.data
        if not isinstance(overlay, dict) or not isinstance(data.get(name), dict):
            self.mapping(data, name, overlay, (name,))
            return
        section = data[name]
        for group, value in overlay.items():
            path = (name, group)
            if not isinstance(value, dict):
                if value is None and group in section:
                    del section[group]
                    self.change("removed", path)
                elif value is None:
                    self.say(path, "is not in the built-in set; there is nothing to remove")
                else:
                    if section.get(group) != value:
                        self.change("changed" if group in section else "added", path, _short(value))
                    section[group] = value
                continue
            value = dict(value)
            place = value.pop(PLACE, None)
            if group in section:
                self.mapping(section, group, value, path)
            else:
                for key in ("items", "treats"):
                    if isinstance(value.get(key), dict):
                        self.say(
                            (*path, key),
                            f"no group '{group}' in the built-in {name}, so nothing to add to "
                            "or remove from; a new group gives its items as a list",
                        )
                section[group] = value
                self.change("added", path, "a new group")
            if place is not None:
                self.place(name, group, place)

    def place(self, name: str, group: str, place: Any) -> None:
        section = self.out.data[name]
        path = (name, group, PLACE)
        order = [key for key in section if key != group]
        if place == "first":
            at = 1 if order and order[0] == "heading" else 0
        elif isinstance(place, dict) and len(place) == 1 and next(iter(place)) in ANCHORS:
            where, other = next(iter(place.items()))
            if other not in order or other == "heading":
                groups = ", ".join(k for k in order if k != "heading")
                self.say(path, f"no group '{other}' in {name} (groups: {groups})")
                return
            at = order.index(other) + (where == "after")
        else:
            self.say(path, "give first, {after: GROUP} or {before: GROUP}")
            return
        order.insert(at, group)
        self.out.data[name] = {key: section[key] for key in order}


def _anchor(entry: dict) -> bool:
    return any(key in entry for key in ANCHORS)


def merge(base: dict, overlay: dict, clinic: LoadedYAML, english: dict | None = None) -> Merged:
    """``overlay`` (a clinic's file, as loaded in ``clinic``) laid over ``base`` (a built-in
    set, or a translation of one merged with its English set: then ``english`` is the English
    set, whose words an item to remove is named by)."""
    return _Merge(base, clinic, english).run(overlay)


def overlay_texts(overlay: Any) -> Iterator[tuple[tuple, str]]:
    """Every (field, text) of wording a clinic's file writes: the strings that need a
    translation of their own."""
    if not isinstance(overlay, dict):
        return
    defs = _defs()
    root = schema()["properties"]
    for key, value in overlay.items():
        if key in HEADER:
            continue
        if key == "timing" and isinstance(value, dict):
            for name, entry in value.items():
                yield from texts(entry, ("timing", name), defs["timing_entry"])
        elif key in (*SECTIONS, "when_to_call") and isinstance(value, dict):
            for group, part in value.items():
                path = (key, group)
                if isinstance(part, str):
                    yield from texts(part, path, {"$ref": "#/$defs/text"})
                elif isinstance(part, dict):
                    yield from _group_texts(part, path, defs["group"], defs["item"])
        elif key == "about" and isinstance(value, dict):
            yield from _group_texts(value, ("about",), root["about"], {"$ref": "#/$defs/text"})
        elif key in root:
            yield from texts(value, (key,), root[key])


def _group_texts(group: dict, path: tuple, node: dict, item: dict) -> Iterator[tuple[tuple, str]]:
    for name, value in group.items():
        where = (*path, name)
        if name in ("items", "treats") and isinstance(value, dict):
            for index, one in enumerate(value.get("add") or []):
                yield from texts(one, (*where, "add", index), item)
        elif name != PLACE:
            yield from texts({name: value}, path, node)


def _merged_entry(old: dict, entry: dict) -> tuple[dict, bool]:
    """A built-in timing entry with a clinic's change over it (a new offset or anchor
    replaces the old one; ``None`` removes a key; a mapping is merged), and whether the
    change touches a number."""
    new = dict(old)
    for kind in (OFFSETS, ANCHORS) if _anchor(old) else ():
        if any(key in entry for key in kind):
            for key in kind:
                new.pop(key, None)
    numbers = False
    for key, value in entry.items():
        if value is None:
            new.pop(key, None)
        elif isinstance(value, dict) and isinstance(new.get(key), dict):
            new[key] = {**new[key], **value}
        else:
            new[key] = value
        if key not in NOT_NUMBERS and old.get(key) != value:
            numbers = True
    return new, numbers
