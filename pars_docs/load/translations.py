"""Translations of instruction sets and of the medicine table's words, and their checks.

A translation of ``pars-defect-injection.yaml`` into Spanish is ``pars-defect-injection.es.yaml``
beside it. It holds only wording, under the same keys and in the same order of items as the
English set, and a header saying which English version it was made from and whether a
clinician has reviewed it. Everything that is not wording (``timing``, ``sources``, codes,
options, ``when`` conditions, styles) is taken from the English set, so a number can never be
re-typed, and so can never drift, in a translation.

The checks here are what ``pars-docs check`` reports for every language: a missing or extra
key or item, a re-typed inherited key or number, a ``{{ }}`` placeholder dropped or added, an
English sentence left behind, and a translation made from an older English version (stale).
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import InstructionError
from .loader import LoadedYAML, format_field, load_yaml
from .validate import problem

# The part of a file name after the set id that names a translation: "pars-defect-injection.es",
# with a script and a region where the language needs them ("kyphoplasty.zh-Hant").
_NAME = re.compile(
    r"^(?P<base>[a-z0-9][a-z0-9-]*)\.(?P<lang>[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-[A-Z]{2})?)$"
)
# Keys of an English set that are not wording: a translation takes them from English.
INHERITED = (
    "format",
    "sources",
    "codes",
    "options",
    "medicine_rules",
    "version",
    "reviewed",
    "bleeding_risk",
    "group",
    "extends",
)
# A moment's wording, the only part of `timing` a translation holds (its numbers come from
# the English set).
TIMING_WORDS: dict[str, tuple[str, ...]] = {
    "key": (),
    "late": (),
    "calendar": ("summary", "description"),
}
# The English each text was translated from, one short hash per text, kept at the end of a
# translation by `pars-docs translate import` and `translate stamp` (never typed by hand): an
# English text that changes marks only its own translation as needing work.
HASHES = "english_hashes"
HEADER = ("$schema", "id", "language", "translation", HASHES)
_TEMPLATE_PART = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_WORD = re.compile(r"[^\W\d_]+")
# Common English words that are not words of Spanish or Vietnamese: two of them in one text
# mean an English sentence was left in the translation.
ENGLISH_MARKERS = frozenset(
    "the you your and with this that will until after before take call have are what when "
    "not for should from they does into there about until then these those".split()
)
_MISSING = object()


def unit_hash(english: str) -> str:
    """A short hash of one English text, its spacing and line breaks aside."""
    return hashlib.sha256(" ".join(english.split()).encode("utf-8")).hexdigest()[:12]


def unit_key(field: tuple) -> str:
    """The name of one text in a translation's hashes and a catalog: its English field,
    ``before.fasting.items[2]`` (an item's ``text`` is the item itself)."""
    if field and field[-1] == "text":
        field = field[:-1]
    return format_field(field)


def hash_problems(loaded: LoadedYAML) -> list[str]:
    """The hashes block, if any, is a mapping of text names to hashes."""
    hashes = loaded.data.get(HASHES, {}) if isinstance(loaded.data, dict) else {}
    if not isinstance(hashes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in hashes.items()
    ):
        return [
            problem(
                loaded,
                (HASHES,),
                "is written by pars-docs translate (import or stamp); do not edit it",
            )
        ]
    return []


def changed_units(data: dict, english_data: dict, texts) -> list[tuple[tuple, str]]:
    """The (field, English text) of every English text that has changed since ``data`` (a
    translation's YAML) was translated, by the hashes it keeps; none if it keeps none."""
    hashes = data.get(HASHES)
    if not isinstance(hashes, dict) or not hashes:
        return []
    changed = []
    for field, english in texts(english_data, ()):
        kept = hashes.get(unit_key(field))
        if kept is not None and kept != unit_hash(english):
            changed.append((field, english))
    return changed


def split_name(path: Path) -> tuple[str, str] | None:
    """``(set id, language)`` for a translation file name, else ``None``."""
    match = _NAME.match(Path(path).stem)
    return (match["base"], match["lang"]) if match else None


def _get(data, field: tuple):
    """The value at ``field``; an item written as plain text stands for its ``text``."""
    node = data
    for key in field:
        if isinstance(key, int):
            if not isinstance(node, list) or key >= len(node):
                return _MISSING
            node = node[key]
        elif isinstance(node, str) and key == "text":
            continue
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            return _MISSING
    return node


def _set(data, field: tuple, value) -> None:
    node = data
    for key in field[:-1]:
        node = node[key]
    node[field[-1]] = value


def _template_parts(text: str) -> list[str]:
    return sorted(" ".join(part.split()) for part in _TEMPLATE_PART.findall(text))


def _prose(text: str) -> str:
    return " ".join(_TEMPLATE_PART.sub(" ", text).split())


def english_left(text: str, english: str) -> str | None:
    """Why ``text`` reads as English, or ``None``."""
    prose = _prose(text)
    words = [w.casefold() for w in _WORD.findall(prose)]
    if words and prose.casefold() == _prose(english).casefold() and len(prose) > 3:
        return "is still the English text; translate it"
    markers = sorted(set(words) & ENGLISH_MARKERS)
    if len(markers) >= 2:
        return f"reads as English ({', '.join(markers)}); translate it"
    return None


# Placeholders a translation may use that its English need not: words a language varies
# where English does not (Vietnamese takes a pill with "uống" and an injection with "tiêm").
LANGUAGE_ONLY = frozenset({"{{ med.verb }}", "{{ med.verb | capitalize }}"})


def text_problems(loaded: LoadedYAML, field: tuple, text: str, english: str) -> list[str]:
    """What is wrong with one translated text against its English original."""
    found = []
    want = _template_parts(english)
    got = [part for part in _template_parts(text) if part not in LANGUAGE_ONLY]
    for part in sorted((Counter(want) - Counter(got)).elements()):
        found.append(problem(loaded, field, f"the placeholder {part} of the English is missing"))
    for part in sorted((Counter(got) - Counter(want)).elements()):
        found.append(problem(loaded, field, f"{part} is not in the English text"))
    numbers = Counter(_NUMBER.findall(_prose(text))) - Counter(_NUMBER.findall(_prose(english)))
    for number in sorted(numbers):
        found.append(
            problem(
                loaded,
                field,
                f"the number {number} is typed into the translation but not in the English "
                "text; numbers come from the English set's timing, through its {{ }} variables",
            )
        )
    leftover = english_left(text, english)
    if leftover:
        found.append(problem(loaded, field, leftover))
    return found


@dataclass(frozen=True)
class Translation:
    """A checked translation of an English instruction set."""

    path: Path
    language: str
    made_from: str  # the English version it was translated from
    status: str  # "draft" or "reviewed"
    reviewer: str
    data: dict  # the English set with this translation's wording in place
    date: str = ""  # the day of the review
    hashed: bool = False  # keeps a hash of the English of each text (see HASHES)

    def stale(self, english_version: str) -> bool:
        return self.made_from != english_version


def _header_problems(loaded: LoadedYAML, english, language: str) -> list[str]:
    data = loaded.data
    found = []
    if data.get("id") != english.id:
        found.append(problem(loaded, ("id",), f"must be '{english.id}', the English set's id"))
    if data.get("language") != language:
        found.append(problem(loaded, ("language",), f"must be '{language}', as in the file name"))
    header = data.get("translation")
    if not isinstance(header, dict) or not isinstance(header.get("of"), str):
        found.append(
            problem(
                loaded,
                ("translation",),
                "give translation: {of: ENGLISH VERSION, review: {status: draft}}",
            )
        )
        return found
    given = header.get("review")
    review: dict = given if isinstance(given, dict) else {}
    status = review.get("status")
    if status not in ("draft", "reviewed"):
        found.append(problem(loaded, ("translation", "review"), "give status: draft or reviewed"))
    elif status == "reviewed" and not (review.get("reviewer") and review.get("date")):
        found.append(
            problem(
                loaded, ("translation", "review"), "a reviewed translation names reviewer and date"
            )
        )
    for key in header:
        if key not in ("of", "review"):
            found.append(problem(loaded, ("translation", key), "unknown key (allowed: of, review)"))
    return found


def _timing_problems(loaded: LoadedYAML, timing, english_file: str) -> list[str]:
    """A translation's ``timing`` holds a moment's words only: never a number."""
    if timing is None:
        return []
    if not isinstance(timing, dict):
        return [
            problem(loaded, ("timing",), "holds each moment's key, late and calendar words only")
        ]
    found = []
    for name, entry in timing.items():
        for key, value in entry.items() if isinstance(entry, dict) else [("", entry)]:
            allowed = TIMING_WORDS.get(key) if key else None
            if allowed is None:
                found.append(
                    problem(
                        loaded,
                        ("timing", name),
                        f"is taken from the English set ({english_file}); remove it here, a "
                        "translation must not re-type it (it holds only a moment's key, late "
                        "and calendar words)",
                    )
                )
            elif allowed and isinstance(value, dict):
                for sub in value:
                    if sub not in allowed:
                        found.append(
                            problem(
                                loaded,
                                ("timing", name, key, sub),
                                "is taken from the English set; a translation holds only "
                                "summary and description",
                            )
                        )
    return found


def load_translation(path: Path, english, texts) -> Translation:
    """Check ``path`` against ``english`` and merge its wording into a copy of the English
    data. ``texts`` walks a set's wording as (field, text) pairs. Every problem but staleness
    is an :class:`InstructionError`: a handout is never made from an incomplete translation."""
    names = split_name(path)
    language = names[1] if names else ""
    loaded = load_yaml(Path(path), InstructionError)
    if not isinstance(loaded.data, dict):
        raise InstructionError(f"{path}: a translation is a mapping of keys to wording")
    data = loaded.data
    problems = _header_problems(loaded, english, language)
    for key in INHERITED:
        if key in data:
            problems.append(
                problem(
                    loaded,
                    (key,),
                    f"is taken from the English set ({english.path.name}); remove it here, "
                    "a translation must not re-type it",
                )
            )
    problems += _timing_problems(loaded, data.get("timing"), english.path.name)
    problems += hash_problems(loaded)
    merged = copy.deepcopy(english.data)
    merged["language"] = language
    english_fields = set()
    for field, source in texts(english.data, ()):
        english_fields.add(field)
        value = _get(data, field)
        if value is _MISSING or not isinstance(value, str) or not value.strip():
            where = format_field(field)
            problems.append(
                problem(loaded, field, f"is missing (English {where}: '{_prose(source)[:60]}')")
            )
            continue
        problems.extend(text_problems(loaded, field, value, source))
        _set(merged, field, value)
    for field, _ in texts(data, ()):
        if field[0] in HEADER or field[0] in INHERITED:
            continue
        if field not in english_fields and field + ("text",) not in english_fields:
            problems.append(problem(loaded, field, "is not in the English set; remove it"))
    if problems:
        raise InstructionError("\n".join(problems))
    header = data["translation"]
    review = header.get("review") or {}
    return Translation(
        path=Path(path),
        language=language,
        made_from=str(header["of"]),
        status=review.get("status", "draft"),
        reviewer=str(review.get("reviewer", "")),
        data=merged,
        date=str(review.get("date", "")),
        hashed=bool(data.get(HASHES)),
    )


# -- the medicine table ------------------------------------------------------------------------


@dataclass(frozen=True)
class MedicineWords:
    """One language's words for the medicine table: notes, and names that are plain words
    ("fish oil"). Each note records the English note it was made from."""

    loaded: LoadedYAML | None
    language: str

    @property
    def status(self) -> str:
        if self.loaded is None:
            return "english"
        return (self.loaded.data.get("review") or {}).get("status", "draft")

    def _entry(self, generic: str) -> dict:
        if self.loaded is None:
            return {}
        return (self.loaded.data.get("medicines") or {}).get(generic) or {}

    def note(self, med, english: str) -> str:
        """``english`` (the medicine's note, its sedation note, or both joined, as the plan
        shows them) in this language; an :class:`InstructionError` if a part has no
        translation made from the current English (a handout is never made half in
        English)."""
        if self.loaded is None or not english:
            return english
        entry = self._entry(med.name)
        parts = [
            (med.note, entry.get("from"), entry.get("note")),
            (med.sedation_note, entry.get("sedation_from"), entry.get("sedation_note")),
        ]
        shown = [p for p in parts if p[0] and p[0] in english]
        if " ".join(p[0] for p in shown) != english or any(
            made_from != text or not translated for text, made_from, translated in shown
        ):
            raise InstructionError(
                f"{self.loaded.path}: medicines.{med.name}: no translation of the current "
                "English note; run pars-docs check"
            )
        return " ".join(str(translated) for _, _, translated in shown)

    def verb(self, form: str) -> str:
        """This language's verb for taking a medicine in ``form`` (pill, injection, topical),
        where the language has one per form (Vietnamese: uống, tiêm, bôi); else ""."""
        if self.loaded is None:
            return ""
        return str((self.loaded.data.get("verbs") or {}).get(form, ""))

    def name(self, shown: str, generic: str) -> str:
        """The name to print: a plain-word generic name in this language; brands as given."""
        if shown.casefold() != generic.casefold():
            return shown
        return self._entry(generic).get("name") or shown

    def label(self, shown: str, med) -> str:
        """The name the patient gave with the other beside it, as plan._label writes it, with
        the generic name in this language: "Eliquis (apixabán)"."""
        generic = self._entry(med.name).get("name") or med.name
        if shown != med.name:
            return f"{shown} ({generic})"
        return f"{generic} ({', '.join(med.brands)})" if med.brands else generic

    def problems(self, table) -> list[str]:
        """Notes missing or made from an older English note, and unknown medicines."""
        if self.loaded is None:
            return []
        loaded = self.loaded
        found = []
        data = loaded.data
        if data.get("language") != self.language:
            found.append(problem(loaded, ("language",), f"must be '{self.language}'"))
        if (data.get("review") or {}).get("status") not in ("draft", "reviewed"):
            found.append(problem(loaded, ("review",), "give status: draft or reviewed"))
        found += _verb_problems(loaded, data.get("verbs"))
        found += _entry_problems(loaded, data.get("medicines") or {}, table)
        return found


def _verb_problems(loaded: LoadedYAML, verbs) -> list[str]:
    """A verb for each form of medicine, and no unknown form."""
    from .medicines import FORMS

    if verbs is None:
        return []
    if not isinstance(verbs, dict):
        return [problem(loaded, ("verbs",), "give one verb for each form")]
    found = []
    for form in FORMS:
        if not isinstance(verbs.get(form), str) or not verbs[form].strip():
            found.append(problem(loaded, ("verbs",), f"no verb for the form {form}"))
    for form in sorted(set(verbs) - set(FORMS)):
        found.append(problem(loaded, ("verbs", form), f"unknown form (use {', '.join(FORMS)})"))
    return found


def _entry_problems(loaded: LoadedYAML, entries: dict, table) -> list[str]:
    """Medicines the table does not have, and notes missing or made from an older English
    note."""
    known = {m.name: m for m in table.medicines}
    found = [
        problem(loaded, ("medicines", name), "is not in the medicine table")
        for name in entries
        if name not in known
    ]
    for med in table.medicines:
        entry = entries.get(med.name) or {}
        field = ("medicines", med.name)
        for key, made_from in (("note", "from"), ("sedation_note", "sedation_from")):
            english = getattr(med, key)
            if english and not entry.get(key):
                found.append(problem(loaded, field, f"the English {key} has no translation"))
            elif english and entry.get(made_from) != english:
                found.append(
                    problem(
                        loaded,
                        (*field, made_from),
                        f"stale: the English {key} has changed since this was translated",
                    )
                )
            elif entry.get(key):
                found.extend(text_problems(loaded, (*field, key), entry[key], english))
    return found


def medicine_words(table_path: Path, language: str) -> MedicineWords:
    """The words of ``language`` for the table at ``table_path`` (``medicines.es.yaml``
    beside it); English needs none."""
    if language == "en":
        return MedicineWords(None, language)
    path = table_path.with_name(f"{table_path.stem}.{language}.yaml")
    if not path.is_file():
        raise InstructionError(f"{path}: missing: the medicine notes in '{language}'")
    return MedicineWords(load_yaml(path, InstructionError), language)


@dataclass(frozen=True)
class Review:
    """Whether a qualified reviewer approved a translation, who and when: as the translation
    says, or as the site attests for its language (``translation_reviews`` in the profile)."""

    status: str  # "draft" or "reviewed"
    reviewer: str = ""
    date: str = ""
    by_site: bool = False

    @property
    def note(self) -> str:
        """What ``check``, ``list`` and the desk say of it."""
        if self.status != "reviewed":
            return "draft translation, not yet reviewed by a clinician"
        whose = "the clinic's review" if self.by_site else "reviewed"
        return f"translation {whose}: {self.reviewer}, {self.date}"


def review_of(status: str, reviewer: str, date: str, language: str, attested: tuple = ()) -> Review:
    """The review that holds: the translation's own, else the site's attestation for
    ``language`` (``(language, reviewer, date)`` triples), else a draft."""
    if status == "reviewed":
        return Review("reviewed", reviewer, date)
    for tag, who, when in attested:
        if tag == language:
            return Review("reviewed", who, when, by_site=True)
    return Review("draft")


def review_note(translation: Translation, attested: tuple = ()) -> str:
    """What ``check`` and ``list`` say of a translation's review."""
    return review_of(
        translation.status, translation.reviewer, translation.date, translation.language, attested
    ).note
