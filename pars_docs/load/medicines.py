"""The medicine table: which medicines pause before a procedure, and for how long.

The table is YAML a clinic can edit. Each medicine lists its generic name, brand names and
RxNorm code and, for each bleeding-risk level, either a pause (whole days with no dose before
the procedure day, and the day after it to restart) or an action: keep taking it, or ask the
prescriber. A visit names a medicine by generic name, brand or RxCUI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import startup_cache
from ..errors import InstructionError, UsageError
from ..resources import instructions_dir
from .loader import load_yaml
from .validate import facts_mention, problem, schema_problems

TABLE_FILE = "medicines.yaml"

# What people type after a medicine's name ("eliquis 5mg", "Plavix 75 mg", "metformin ER
# 500"): strengths, units and release or form words. They are read past, never printed.
_STRENGTH = re.compile(
    r"^(?:\d+(?:[.,]\d+)?(?:/\d+(?:[.,]\d+)?)?)?"
    r"(?:mg|mcg|µg|ug|g|ml|units?|iu|u|%|mg/ml|units/ml)?$"
)
_RELEASE = frozenset(
    "er xr sr xl dr cr la ec ir odt hcl mg mcg ml units unit iu daily once twice weekly "
    "extended-release delayed-release extended release delayed".split()
)
# A form word typed with the name says how it is taken, over the table's own form.
# The classes of the medicine table (its schema's enum): the wording tests ``takes.CLASS``.
CLASSES = (
    "anticoagulant",
    "antiplatelet",
    "nsaid",
    "supplement",
    "glp1",
    "sglt2",
    "diabetes",
    "other",
)
FORM_WORDS = {
    "tablet": "pill", "tablets": "pill", "tab": "pill", "tabs": "pill", "pill": "pill",
    "pills": "pill", "capsule": "pill", "capsules": "pill", "cap": "pill", "caps": "pill",
    "injection": "injection", "injections": "injection", "shot": "injection",
    "shots": "injection", "pen": "injection", "pens": "injection", "injectable": "injection",
    "gel": "topical", "cream": "topical", "patch": "topical", "patches": "topical",
    "ointment": "topical", "topical": "topical",
}  # fmt: skip
FORMS = ("pill", "injection", "topical")


@dataclass(frozen=True)
class Medicine:
    """One row of the table."""

    name: str
    brands: tuple[str, ...]
    kind: str
    note: str
    pause: dict  # risk level -> {stop_days_before, restart_days_after, source} | {action, source}
    rxcui: str | None = None
    cls: str = "other"  # anticoagulant, antiplatelet, nsaid, supplement, glp1, sglt2, ...
    concern: str = "none"  # bleeding, slow_stomach, diabetes or none
    sedation_note: str = ""
    form: str = "pill"  # pill, injection or topical: how it is taken
    brand_forms: dict = field(default_factory=dict, compare=False)  # brand -> form

    def form_of(self, alias: str) -> str:
        """How the medicine is taken when called ``alias`` (Rybelsus: a pill)."""
        return self.brand_forms.get(alias, self.form)


@dataclass(frozen=True)
class Reading:
    """A medicine as typed: the table's row, the name as the table spells it, the form it
    is taken in, and the words read past (a dose, a release or form word), if any."""

    medicine: Medicine
    name: str
    form: str
    dropped: str = ""


def dose_words(name: str) -> tuple[str, str, str]:
    """``name`` without what follows a medicine's name when typed with its dose or form:
    (the name, the words read past, the form a typed form word names or "")."""
    spaced = re.sub(r"(?<=[a-zA-Z])(?=\d)|(?<=\d)(?=[a-zA-Zµ%])", " ", name)
    kept, dropped, form = [], [], ""
    for word in spaced.split():
        folded = word.casefold().strip(",;()")
        if folded in FORM_WORDS:
            form = form or FORM_WORDS[folded]
            dropped.append(word)
        elif folded in _RELEASE or (folded and _STRENGTH.match(folded) and folded[0].isdigit()):
            dropped.append(word)
        elif dropped and folded in ("mg", "mcg", "ml", "iu", "units", "unit", "%"):
            dropped.append(word)
        else:
            kept.append(word)
    return " ".join(kept), " ".join(dropped), form


class MedicineTable:
    """Look medicines up by generic or brand name, ignoring case and spacing."""

    def __init__(self, medicines: list[Medicine], sources: list[dict], path: Path, text: str = ""):
        self.medicines = medicines
        self.sources = sources
        self.path = path
        self.text = text  # the file as read, which a set's check depends on
        self._index = {}
        for med in medicines:
            for alias in (med.name, *med.brands):
                self._index[_key(alias)] = (med, alias)
        self._codes = {med.rxcui: med for med in medicines if med.rxcui}

    def known_names(self) -> list[str]:
        return [
            f"{m.name} ({', '.join(m.brands)})" if m.brands else m.name
            for m in sorted(self.medicines, key=lambda m: m.name)
        ]

    def closest(self, name: str, n: int = 3) -> list[str]:
        """The known names nearest to ``name``, best first, spelt as the table spells them."""
        import difflib  # only for a name the table does not know

        base = dose_words(name)[0] or name
        close = difflib.get_close_matches(_key(base), list(self._index), n=n, cutoff=0.6)
        return [self._index[key][1] for key in close]

    def unknown_message(self, name: str, shown: str | None = None) -> str:
        """One line naming an unknown medicine (as ``shown``, if given, instead of the name:
        "…" keeps what a row holds out of a log) and the closest known names, which are the
        table's own."""
        close = self.closest(name)
        hint = f" Closest known names: {', '.join(close)}." if close else ""
        return f"medication: unknown medicine '{name if shown is None else shown}'.{hint}"

    def find(self, name: str) -> tuple[Medicine, str] | None:
        """The medicine called ``name`` (generic, brand or RxCUI) and the name as the table
        spells it ("advil" → "Advil"; "1364430" → "apixaban"); None if it is not known."""
        found = self._index.get(_key(name))
        if found:
            return found
        code = name.strip().removeprefix("rxcui:").strip()
        if code.isdigit() and code in self._codes:
            med = self._codes[code]
            return med, med.name
        return None

    def read(self, name: str) -> Reading | None:
        """:meth:`find`, and if the name is not known as typed, the name read without its dose
        or form words ("eliquis 5mg" → Eliquis, "metformin ER 500" → metformin)."""
        found = self.find(name)
        if found:
            med, alias = found
            return Reading(med, alias, med.form_of(alias))
        base, dropped, form = dose_words(name)
        found = self.find(base) if base and dropped else None
        if not found:
            return None
        med, alias = found
        return Reading(med, alias, form or med.form_of(alias), dropped)

    def lookup(self, name: str) -> tuple[Medicine, str]:
        """The medicine and its table spelling (as :meth:`find`, with a dose read past), or a
        :class:`UsageError` naming the closest known names."""
        found = self.must_read(name)
        return found.medicine, found.name

    def must_read(self, name: str) -> Reading:
        """:meth:`read`, or a :class:`UsageError` naming the closest known names."""
        found = self.read(name)
        if found:
            return found
        fix = (
            f" A clinic can add it to {self.path.name}, or set unknown_medicines: ask in the "
            "site profile."
        )
        # What a row's medicine column holds may be anything, a name among it.
        raise UsageError(
            self.unknown_message(name) + fix,
            field="medication",
            redacted=self.unknown_message(name, "…") + fix,
        )


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


