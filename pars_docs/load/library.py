"""Find, load and validate instruction sets.

A set is checked in two passes here, and every problem of a pass is reported together: the
JSON Schema (shape, unknown keys) and the cross-references (each number's source exists, ranges
run the right way). The third check, a dry run that composes every text for every visit option
(:mod:`pars_docs.compose.dry_run`), needs the planner and the composer, which read this module:
the engine, ``pars-docs check``, the tests and the build run it, never the loader.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from .. import startup_cache
from ..errors import InstructionError, ParsDocsError, UsageError, say
from ..resources import instructions_dir
from .checks import cross_checks, old_form
from .extend import MergedYAML, merge, overlay_texts
from .loader import LoadedYAML, format_field, load_yaml
from .medicines import TABLE_FILE, MedicineTable, load_medicine_table
from .structure import FORMAT, SCHEMA_FILE
from .structure import texts as _schema_texts
from .translations import (
    HASHES,
    MedicineWords,
    Translation,
    changed_units,
    hash_problems,
    load_translation,
    medicine_words,
    review_note,
    review_of,
    split_name,
    unit_key,
)
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
    extension: Extension | None = None  # set for a clinic's changes to a built-in set
    # For a clinic's changes to a built-in set, in any language: that set's id and version.
    based_on: tuple[str, str] | None = None

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


@dataclass(frozen=True)
class Extension:
    """A clinic's set that extends a built-in one (see load/extend.py)."""

    base: InstructionSet  # the built-in set, as shipped
    changes: tuple[str, ...]  # what the clinic changed, one line each, for `check`
    texts: tuple[tuple[tuple, str], ...]  # the wording the clinic wrote: to translate
    overlay: dict  # the clinic's file as written
    loaded: LoadedYAML  # the merged set, with the clinic file's lines


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


def _stamp(path: Path) -> tuple[int, int]:
    """What tells a file's new content from its old without reading it."""
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def _load_set(path: Path, table_path: Path) -> InstructionSet:
    """The set in ``path``, checked; loaded again when the file (or, for a clinic's changes,
    the built-in set) has changed since, so a running desk sees an edit."""
    return _load_set_at(path, table_path, _stamp(path), _stamp(table_path))


@lru_cache(maxsize=64)
def _load_set_at(
    path: Path, table_path: Path, stamp: tuple[int, int], table_stamp: tuple[int, int]
) -> InstructionSet:
    loaded = load_yaml(path, InstructionError)
    table = _table(table_path)
    extension = None
    problems: list[str] = []
    contents = [loaded.text, table.text]
    if isinstance(loaded.data, dict) and "extends" in loaded.data:
        if loaded.data.get("format") != FORMAT:
            raise InstructionError("\n".join(old_form(loaded)))
        extension, problems = _extend(loaded, table_path)
        loaded = extension.loaded
        contents.append(load_yaml(extension.base.path, InstructionError).text)
    # A set that passed before, unchanged, under the same file name, with the same medicine
    # table and the same pars-docs, is not checked again (see startup_cache.py).
    check = startup_cache.key("instruction set", path.name, *contents)
    known_good = startup_cache.passed(check)
    if not known_good:
        if not isinstance(loaded.data, dict) or loaded.data.get("format") != FORMAT:
            raise InstructionError("\n".join(old_form(loaded)))
        problems += schema_problems(loaded, instructions_dir() / SCHEMA_FILE)
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
        extension=extension,
        based_on=(extension.base.id, extension.base.version) if extension else None,
    )
    if not known_good:
        startup_cache.remember(check)
    return iset


