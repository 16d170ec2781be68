"""Translation files written back from a catalog, and the English hashes they keep.

``pars-docs translate export`` reads the English set, its translation (if any) and the
medicine words into units (:mod:`.catalog`); ``translate import`` writes the translation and
the medicine words from a catalog, then checks them as ``pars-docs check`` does;
``translate stamp`` writes the hash block of a translation that is current (made from the
English version it names), once, for translations written before the hashes existed.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polib  # type: ignore[import-untyped]
import yaml

from ..errors import InstructionError, UsageError
from ..load.library import InstructionSet, Library, texts
from ..load.loader import load_yaml
from ..load.medicines import TABLE_FILE
from ..load.translations import HASHES, split_name, unit_hash, unit_key
from . import catalog

_HASH_BLOCK = re.compile(rf"^(?:#[^\n]*\n)*{HASHES}:.*\Z", re.S | re.M)
HASH_COMMENT = (
    "# The English each text above was translated from, as a hash per text: written by\n"
    "# `pars-docs translate import` and `pars-docs translate stamp`. Do not edit it.\n"
)
MEDICINE_PREFIX = "medicines."


def _translation_path(library: Library, set_id: str, language: str) -> Path | None:
    library._files()
    return library._translated.get(set_id, {}).get(language)


def _data(path: Path | None) -> dict | None:
    if path is None or not path.is_file():
        return None
    data = load_yaml(path, InstructionError).data
    return data if isinstance(data, dict) else None


def _words_path(library: Library, language: str) -> Path:
    return library.table_path.with_name(f"{Path(TABLE_FILE).stem}.{language}.yaml")


def units_of(library: Library, english: InstructionSet, language: str) -> list[catalog.Unit]:
    """The units of ``english`` and of the medicine words in ``language``, with what is
    translated already."""
    old = _data(_translation_path(library, english.id, language))
    loaded = load_yaml(english.path, InstructionError)
    words = _data(_words_path(library, language))
    return catalog.set_units(english, loaded, old, texts) + catalog.medicine_units(
        library.medicine_table(), words
    )


def export(library: Library, set_id: str, language: str) -> polib.POFile:
    """A catalog of ``set_id``'s wording and the medicine words, for ``language``."""
    if language == "en":
        raise UsageError("--language: English is the source; name the language to translate into")
    english = library.get(set_id)
    old = _data(_translation_path(library, set_id, language)) or {}
    review = (old.get("translation") or {}).get("review") or {}
    header = {
        "Project-Id-Version": f"{set_id} {english.version}",
        "Language": language,
        "X-Pars-Docs-Set": set_id,
        "X-Pars-Docs-Review": str(review.get("status", "draft")),
    }
    return catalog.build(
        units_of(library, english, language), english.data, header, english.path.name
    )


def _put(data: dict, field: tuple, value: str) -> None:
    node: dict | list = data
    for key, following in zip(field, field[1:], strict=False):
        empty: dict | list = [] if isinstance(following, int) else {}
        if isinstance(node, list):
            while len(node) <= key:
                node.append(None)
            node[key] = node[key] if node[key] is not None else empty
            node = node[key]
        else:
            node = node.setdefault(key, empty)
    last = field[-1]
    if isinstance(node, list):
        while len(node) <= last:
            node.append(None)
    node[last] = value


class _TranslationDumper(yaml.SafeDumper):
    pass


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    """Names plain, long texts folded as the hand-written files have them, others quoted."""
    if _PLAIN.match(value):
        style = None
    elif len(value) > 70 and "\n" not in value and value == value.strip() and "  " not in value:
        style = ">"
    else:
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_TranslationDumper.add_representer(str, _str)


def _dump(data: dict) -> str:
    return yaml.dump(
        data,
        Dumper=_TranslationDumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
        default_flow_style=False,
    )


def hash_block(hashes: dict[str, str]) -> str:
    lines = [f'  "{key}": "{value}"' for key, value in hashes.items()]
    return "\n" + HASH_COMMENT + f"{HASHES}:\n" + "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _leading_comment(path: Path | None) -> str:
    if path is None or not path.is_file():
        return ""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


@dataclass(frozen=True)
class Written:
    """What an import wrote and what is still to translate."""

    files: list[Path]
    left: list[str]


