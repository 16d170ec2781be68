"""The medicine table: which medicines pause before a procedure, and for how long.

The table is YAML a clinic can edit. Each medicine lists its generic name and brand names and,
for each bleeding-risk level, either a pause (whole days with no dose before the procedure day,
and the day after it to restart) or an action: keep taking it, or ask the prescriber.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from .errors import InstructionError, UsageError
from .loader import load_yaml
from .resources import instructions_dir
from .validate import problem, schema_problems

TABLE_FILE = "medicines.yaml"


@dataclass(frozen=True)
class Medicine:
    """One row of the table."""

    name: str
    brands: tuple[str, ...]
    kind: str
    note: str
    pause: dict  # risk level -> {stop_days_before, restart_days_after, source} | {action, source}


class MedicineTable:
    """Look medicines up by generic or brand name, ignoring case and spacing."""

    def __init__(self, medicines: list[Medicine], sources: list[dict], path: Path):
        self.medicines = medicines
        self.sources = sources
        self.path = path
        self._index = {}
        for med in medicines:
            for alias in (med.name, *med.brands):
                self._index[_key(alias)] = (med, alias)

    def known_names(self) -> list[str]:
        return [
            f"{m.name} ({', '.join(m.brands)})" if m.brands else m.name
            for m in sorted(self.medicines, key=lambda m: m.name)
        ]

    def lookup(self, name: str) -> tuple[Medicine, str]:
        """The medicine called ``name`` and that name as the table spells it ("advil" →
        "Advil"); a :class:`UsageError` listing the known names if there is none."""
        found = self._index.get(_key(name))
        if found:
            return found
        close = difflib.get_close_matches(_key(name), list(self._index), n=1, cutoff=0.75)
        hint = f" Did you mean '{self._index[close[0]][1]}'?" if close else ""
        raise UsageError(
            f"medication: unknown medicine '{name}'.{hint} Known medicines: "
            f"{'; '.join(self.known_names())}. A clinic can add others to {self.path.name}.",
            field="medication",
        )


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


def load_medicine_table(path: Path) -> MedicineTable:
    """Load and validate a medicine table, reporting every problem at once."""
    loaded = load_yaml(path, InstructionError)
    problems = schema_problems(loaded, instructions_dir() / "medicines.schema.json")
    if not problems:
        data = loaded.data
        source_ids = {s["id"] for s in data["sources"]}
        seen: dict[str, tuple] = {}
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
            for level, rule in med["pause"].items():
                if rule["source"] not in source_ids:
                    problems.append(
                        problem(
                            loaded,
                            ("medicines", i, "pause", level, "source"),
                            f"no source with id '{rule['source']}'",
                        )
                    )
    if problems:
        raise InstructionError("\n".join(problems))
    medicines = [
        Medicine(
            name=m["name"],
            brands=tuple(m.get("brands", ())),
            kind=m.get("kind", ""),
            note=m.get("note", ""),
            pause=dict(m["pause"]),
        )
        for m in loaded.data["medicines"]
    ]
    return MedicineTable(medicines, loaded.data["sources"], path)
