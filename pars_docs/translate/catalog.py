"""One instruction set's wording and the medicine words as a gettext PO catalog.

Why PO and not XLIFF 2: every CAT tool and translation platform reads PO (Poedit, Weblate,
Lokalize, OmegaT, memoQ, Trados, Crowdin), the format is plain text a reviewer can read in a
diff, and gettext's own ``msgfmt --check-format`` and the tools' checks hold the placeholders
of a ``python-brace-format`` entry. See docs/translating.md.

Each unit (one text of the set or one medicine note) is one entry:

- ``msgctxt``: where the text is, by its English field (``before.fasting.items[2]``,
  ``medicines.warfarin.note``); it never changes while the text's place does not;
- ``msgid``: the English text with each Jinja part (``{{ … }}``, ``{% … %}``) replaced by a
  numbered placeholder ``{1}``, ``{2}`` (a ``python-brace-format`` entry, so a tool shows them
  as codes and refuses a translation that loses one); a literal brace is doubled;
- the translator's notes (``#.``): where the text appears, what each placeholder prints, and
  ``hash: …``, the hash of the English text the unit was exported from;
- ``fuzzy`` when the English text changed since the existing translation was made: the old
  translation is offered, to be checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polib  # type: ignore[import-untyped]

from ..errors import InstructionError, UsageError
from ..load.loader import format_field
from ..load.translations import HASHES, unit_hash, unit_key

_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
_SLOT = re.compile(r"{(\d+)}|{(verb|Verb)}")
_HASH_NOTE = re.compile(r"^hash: ([0-9a-f]{12})$", re.M)
# Placeholders a language adds that its English has none of (see translations.LANGUAGE_ONLY):
# written as named slots in a catalog.
_NAMED = {"{{ med.verb }}": "{verb}", "{{ med.verb | capitalize }}": "{Verb}"}

SECTIONS = {
    "title": "the handout's title, at the top of every page",
    "about": "page 1, 'about your procedure'",
    "before": "the part before the procedure day",
    "day_of": "the part about the procedure day",
    "after": "the part after the procedure",
    "timing": "a moment of the timeline: its line in page 1's key times ('key'), the line "
    "when it is already too late ('late'), or its calendar event ('calendar')",
    "medicines": "the medicine table",
}
FILTERS = {
    "when": "a date and time, written in your language (e.g. 'Thursday, March 4 at 6:00 AM')",
    "day": "a date, written in your language (e.g. 'Thursday, March 4')",
    "time": "a clock time, written in your language (e.g. '6:00 AM')",
    "on_the_day": "a clock time, or a date and time when it is not the procedure day",
    "capitalize": "with its first letter in capitals",
}
ROOTS = {
    "set.title": "the handout's title (its translation)",
    "clinic.phone": "the clinic's phone number",
    "med.label": "a medicine's name as the patient gave it, with its other name",
    "med.note": "the medicine's note (translated in this catalog's medicines entries)",
    "med.last_dose": "the date of the last dose",
    "med.restart": "the date or words for when to restart the medicine",
    "med.stop_days_before": "a number of days",
    "med.avoid_until": "a date",
    "med.verb": "your language's verb for taking this medicine (pill, injection, skin)",
    "visit.sedation": "whether the patient has sedation",
}


def to_slots(text: str, english: list[str] | None = None) -> tuple[str, list[str]]:
    """``text`` with its Jinja parts as ``{1}``, ``{2}``… and those parts in order.

    With ``english`` (the English text's parts), a translation's part takes the number of
    the same part of the English, the n-th of its kind for the n-th: a translation may put
    them in another order ("{{ med.stop_days_before }}天停用{{ med.label }}")."""
    parts: list[str] = []
    out = []
    last = 0
    seen: dict[str, int] = {}
    for match in _JINJA.finditer(text):
        out.append(text[last : match.start()].replace("{", "{{").replace("}", "}}"))
        part = match.group(0)
        named = _NAMED.get(" ".join(part.split()))
        if named:
            out.append(named)
        else:
            parts.append(part)
            out.append(f"{{{_number(part, len(parts), english, seen)}}}")
        last = match.end()
    out.append(text[last:].replace("{", "{{").replace("}", "}}"))
    return "".join(out), parts


def _number(part: str, position: int, english: list[str] | None, seen: dict[str, int]) -> int:
    """The slot number of a translation's ``part`` (the ``position``-th): that of the same
    English part, counting repeats (``{% endif %}``) in order; its position when there is no
    English to follow or the English has no such part (import then names it)."""
    if english is None:
        return position
    key = " ".join(part.split())
    nth = seen.get(key, 0)
    seen[key] = nth + 1
    same = [n for n, one in enumerate(english, 1) if " ".join(one.split()) == key]
    return same[nth] if nth < len(same) else position


def from_slots(text: str, parts: list[str], where: str) -> str:
    """A catalog text with its slots put back as the Jinja parts they stand for; a
    :class:`InstructionError` naming ``where`` for a slot the English has not."""
    out = []
    last = 0
    for match in re.finditer(r"{{|}}|{[^{}]*}", text):
        out.append(text[last : match.start()])
        token = match.group(0)
        if token in ("{{", "}}"):
            out.append(token[0])
        elif token in ("{verb}", "{Verb}"):
            out.append("{{ med.verb }}" if token == "{verb}" else "{{ med.verb | capitalize }}")
        elif token[1:-1].isdigit() and 1 <= int(token[1:-1]) <= len(parts):
            out.append(parts[int(token[1:-1]) - 1])
        else:
            raise InstructionError(
                f"{where}: the placeholder {token} is not in the English text (it has "
                f"{', '.join(f'{{{n}}}' for n in range(1, len(parts) + 1)) or 'none'})"
            )
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def _timing_value(english: dict, name: str):
    node = english.get("timing", {})
    for key in name.split(".")[1:]:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def explain(part: str, english: dict) -> str:
    """What a Jinja part prints, for the translator."""
    inner = " ".join(part.strip("{}%#").split())
    if part.startswith("{%"):
        if inner.startswith("if ") or inner.startswith("elif "):
            return (
                "the start of a part printed only for some patients: keep it where the part starts"
            )
        if inner == "else":
            return "the start of the other wording of the part above: keep it"
        return "the end of a part printed only for some patients: keep it where the part ends"
    name, *filters = [p.strip() for p in inner.split("|")]
    if name.startswith("t."):
        value = _timing_value(english, name)
        what = f"a number from the set's timing ({name[2:]}), now {value}"
    elif name.startswith("moments.") or name.startswith("repeats."):
        what = f"the moment '{name.split('.', 1)[1]}' of the timeline"
    else:
        what = ROOTS.get(name, name)
    said = [FILTERS.get(f.split("(")[0], f) for f in filters]
    return "; ".join([what, *said])


@dataclass
class Unit:
    """One text to translate."""

    key: str
    english: str
    translated: str = ""
    changed: bool = False  # the English changed since ``translated`` was made
    where: str = ""
    line: int = 0
    flags: list[str] = field(default_factory=list)


TIMING_PARTS = {
    "key": "its line in page 1's table of key times",
    "late": "the line printed when it is already too late for it",
    "calendar": "its event in the calendar file",
}


def _where(field_: tuple, english: dict) -> str:
    if field_[0] == "timing" and len(field_) > 2:
        return f"the moment '{field_[1]}' of the timeline: {TIMING_PARTS.get(field_[2], field_[2])}"
    section = SECTIONS.get(str(field_[0]), str(field_[0]))
    heading = None
    if len(field_) > 1 and field_[0] in ("before", "day_of", "after"):
        group = english.get(field_[0], {}).get(field_[1])
        if isinstance(group, dict) and isinstance(group.get("heading"), str):
            heading = group["heading"]
    return f"{section}" + (f", under the heading '{heading}'" if heading else "")


def set_units(english, loaded, translation: dict | None, texts) -> list[Unit]:
    """The units of an English set (``english``, an InstructionSet; ``loaded`` its file) with
    the wording of ``translation`` (a translation's YAML data, or None)."""
    from ..load.translations import _get

    units = []
    hashes = (translation or {}).get(HASHES) or {}
    same_version = str(((translation or {}).get("translation") or {}).get("of")) == str(
        english.version
    )
    for field_, text in texts(english.data, ()):
        key = unit_key(field_)
        done = _get(translation, field_) if translation else None
        done = done if isinstance(done, str) else ""
        kept = hashes.get(key) if isinstance(hashes, dict) else None
        changed = bool(done) and (kept != unit_hash(text) if kept is not None else not same_version)
        units.append(
            Unit(
                key=key,
                english=text,
                translated=done,
                changed=changed,
                where=_where(field_, english.data),
                line=loaded.line(field_),
            )
        )
    return units


def medicine_units(table, words: dict | None) -> list[Unit]:
    """The medicine table's notes and names, with ``words`` (a medicines.LANG.yaml's data)."""
    entries = ((words or {}).get("medicines") or {}) if isinstance(words, dict) else {}
    units = []
    for med in table.medicines:
        entry = entries.get(med.name) or {}
        units.append(
            Unit(
                key=f"medicines.{med.name}.name",
                english=med.name,
                translated=str(entry.get("name") or med.name),
                where="a medicine's generic name, beside the name the patient gave (keep the "
                "English where your language writes it the same)",
            )
        )
        for key, made_from in (("note", "from"), ("sedation_note", "sedation_from")):
            english = getattr(med, key)
            if not english:
                continue
            done = str(entry.get(key) or "")
            units.append(
                Unit(
                    key=f"medicines.{med.name}.{key}",
                    english=english,
                    translated=done,
                    changed=bool(done) and entry.get(made_from) != english,
                    where="the note beside this medicine in the medicine table"
                    + (" (for a patient having sedation)" if key == "sedation_note" else ""),
                )
            )
    return units


def build(
    units: list[Unit], english: dict, header: dict[str, str], source_name: str
) -> polib.POFile:
    """A PO catalog of ``units``."""
    po = polib.POFile(wrapwidth=0)
    po.metadata = {
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "MIME-Version": "1.0",
        **header,
    }
    for unit in units:
        msgid, parts = to_slots(unit.english)
        msgstr = to_slots(unit.translated, parts)[0] if unit.translated else ""
        notes = [f"Where: {unit.where}."]
        notes += [f"{{{n}}} = {part}: {explain(part, english)}" for n, part in enumerate(parts, 1)]
        if "{verb}" in msgstr or "{Verb}" in msgstr:
            notes.append("{verb} = " + ROOTS["med.verb"])
        if unit.changed:
            notes.append("The English changed since this was translated: check the translation.")
        notes.append(f"hash: {unit_hash(unit.english)}")
        flags = ["python-brace-format"] if parts or "{" in msgid else []
        if unit.changed:
            flags.append("fuzzy")
        po.append(
            polib.POEntry(
                msgctxt=unit.key,
                msgid=msgid,
                msgstr=msgstr,
                comment="\n".join(notes),
                occurrences=[(source_name, str(unit.line))] if unit.line else [],
                flags=flags,
            )
        )
    return po


@dataclass(frozen=True)
class Imported:
    """What a catalog gives back for the units it holds."""

    texts: dict[str, str]  # key -> translated text (Jinja), for done units
    left: list[str]  # keys still untranslated or marked fuzzy


def read(path: Path, units: list[Unit], want: dict[str, str]) -> Imported:
    """Read the catalog at ``path`` made for ``units``; ``want`` is what its header must
    say (set, language). A unit whose English changed after the export, a slot the English
    has not, or a catalog of another set or language is a :class:`InstructionError`."""
    try:
        po = polib.pofile(str(path), wrapwidth=0)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UsageError(f"{path}: not a PO catalog ({e})") from e
    for key, value in want.items():
        if po.metadata.get(key) != value:
            raise InstructionError(
                f"{path}: {key} is '{po.metadata.get(key, '')}', not '{value}': a catalog of "
                "another set or language"
            )
    by_key = {u.key: u for u in units}
    texts: dict[str, str] = {}
    left: list[str] = []
    problems: list[str] = []
    for entry in po:
        unit = by_key.get(entry.msgctxt or "")
        where = f"{path}:{entry.linenum}: {entry.msgctxt}"
        if unit is None:
            problems.append(f"{where}: not a text of the English set any more; export again")
            continue
        hashed = _HASH_NOTE.search(entry.comment or "")
        if hashed is None or hashed.group(1) != unit_hash(unit.english):
            problems.append(
                f"{where}: the English text changed after this catalog was exported; export "
                "again and translate the units marked fuzzy"
            )
            continue
        if entry.obsolete or "fuzzy" in entry.flags or not entry.msgstr.strip():
            left.append(unit.key)
            continue
        try:
            texts[unit.key] = from_slots(entry.msgstr, to_slots(unit.english)[1], where)
        except InstructionError as e:
            problems.append(str(e))
    if problems:
        raise InstructionError("\n".join(problems))
    return Imported(texts, left)


def field_of(key: str) -> tuple:
    """``before.fasting.items[2]`` → ``('before', 'fasting', 'items', 2)``."""
    out: list = []
    for part in key.split("."):
        name, *indexes = part.split("[")
        out.append(name)
        out += [int(i.rstrip("]")) for i in indexes]
    assert format_field(tuple(out)) == key, key
    return tuple(out)