def _extend(clinic: LoadedYAML, table_path: Path) -> tuple[Extension, list[str]]:
    """The built-in set ``clinic`` extends with the clinic's changes laid over it; the
    problems the changes have of themselves (the merged set is checked as any set is)."""
    data = clinic.data
    wanted = data.get("extends")
    if not (
        isinstance(wanted, dict)
        and set(wanted) == {"set", "version"}
        and all(isinstance(v, str) for v in wanted.values())
    ):
        raise InstructionError(
            problem(
                clinic,
                ("extends",),
                'give extends: {set: BUILT-IN SET ID, version: "ITS VERSION"}, the version '
                "your changes were made to",
            )
        )
    base_path = instructions_dir() / f"{wanted['set']}.yaml"
    builtin = sorted(
        p.stem
        for p in instructions_dir().glob("*.yaml")
        if p.name not in NOT_SETS and split_name(p) is None
    )
    if wanted["set"] not in builtin:
        raise InstructionError(
            problem(
                clinic,
                ("extends", "set"),
                f"no built-in set '{wanted['set']}' (built-in: {', '.join(builtin)})",
            )
        )
    base = _load_set(base_path.resolve(), table_path)
    merged = merge(base.data, data, clinic)
    problems = list(merged.problems)
    if wanted["version"] != base.version:
        problems.append(
            problem(
                clinic,
                ("extends", "version"),
                f"your changes were made to version {wanted['version']} of {base.id}; the "
                f"built-in set is now version {base.version}. Read what changed in it, check "
                f'that your changes still fit, then write version: "{base.version}" here',
            )
        )
    if data.get("language", base.language) != base.language:
        problems.append(
            problem(clinic, ("language",), f"must be '{base.language}', the built-in set's")
        )
    for key in ("format", "id", "version", "reviewed"):
        if key in data:
            merged.data[key] = data[key]
        else:
            merged.data.pop(key, None)  # the schema says it is missing
    extension = Extension(
        base=base,
        changes=tuple(merged.changes),
        texts=tuple(overlay_texts(data)),
        overlay=data,
        loaded=MergedYAML(merged, clinic),
    )
    return extension, problems


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

    def __init__(self, override: Path | None = None, reviews: tuple = ()):
        self.dirs = [d for d in (override, instructions_dir()) if d]
        self.reviews = reviews  # the site's own reviews of languages (Site.translation_reviews)
        self._found: dict[str, Path] | None = None
        self._translated: dict[str, dict[str, Path]] = {}
        # Translations in each folder: folder → set id → language → file.
        self._in_folder: dict[Path, dict[str, dict[str, Path]]] = {}
        # A clinic's set that extends a built-in one: id → (the built-in id, whether the
        # clinic wrote wording of its own, which then needs its own translations).
        self._extended: dict[str, tuple[str, bool]] = {}
        self.outside: list[Path] = []  # links in a folder to files outside it, not read
        self._table: Path | None = None

    def _files(self) -> dict[str, Path]:
        """Set id → file, the site's folder winning; listed once per Library."""
        if self._found is not None:
            return self._found
        # Built aside and put in place at the end: the desk's threads read a library while
        # one of them reads its folders again (refresh).
        found: dict[str, Path] = {}
        translated: dict[str, dict[str, Path]] = {}
        in_folder: dict[Path, dict[str, dict[str, Path]]] = {}
        extended: dict[str, tuple[str, bool]] = {}
        outside: list[Path] = []
        for folder in reversed(self.dirs):
            inside = folder.resolve()
            here = in_folder.setdefault(inside, {})
            for path in sorted(folder.glob("*.yaml")):
                if path.name in NOT_SETS:
                    continue
                if not path.resolve().is_relative_to(inside):
                    # A link out of the folder could make a handout of any file at all.
                    outside.append(path)
                    continue
                names = split_name(path)
                if names is None:
                    found[path.stem] = path.resolve()
                elif names[0] != Path(TABLE_FILE).stem:
                    translated.setdefault(names[0], {})[names[1]] = path.resolve()
                    here.setdefault(names[0], {})[names[1]] = path.resolve()
        builtin = instructions_dir().resolve()
        for set_id, path in found.items():
            if path.parent == builtin:
                continue
            try:
                data = load_yaml(path, InstructionError).data
            except ParsDocsError:
                continue  # get() reports it
            wanted = data.get("extends") if isinstance(data, dict) else None
            if isinstance(wanted, dict) and isinstance(wanted.get("set"), str):
                extended[set_id] = (wanted["set"], any(True for _ in overlay_texts(data)))
        self._in_folder, self._extended, self.outside = in_folder, extended, outside
        self._translated = translated
        self._found = dict(sorted(found.items()))
        return self._found

    def refresh(self) -> None:
        """Read the folders again: a set or translation added, removed or renamed since."""
        self._found = None
        self._table = None

    def _translations_in(self, folder: Path, set_id: str) -> dict[str, Path]:
        self._files()
        return self._in_folder.get(folder.resolve(), {}).get(set_id, {})

    def _own_translations(self, set_id: str) -> dict[str, Path]:
        """A clinic's translations of ``set_id``, in its own folder."""
        if len(self.dirs) < 2:
            return {}
        return self._translations_in(self.dirs[0], set_id)

    def needs_translation(self, set_id: str) -> dict[str, list[tuple]]:
        """For a clinic's set that extends a built-in one: each language the built-in set has
        that the clinic's wording has no translation in yet, with the fields to translate."""
        english = self.get(set_id)
        if english.extension is None or not english.extension.texts:
            return {}
        base = self._translations_in(instructions_dir(), english.extension.base.id)
        own = self._own_translations(set_id)
        fields = [field for field, _ in english.extension.texts]
        return {language: fields for language in sorted(base) if language not in own}

    def ids(self) -> list[str]:
        return list(self._files())

    def translation_files(self) -> list[tuple[str, str, Path]]:
        """Every (set id, language, file) of a translation, including orphans whose English
        set is missing (``check`` reports them)."""
        self._files()
        found = [
            (set_id, language, path)
            for set_id, by_language in sorted(self._translated.items())
            if set_id not in self._extended
            for language, path in sorted(by_language.items())
        ]
        # A clinic's set that extends a built-in one: its own translations of what it wrote,
        # and the built-in ones where it wrote nothing that needs one.
        for set_id, (base_id, wrote) in sorted(self._extended.items()):
            languages = dict(self._own_translations(set_id))
            if not wrote:
                for language, path in self._translations_in(instructions_dir(), base_id).items():
                    languages.setdefault(language, path)
            found += [(set_id, language, path) for language, path in sorted(languages.items())]
        return sorted(found)

    def languages(self, set_id: str) -> list[str]:
        """The languages ``set_id`` can be printed in: its own and its translations'."""
        english = self.get(set_id)
        if english.extension is not None:
            base = self._translations_in(instructions_dir(), english.extension.base.id)
            missing = self.needs_translation(set_id)
            return sorted({english.language, *(lang for lang in base if lang not in missing)})
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
                say(
                    "procedure: unknown procedure '{set_id}'; known: {known}",
                    words={"known": ", ".join(files) or "(none)"},
                    set_id=set_id,
                ),
                field="procedure",
            )
        english = _load_set(files[set_id], self.table_path)
        if language in (None, english.language):
            return english
        if english.extension is not None:
            return self._extended_translation(english, language)
        path = self._translated.get(set_id, {}).get(language)
        if path is None:
            raise UsageError(
                f"language: '{language}' is not available for {set_id}; available: "
                f"{', '.join(self.languages(set_id))}",
                field="language",
            )
        return _load_translation(path, files[set_id], self.table_path)

    def _extended_translation(self, english: InstructionSet, language: str) -> InstructionSet:
        """A clinic's set that extends a built-in one, in ``language``: the built-in
        translation, with the clinic's own translation of what it wrote laid over it."""
        assert english.extension is not None
        base = self._translations_in(instructions_dir(), english.extension.base.id)
        own = self._own_translations(english.id).get(language)
        if language not in base or (english.extension.texts and own is None):
            why = (
                f"the clinic's changes to {english.id} have no '{language}' translation yet "
                "(pars-docs check names the words to translate); "
                if language in base
                else ""
            )
            raise UsageError(
                f"language: '{language}' is not available for {english.id}; {why}available: "
                f"{', '.join(self.languages(english.id))}",
                field="language",
            )
        return _load_extended_translation(
            english.path, base[language], own, self.table_path, _stamp(own) if own else (0, 0)
        )

    def changes(self, iset: InstructionSet) -> list[str]:
        """What ``pars-docs check`` lists under a clinic's set that extends a built-in one:
        each change, then each string that still needs a translation, by language."""
        if iset.extension is None:
            return []
        lines = list(iset.extension.changes)
        if self._files().get(iset.id) == iset.path:
            for language, fields in self.needs_translation(iset.id).items():
                lines += [f"needs a translation ({language}): {format_field(f)}" for f in fields]
        return lines

    @staticmethod
    def describe(iset: InstructionSet) -> str:
        extends = ""
        if iset.extension is not None:
            base = iset.extension.base
            extends = f", the clinic's changes to built-in {base.id} {base.version}"
        if iset.translation:
            return f"{iset.id} {iset.version} {iset.language}{extends}"
        return f"{iset.id} {iset.version}{extends}"

    def english_of(self, path: Path) -> tuple[Path, Path]:
        """The English set a translation file translates, and the medicine table to read it
        with: the set beside the file if there is one (a clinic folder checked without
        ``--site``), else this library's (the site's folder, then the built-ins)."""
        names = split_name(path)
        beside = Path(path).parent / f"{names[0]}.yaml" if names else None
        if beside is not None and beside.is_file() and beside.resolve() != Path(path).resolve():
            table = Path(path).parent / TABLE_FILE
            return beside.resolve(), (table if table.is_file() else self.table_path).resolve()
        files = self._files()
        if names is None or names[0] not in files:
            raise InstructionError(
                f"{path}: no English instruction set '{names[0] if names else Path(path).stem}' "
                "to translate (looked beside it, in the site's instructions folder and among "
                "the built-in sets)"
            )
        return files[names[0]], self.table_path

    def check_translation(self, path: Path) -> tuple[InstructionSet, list[str]]:
        """Load a translation file wherever it is, with its English set (see
        :meth:`english_of`); returns the set and the notes ``check`` prints (draft, review),
        raising for problems, staleness included.

        A translation that keeps the hash of each English text it was made from (see
        translations.HASHES) is stale only in the texts whose English has changed, whatever
        the versions say; the same change under an unchanged English version is an error in
        the English set. One without hashes is stale when its ``of`` is not the English
        version."""
        names = split_name(path)
        english_path, table_path = self.english_of(path)
        assert names is not None  # english_of found the set by the file's name
        in_library = self._files().get(names[0]) == english_path
        english = self.get(names[0]) if in_library else _load_set(english_path, table_path)
        version, english_name, english_data = english.version, english.path, english.data
        if english.extension is not None and Path(path).resolve() != self._own_translations(
            english.id
        ).get(names[1]):
            # The built-in translation the clinic's set uses as it is.
            base = english.extension.base
            version, english_name, english_data = base.version, base.path, base.data
        loaded = load_yaml(Path(path), InstructionError)
        data = loaded.data if isinstance(loaded.data, dict) else {}
        header = data.get("translation")
        made_from = str(header.get("of")) if isinstance(header, dict) else None
        changed = changed_units(data, english_data, texts) if not hash_problems(loaded) else []
        stale: list[str] = []
        if data.get(HASHES) and made_from == version and changed:
            stale = [
                f"{english_name}: {unit_key(field)}: the English wording changed but the set's "
                f"version is still {version} ({Path(path).name} was translated from other "
                f"wording at {version}); raise the version"
                for field, _ in changed
            ]
        elif data.get(HASHES):
            stale = [
                problem(
                    loaded,
                    field[:-1] if field[-1] == "text" else field,
                    "stale: the English text has changed since this was translated (now: "
                    f"'{' '.join(text.split())[:60]}'); translate it again (pars-docs "
                    "translate export marks it), or, if the translation was updated by hand, "
                    "record that with pars-docs translate stamp",
                )
                for field, text in changed
            ]
        elif made_from not in (None, version):
            stale = [
                problem(
                    loaded,
                    ("translation", "of"),
                    f"stale: made from English version {made_from}; {english_name.name} is now "
                    f"version {version}. Update the translation, then its 'of'",
                )
            ]
        try:
            if english.extension is not None:
                iset = self.get(names[0], names[1])
            else:
                iset = _load_translation(Path(path).resolve(), english_path, table_path)
        except InstructionError as e:
            if stale:  # say why it no longer matches before what no longer matches
                raise InstructionError("\n".join([*stale, str(e)])) from e
            raise
        translation = iset.translation
        assert translation is not None  # a translation always carries its header
        if stale:
            raise InstructionError("\n".join(stale))
        return iset, [review_note(translation, self.reviews)]

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
        review = review_of(words.status, "", "", language, self.reviews)
        status = "reviewed by the clinic" if review.by_site else words.status
        return f"medicine words {language} ({status})"

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
        iset = self.load_file(path)
        return "\n".join([self.describe(iset), *self.changes(iset)])

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


