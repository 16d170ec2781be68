"""Find, load and validate instruction sets.

A set is checked in two passes here, and every problem of a pass is reported together: the
JSON Schema (shape, unknown keys) and the cross-references (each number's source exists, ranges
run the right way). The third check, a dry run that composes every text for every visit option
(:mod:`pars_docs.compose.dry_run`), needs the planner and the composer, which read this module:
the engine, ``pars-docs check``, the tests and the build run it, never the loader.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import checked
from ..errors import InstructionError, UsageError
from ..resources import instructions_dir
from .checks import cross_checks, old_form
from .loader import load_yaml
from .medicines import TABLE_FILE, MedicineTable, load_medicine_table
from .structure import FORMAT, SCHEMA_FILE
from .structure import texts as _schema_texts
from .translations import MedicineWords, Translation, load_translation, medicine_words, split_name
from .validate import problem, schema_problems

NOT_SETS = {TABLE_FILE, "default-site.yaml", "site.yaml"}


@dataclass(frozen=True)
class InstructionSet:
    """A validated instruction set."""

    id: str
    title: str
    version: str
    reviewed: str
    language: str
    bleeding_risk: str
    data: dict
    path: Path
    translation: Translation | None = None  # set for a translation of an English set

    @property
    def codes(self) -> list[dict]:
        return self.data.get("codes", [])

    @property
    def sources(self) -> list[dict]:
        return self.data["sources"]

    @property
    def group(self) -> str | None:
        """The group staff find the set under (``group:`` in its YAML), if it names one."""
        group = self.data.get("group")
        return str(group) if group else None

    @property
    def options(self) -> list[dict]:
        """The options the set declares, in the order written: name, label (the set's own
        words for staff, else the name), default and whether it is fixed."""
        return [
            {
                "name": name,
                "label": str(option.get("label") or name),
                "default": bool(option.get("default")),
                "fixed": bool(option.get("fixed", False)),
            }
            for name, option in (self.data.get("options") or {}).items()
        ]


def by_group(sets: list[InstructionSet]) -> list[tuple[str | None, list[InstructionSet]]]:
    """``sets`` under the groups their YAML declares, groups in alphabetical order, sets in
    the order given; sets that name no group come last, under ``None``."""
    groups: dict[str | None, list[InstructionSet]] = {}
    for iset in sets:
        groups.setdefault(iset.group, []).append(iset)
    return sorted(groups.items(), key=lambda item: group_order(item[0]))


def group_order(group: str | None) -> tuple[bool, str]:
    """Where a group comes in a list of groups: alphabetical, no group last."""
    return (group is None, (group or "").casefold())


def texts(value, field: tuple = ()):
    """Every (field, text) pair of wording in an instruction set (see structure.texts)."""
    return _schema_texts(value, field)


def _by_line(problems: list[str]) -> list[str]:
    """Problems in the order of their lines in the file, each once."""

    def line(text: str) -> int:
        parts = text.split(":", 2)
        return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0

    return sorted(dict.fromkeys(problems), key=line)


@lru_cache(maxsize=32)
def _load_set(path: Path, table_path: Path) -> InstructionSet:
    loaded = load_yaml(path, InstructionError)
    table = _table(table_path)
    # A set that passed before, unchanged, under the same file name, with the same medicine
    # table and the same pars-docs, is not checked again (see checked.py).
    check = checked.key("instruction set", path.name, loaded.text, table.text)
    known_good = checked.passed(check)
    if not known_good:
        if not isinstance(loaded.data, dict) or loaded.data.get("format") != FORMAT:
            raise InstructionError("\n".join(old_form(loaded)))
        problems = schema_problems(loaded, instructions_dir() / SCHEMA_FILE)
        # Every problem at once: the later checks run on what the schema let through.
        try:
            problems += cross_checks(loaded, table)
        except (TypeError, AttributeError, KeyError, ValueError):
            # A part of a type the checks cannot read: the schema has named it already.
            if not problems:
                raise

        if problems:
            raise InstructionError("\n".join(_by_line(problems)))
    data = loaded.data
    iset = InstructionSet(
        id=data["id"],
        title=data["title"],
        version=str(data["version"]),
        reviewed=data["reviewed"],
        language=data["language"],
        bleeding_risk=data["bleeding_risk"],
        data=data,
        path=path,
    )
    if not known_good:
        checked.remember(check)
    return iset


@lru_cache(maxsize=32)
def _load_translation(path: Path, english_path: Path, table_path: Path) -> InstructionSet:
    """A translation merged with its English set, checked like a set."""
    english = _load_set(english_path, table_path)
    translation = load_translation(path, english, texts)
    data = translation.data
    iset = InstructionSet(
        id=english.id,
        title=data["title"],
        version=english.version,
        reviewed=english.reviewed,
        language=translation.language,
        bleeding_risk=english.bleeding_risk,
        data=data,
        path=path,
        translation=translation,
    )
    return iset


class Library:
    """The instruction sets a site can use: its own folder first, then the built-ins.

    A set's translations sit beside it as ``ID.LANG.yaml`` (see load/translations.py); a site's
    folder may add translations of built-in sets as well as its own sets."""

    def __init__(self, override: Path | None = None):
        self.dirs = [d for d in (override, instructions_dir()) if d]
        self._found: dict[str, Path] | None = None
        self._translated: dict[str, dict[str, Path]] = {}
        self.outside: list[Path] = []  # links in a folder to files outside it, not read
        self._table: Path | None = None

    def _files(self) -> dict[str, Path]:
        """Set id → file, the site's folder winning; listed once per Library."""
        if self._found is not None:
            return self._found
        found: dict[str, Path] = {}
        translated: dict[str, dict[str, Path]] = {}
        for folder in reversed(self.dirs):
            inside = folder.resolve()
            for path in sorted(folder.glob("*.yaml")):
                if path.name in NOT_SETS:
                    continue
                if not path.resolve().is_relative_to(inside):
                    # A link out of the folder could make a handout of any file at all.
                    self.outside.append(path)
                    continue
                names = split_name(path)
                if names is None:
                    found[path.stem] = path.resolve()
                elif names[0] != Path(TABLE_FILE).stem:
                    translated.setdefault(names[0], {})[names[1]] = path.resolve()
        self._found = dict(sorted(found.items()))
        self._translated = translated
        return self._found

    def ids(self) -> list[str]:
        return list(self._files())

    def translation_files(self) -> list[tuple[str, str, Path]]:
        """Every (set id, language, file) of a translation, including orphans whose English
        set is missing (``check`` reports them)."""
        self._files()
        return [
            (set_id, language, path)
            for set_id, by_language in sorted(self._translated.items())
            for language, path in sorted(by_language.items())
        ]

    def languages(self, set_id: str) -> list[str]:
        """The languages ``set_id`` can be printed in: its own and its translations'."""
        english = self.get(set_id)
        return sorted({english.language, *self._translated.get(set_id, {})})

    def all_languages(self) -> list[str]:
        """Every language some set can be printed in."""
        files = self._files()
        found = {"en"} if files else set()
        for by_language in self._translated.values():
            found.update(by_language)
        return sorted(found)

    @property
    def table_path(self) -> Path:
        if self._table is not None:
            return self._table
        for folder in self.dirs:
            if (folder / TABLE_FILE).is_file():
                self._table = (folder / TABLE_FILE).resolve()
                return self._table
        raise InstructionError(f"no {TABLE_FILE} found")

    def medicine_table(self) -> MedicineTable:
        return _table(self.table_path)

    def medicine_words(self, language: str) -> MedicineWords:
        """The medicine notes and plain-word names in ``language``."""
        return _medicine_words(self.table_path, language)

    def get(self, set_id: str, language: str | None = None) -> InstructionSet:
        """The set called ``set_id``, in ``language`` (an exact code from
        :meth:`languages`; default its own); a :class:`UsageError` naming the known ids or
        languages if there is none."""
        files = self._files()
        if set_id not in files:
            raise UsageError(
                f"procedure: unknown procedure '{set_id}'; known: {', '.join(files) or '(none)'}",
                field="procedure",
            )
        english = _load_set(files[set_id], self.table_path)
        if language in (None, english.language):
            return english
        path = self._translated.get(set_id, {}).get(language)
        if path is None:
            raise UsageError(
                f"language: '{language}' is not available for {set_id}; available: "
                f"{', '.join(self.languages(set_id))}",
                field="language",
            )
        return _load_translation(path, files[set_id], self.table_path)

    @staticmethod
    def describe(iset: InstructionSet) -> str:
        if iset.translation:
            return f"{iset.id} {iset.version} {iset.language}"
        return f"{iset.id} {iset.version}"

    def check_translation(self, path: Path) -> tuple[InstructionSet, list[str]]:
        """Load a translation file wherever it is, with its English set from this library;
        returns the set and the notes ``check`` prints (draft), raising for problems,
        staleness included."""
        names = split_name(path)
        files = self._files()
        if names is None or names[0] not in files:
            raise InstructionError(
                f"{path}: no English instruction set '{names[0] if names else Path(path).stem}' "
                "to translate"
            )
        english = self.get(names[0])
        loaded = load_yaml(Path(path), InstructionError)
        header = loaded.data.get("translation") if isinstance(loaded.data, dict) else None
        made_from = str(header.get("of")) if isinstance(header, dict) else None
        stale = (
            problem(
                loaded,
                ("translation", "of"),
                f"stale: made from English version {made_from}; {english.path.name} is now "
                f"version {english.version}. Update the translation, then its 'of'",
            )
            if made_from not in (None, english.version)
            else None
        )
        try:
            iset = _load_translation(Path(path).resolve(), files[names[0]], self.table_path)
        except InstructionError as e:
            if stale:  # say why it no longer matches before what no longer matches
                raise InstructionError(f"{stale}\n{e}") from e
            raise
        translation = iset.translation
        assert translation is not None  # a translation always carries its header
        if stale:
            raise InstructionError(stale)
        notes = []
        if translation.status == "draft":
            notes.append("draft translation, not yet reviewed by a clinician")
        return iset, notes

    def check_medicine_words(self, language: str, path: Path | None = None) -> str:
        """Check the medicine words of ``language`` (from ``path``, else this library's)
        against this library's medicine table."""
        words = (
            MedicineWords(load_yaml(Path(path), InstructionError), language)
            if path
            else self.medicine_words(language)
        )
        problems = words.problems(self.medicine_table())
        if problems:
            raise InstructionError("\n".join(problems))
        return f"medicine words {language} ({words.status})"

    def check_file(self, path: Path) -> str:
        """Validate any pars-docs YAML file as what it holds: a medicine table, a site
        profile or an instruction set. Returns a short description of it."""
        from .site import load_site

        data = load_yaml(Path(path), InstructionError).data
        keys = data if isinstance(data, dict) else {}
        if not {"medicines", "clinic", "id", "timing", "translation"} & set(keys):
            # Say nothing of what it holds: it may be any file at all (/etc/passwd).
            raise InstructionError(
                f"{path}: not an instruction set, medicine table or site profile"
            )
        if "translation" in keys:
            iset, notes = self.check_translation(Path(path))
            return "; ".join([self.describe(iset), *notes])
        if "medicines" in keys and "sources" not in keys:
            return self.check_medicine_words(str(keys.get("language")), Path(path))
        if "medicines" in keys:
            table = load_medicine_table(Path(path))
            return f"medicine table, {len(table.medicines)} medicines"
        if "clinic" in keys:
            return f"site profile, {load_site(path).timezone}"
        return self.describe(self.load_file(path))

    def set_in_file(self, path: Path) -> InstructionSet | None:
        """The instruction set or translation ``path`` holds, loaded and checked as
        :meth:`check_file` checks it; ``None`` for a medicine table or a site profile."""
        data = load_yaml(Path(path), InstructionError).data
        keys = data if isinstance(data, dict) else {}
        if "translation" in keys:
            return self.check_translation(Path(path))[0]
        if "medicines" in keys or "clinic" in keys:
            return None
        return self.load_file(path)

    def load_file(self, path: Path) -> InstructionSet:
        """Validate one file, wherever it is (for ``pars-docs check``)."""
        return _load_set(Path(path).resolve(), self.table_path.resolve())


@lru_cache(maxsize=8)
def _medicine_words(table_path: Path, language: str) -> MedicineWords:
    return medicine_words(table_path, language)


@lru_cache(maxsize=8)
def _table(path: Path) -> MedicineTable:
    return load_medicine_table(path)