def import_catalog(library: Library, po_path: Path, into: Path | None) -> Written:
    """Write the translation and medicine words a catalog holds into ``into`` (default: the
    folder of the existing translation, else of the English set). Texts the catalog leaves
    untranslated or fuzzy keep their old translation and its old hash."""
    try:
        head = polib.pofile(str(po_path), wrapwidth=0).metadata
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UsageError(f"{po_path}: not a PO catalog ({e})") from e
    set_id, language = head.get("X-Pars-Docs-Set", ""), head.get("Language", "")
    if not set_id or not language or language == "en":
        raise InstructionError(
            f"{po_path}: not a catalog from pars-docs translate export (no X-Pars-Docs-Set or "
            "Language in its header)"
        )
    english = library.get(set_id)
    units = units_of(library, english, language)
    got = catalog.read(po_path, units, {"X-Pars-Docs-Set": set_id, "Language": language})
    old_path = _translation_path(library, set_id, language)
    target = Path(into) if into else (old_path or english.path).parent
    written = []
    set_units = [u for u in units if not u.key.startswith(MEDICINE_PREFIX)]
    old = _data(old_path) or {}
    if any(u.key in got.texts for u in set_units) or old_path is None:
        text = _set_file(english, language, set_units, got.texts, old, old_path)
        path = target / f"{set_id}.{language}.yaml"
        _write(path, text)
        written.append(path)
    med_units = [u for u in units if u.key.startswith(MEDICINE_PREFIX)]
    if any(got.texts.get(u.key) not in (None, u.translated) for u in med_units):
        words_path = _words_path(library, language)
        text = _words_file(language, med_units, got.texts, _data(words_path) or {}, words_path)
        path = target / words_path.name
        _write(path, text)
        written.append(path)
    from ..load import library as library_module

    library_module._load_translation.cache_clear()
    library_module._medicine_words.cache_clear()
    return Written(written, got.left)


def _set_file(
    english: InstructionSet,
    language: str,
    units: list[catalog.Unit],
    new: dict[str, str],
    old: dict,
    old_path: Path | None,
) -> str:
    header = old.get("translation") or {}
    old_hashes = old.get(HASHES) or {}
    changed_text = any(new.get(u.key) not in (None, u.translated) for u in units)
    review = header.get("review") if not changed_text else None
    data: dict = {
        "id": english.id,
        "language": language,
        "translation": {"of": english.version, "review": review or {"status": "draft"}},
    }
    hashes: dict[str, str] = {}
    for field, text in texts(english.data, ()):
        key = unit_key(field)
        unit = next(u for u in units if u.key == key)
        if key in new:
            value, made = new[key], unit_hash(text)
        elif unit.translated:
            current = str(header.get("of")) == english.version
            value = unit.translated
            made = old_hashes.get(key) or (unit_hash(text) if current else "unknown")
        else:
            continue
        _put(data, catalog.field_of(key), value)
        hashes[key] = made
    comment = _leading_comment(old_path) or (
        f"# {language} wording of {english.path.name}, written by pars-docs translate import.\n"
        "# Same keys and items as the English set; see docs/translating.md.\n"
    )
    return comment + _dump(data) + hash_block(hashes)


def _words_file(
    language: str, units: list[catalog.Unit], new: dict[str, str], old: dict, old_path: Path
) -> str:
    entries = {name: dict(entry or {}) for name, entry in (old.get("medicines") or {}).items()}
    changed_text = any(new.get(u.key) not in (None, u.translated) for u in units)
    for unit in units:
        name, key = unit.key[len(MEDICINE_PREFIX) :].rsplit(".", 1)
        if unit.key not in new:
            continue
        entry = entries.setdefault(name, {})
        if key == "name" and new[unit.key] == unit.english:
            entry.pop("name", None)  # the same as the English: nothing to say
            continue
        entry[key] = new[unit.key]
        if key in ("note", "sedation_note"):
            entry["from" if key == "note" else "sedation_from"] = unit.english
    data: dict = {"language": language}
    data["review"] = (
        old.get("review") if not changed_text and old.get("review") else {"status": "draft"}
    )
    if old.get("verbs"):
        data["verbs"] = old["verbs"]
    order = ("name", "from", "note", "sedation_from", "sedation_note")
    data["medicines"] = {
        name: {k: entry[k] for k in order if k in entry} for name, entry in entries.items() if entry
    }
    comment = _leading_comment(old_path) or (
        f"# {language} words for the medicine table, written by pars-docs translate import.\n"
    )
    return comment + _dump(data)


def stamp(library: Library, path: Path) -> str:
    """Write the hash block of the translation at ``path``, made from the English version
    it names and current with it; returns what was done."""
    names = split_name(path)
    english_path, table_path = library.english_of(path)
    from ..load.library import _load_set

    english = _load_set(english_path, table_path)
    data = _data(path) or {}
    made_from = str((data.get("translation") or {}).get("of"))
    if made_from != english.version:
        raise InstructionError(
            f"{path}: made from English version {made_from}, not {english.version}: update it "
            "(export, translate the marked units, import) instead of stamping it"
        )
    hashes = {unit_key(field): unit_hash(text) for field, text in texts(english.data, ())}
    text = path.read_text(encoding="utf-8")
    kept = _HASH_BLOCK.sub("", text).rstrip("\n") + "\n"
    new = kept + hash_block(hashes)
    if new == text:
        return f"{path.name}: already stamped"
    _write(path, new)
    assert names is not None
    return f"{path.name}: stamped {len(hashes)} texts of {english.id} {english.version}"