@lru_cache(maxsize=32)
def _load_extended_translation(
    english_path: Path,
    base_path: Path,
    own_path: Path | None,
    table_path: Path,
    own_stamp: tuple[int, int],
) -> InstructionSet:
    """A clinic's set that extends a built-in one, in the language of ``base_path`` (the
    built-in translation): the clinic's changes laid over that translation, the words it
    wrote from ``own_path`` (its translation of them; ``None`` when it wrote none)."""
    english = _load_set(english_path, table_path)
    extension = english.extension
    assert extension is not None
    base = _load_translation(base_path, extension.base.path, table_path)
    assert base.translation is not None
    language = base.language
    overlay = extension.overlay
    translation = base.translation
    if own_path is not None:
        own = load_translation(
            own_path, _Shim(english.id, english.path, overlay), lambda d, f: overlay_texts(d)
        )
        overlay = own.data
        status = "draft" if "draft" in (own.status, base.translation.status) else own.status
        translation = replace(own, status=status)
    merged = merge(base.data, overlay, extension.loaded, english=extension.base.data)
    if merged.problems:
        raise InstructionError("\n".join(merged.problems))
    data = merged.data
    for key in ("format", "id", "version", "reviewed"):
        data[key] = english.data[key]
    data["language"] = language
    return InstructionSet(
        id=english.id,
        title=data["title"],
        version=english.version,
        reviewed=english.reviewed,
        language=language,
        bleeding_risk=english.bleeding_risk,
        data=data,
        path=own_path or base_path,
        translation=replace(translation, data=data),
        based_on=english.based_on,
    )


@dataclass(frozen=True)
class _Shim:
    """What a translation is checked against: a clinic's file of changes, as its English."""

    id: str
    path: Path
    data: dict


@lru_cache(maxsize=8)
def _medicine_words(table_path: Path, language: str) -> MedicineWords:
    return medicine_words(table_path, language)


@lru_cache(maxsize=8)
def _table(path: Path) -> MedicineTable:
    return load_medicine_table(path)
