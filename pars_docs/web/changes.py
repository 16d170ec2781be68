"""The set editor's plain form for the common changes to a built-in set: a number in
``timing`` (with the source that says it), an item added to or removed from a list, and a
paragraph in one of the page template's named places (``slots``). Each is written into the
clinic's file that ``extends`` the built-in set (made if there is none), which the editor
then checks, previews and saves exactly as a file typed by hand (editor.py).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any

import yaml

from ..service.offers import SECTIONS, InstructionSet, schema

KINDS = ("number", "add", "remove", "slot")
LIST_SECTIONS = (*SECTIONS, "when_to_call")


@dataclass
class Change:
    """One change, as the form gives it."""

    kind: str = ""
    number: str = ""  # "stop_solids.hours"
    value: str = ""
    source: str = ""
    facts: str = ""
    group: str = ""  # "before.fasting"
    text: str = ""
    item: str = ""  # the place of a built-in item, from 1
    slot: str = ""

    @classmethod
    def from_form(cls, form) -> Change:
        def given(name: str) -> str:
            return str(form.get(name, "")).strip()[:2000]

        kind = given("kind")
        group, item = given("group"), ""
        if kind == "remove":  # one choice names the group and the item: "before.fasting|2"
            group, _, item = given("remove_item").partition("|")
        return cls(
            kind=kind,
            number=given("number"),
            value=given("value"),
            source=given("source"),
            facts=given("facts"),
            group=group,
            text=given("slot_text" if kind == "slot" else "item_text"),
            item=item,
            slot=given("slot"),
        )


def numbers(base: InstructionSet) -> list[dict]:
    """Every number of the set's ``timing``: ``entry.key``, its value and its source."""
    found = []
    for entry, value in (base.data.get("timing") or {}).items():
        if not isinstance(value, dict):
            continue
        for key, number in value.items():
            if isinstance(number, (int, float)) and not isinstance(number, bool):
                found.append(
                    {"field": f"{entry}.{key}", "value": number, "source": value.get("source")}
                )
    return found


def lists(base: InstructionSet) -> list[dict]:
    """Every group with a list of items: ``section.group``, its heading and the items."""
    found = []
    for section in LIST_SECTIONS:
        for name, group in (base.data.get(section) or {}).items():
            if isinstance(group, dict) and isinstance(group.get("items"), list):
                items = [
                    i.get("text", "") if isinstance(i, dict) else str(i) for i in group["items"]
                ]
                found.append(
                    {
                        "group": f"{section}.{name}",
                        "heading": group.get("heading", name),
                        "lines": items,
                    }
                )
    return found


def slots() -> list[dict]:
    """The page template's named places, each with the schema's description of it."""
    places = schema()["$defs"]["slots"]["properties"]
    return [{"name": name, "about": place.get("description", "")} for name, place in places.items()]


def problems(change: Change, base: InstructionSet) -> dict[str, str]:
    """What the form lacks, by the id of its field: a code the page words
    (clinic_change.html)."""
    found: dict[str, str] = {}
    if change.kind not in KINDS:
        found["kind"] = "choose"
    elif change.kind == "number":
        if change.number not in {n["field"] for n in numbers(base)}:
            found["number"] = "choose"
        if _number(change.value) is None:
            found["value"] = "number"
        if change.source not in {s["id"] for s in base.sources}:
            found["source"] = "choose"
    elif change.kind in ("add", "remove"):
        groups = {g["group"]: g for g in lists(base)}
        if change.group not in groups:
            found["group"] = "choose"
        elif change.kind == "remove" and not (
            change.item.isdigit() and 1 <= int(change.item) <= len(groups[change.group]["lines"])
        ):
            found["remove_item"] = "choose"
        if change.kind == "add" and not change.text:
            found["item_text"] = "empty"
    elif change.kind == "slot":
        if change.slot not in {s["name"] for s in slots()}:
            found["slot"] = "choose"
        if not change.text:
            found["slot_text"] = "empty"
    return found


def _number(text: str) -> int | float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return int(value) if value.is_integer() else value


def apply(change: Change, base: InstructionSet, overlay: dict | None, today: datetime.date) -> dict:
    """``overlay`` (the clinic's file for ``base``, or a new one) with ``change`` in it."""
    data: dict[str, Any] = (
        dict(overlay)
        if overlay
        else {
            "format": 2,
            "id": base.id,
            "extends": {"set": base.id, "version": base.version},
            "version": "1.0.0",
            "reviewed": today.isoformat(),
        }
    )
    if change.kind == "number":
        entry, key = change.number.split(".", 1)
        timing = data.setdefault("timing", {})
        timing[entry] = {
            **(timing.get(entry) or {}),
            key: _number(change.value),
            "source": change.source,
        }
        if change.facts:
            sources = data.setdefault("sources", [])
            own = next(
                (s for s in sources if isinstance(s, dict) and s.get("id") == change.source), None
            )
            if own is None:
                sources.append({"id": change.source, "add_facts": change.facts})
            elif "facts" in own:
                own["facts"] = f"{own['facts']} {change.facts}"
            else:
                own["add_facts"] = " ".join(filter(None, (own.get("add_facts"), change.facts)))
    elif change.kind in ("add", "remove"):
        section, name = change.group.split(".", 1)
        group = data.setdefault(section, {}).setdefault(name, {}) or {}
        data[section][name] = group
        items = group.get("items")
        value: Any = change.text if change.kind == "add" else int(change.item)
        if isinstance(items, list) and change.kind == "add":
            items.append(value)  # the clinic's file gives the whole list: add to it
        else:
            ops = items if isinstance(items, dict) else {}
            ops.setdefault(change.kind, []).append(value)
            group["items"] = ops
    elif change.kind == "slot":
        data.setdefault("slots", {})[change.slot] = change.text
    return data


def as_yaml(data: dict, old_text: str = "") -> str:
    """``data`` as the clinic's file, under the comment lines that opened ``old_text``."""
    lead = []
    for line in old_text.splitlines():
        if not line.startswith("#"):
            break
        lead.append(line)
    body = yaml.dump(data, Dumper=_ClinicSetDumper, sort_keys=False, allow_unicode=True, width=88)
    return "\n".join(lead) + ("\n" if lead else "") + body


class _ClinicSetDumper(yaml.SafeDumper):
    """Wording with an apostrophe in double quotes ("Our clinic's"), not as 'clinic''s'."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = '"' if "'" in value and "\n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ClinicSetDumper.add_representer(str, _text)