def load_medicine_table(path: Path) -> MedicineTable:
    """Load and validate a medicine table, reporting every problem at once."""
    loaded = load_yaml(path, InstructionError)
    check = startup_cache.key("medicine table", loaded.text)
    # Unchanged since it last passed (see startup_cache.py).
    known_good = startup_cache.passed(check)
    problems = (
        [] if known_good else schema_problems(loaded, instructions_dir() / "medicines.schema.json")
    )
    if not problems and not known_good:
        data = loaded.data
        facts = {s["id"]: s.get("facts", "") for s in data["sources"]}
        seen: dict = {}
        for i, med in enumerate(data["medicines"]):
            for j, alias in enumerate([med["name"], *med.get("brands", [])]):
                field = ("medicines", i, "name") if j == 0 else ("medicines", i, "brands", j - 1)
                if _key(alias) in seen:
                    problems.append(
                        problem(
                            loaded,
                            field,
                            f"'{alias}' is already listed at line {loaded.line(seen[_key(alias)])}",
                        )
                    )
                seen.setdefault(_key(alias), field)
            if med["rxcui"]:
                code = ("rxcui", med["rxcui"])
                if code in seen:
                    problems.append(
                        problem(
                            loaded,
                            ("medicines", i, "rxcui"),
                            f"RxCUI {med['rxcui']} is already listed at line "
                            f"{loaded.line(seen[code])}",
                        )
                    )
                seen.setdefault(code, ("medicines", i, "rxcui"))
            for brand in med.get("brand_forms", {}):
                if brand not in med.get("brands", []):
                    problems.append(
                        problem(
                            loaded,
                            ("medicines", i, "brand_forms", brand),
                            f"'{brand}' is not one of {med['name']}'s brands",
                        )
                    )
            for level, rule in med["pause"].items():
                problems += _rule_problems(loaded, facts, ("medicines", i, "pause", level), rule)
    if problems:
        raise InstructionError("\n".join(problems))
    medicines = [
        Medicine(
            name=m["name"],
            brands=tuple(m.get("brands", ())),
            kind=m.get("kind", ""),
            note=m.get("note", ""),
            pause=dict(m["pause"]),
            rxcui=m["rxcui"],
            cls=m["class"],
            concern=m["concern"],
            sedation_note=m.get("sedation_note", ""),
            form=m.get("form", "pill"),
            brand_forms=dict(m.get("brand_forms", {})),
        )
        for m in loaded.data["medicines"]
    ]
    if not known_good:
        startup_cache.remember(check)
    return MedicineTable(medicines, loaded.data["sources"], path, loaded.text)


def _rule_problems(loaded, facts: dict, field: tuple, rule: dict) -> list[str]:
    """A pause's sources exist, and each number it gives is written in its source's facts."""
    problems = []
    for number_key, source_key in (
        ("stop_days_before", "source"),
        ("restart_days_after", "restart_source" if "restart_source" in rule else "source"),
    ):
        source = rule.get(source_key)
        if source_key in rule and source not in facts:
            problems.append(problem(loaded, field + (source_key,), f"no source with id '{source}'"))
        elif number_key in rule and not facts_mention(facts.get(source), rule[number_key]):
            problems.append(
                problem(
                    loaded,
                    field + (number_key,),
                    f"{rule[number_key]} is credited to '{source}', whose facts do not mention it",
                )
            )
    if "source" in rule and "stop_days_before" not in rule and rule["source"] not in facts:
        problems.append(
            problem(loaded, field + ("source",), f"no source with id '{rule['source']}'")
        )
    return problems
