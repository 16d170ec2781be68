"""The medicine table: which medicines pause before a procedure, and for how long.

The table is YAML a clinic can edit. Each medicine lists its generic name, brand names and
RxNorm code and, for each bleeding-risk level, either a pause (whole days with no dose before
the procedure day, and the day after it to restart) or an action: keep taking it, or ask the
prescriber. A visit names a medicine by generic name, brand or RxCUI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import checked
from ..errors import InstructionError, UsageError
from ..resources import instructions_dir
from .loader import load_yaml
from .validate import facts_mention, problem, schema_problems

TABLE_FILE = "medicines.yaml"


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

        close = difflib.get_close_matches(_key(name), list(self._index), n=n, cutoff=0.6)
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

    def lookup(self, name: str) -> tuple[Medicine, str]:
        """:meth:`find`, or a :class:`UsageError` naming the closest known names."""
        found = self.find(name)
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
    check = checked.key("medicine table", loaded.text)
    known_good = checked.passed(check)  # unchanged since it last passed (see checked.py)
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
        )
        for m in loaded.data["medicines"]
    ]
    if not known_good:
        checked.remember(check)
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
