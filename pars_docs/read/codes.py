"""Which instruction set an appointment is for: its codes (FHIR ``serviceType``,
``appointmentType`` and the like; HL7 v2 AIS-3 and SCH-7) matched against the sets' own
``codes`` and a clinic's code map. Both feeds read through the same map.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InstructionError, UsageError
from ..load.loader import load_yaml


class CodeMap:
    """(system, code) → instruction set id, from the sets' own ``codes`` and a clinic's map.

    A map entry without ``system`` matches that code in any system, or with none.
    """

    def __init__(self, entries: list[dict]):
        self.entries = entries

    @classmethod
    def build(cls, library, extra: str | Path | None = None, strict: bool = False) -> CodeMap:
        """The sets' own codes and those of the code map ``extra``. Every problem in the map
        is reported at once; an entry naming an unknown set is one. A broken instruction set
        only costs the rows that need it, unless ``strict`` (for ``check``)."""
        entries, problems = [], []
        known = set(library.ids())
        if extra:
            loaded = load_yaml(Path(extra), UsageError)
            data = loaded.data
            items = data.get("codes") if isinstance(data, dict) else data
            if not isinstance(items, list):
                raise UsageError(
                    f"codes: {extra} must hold a list of {{system, code, procedure}}", field="codes"
                )
            for index, item in enumerate(items):
                if not isinstance(item, dict) or not {"code", "procedure"} <= set(item):
                    problems.append(
                        f"{loaded.where((index,))}: each entry needs code and "
                        "procedure (and may have system)"
                    )
                    continue
                wrong = [
                    key
                    for key in ("system", "code", "procedure")
                    if key in item
                    and (isinstance(item[key], bool) or not isinstance(item[key], str | int))
                ]
                if wrong:
                    problems.append(
                        f"{loaded.where((index, wrong[0]))}: {', '.join(wrong)} must be text"
                    )
                    continue
                if item["procedure"] not in known:
                    problems.append(
                        f"{loaded.where((index, 'procedure'))}: no instruction set "
                        f"'{item['procedure']}' (known: {', '.join(sorted(known))})"
                    )
                    continue
                entries.append(
                    {
                        "system": str(item["system"]) if "system" in item else None,
                        "code": str(item["code"]),
                        "procedure": item["procedure"],
                    }
                )
        if problems:
            raise UsageError("codes: " + "\ncodes: ".join(problems), field="codes")
        for set_id in sorted(known):
            try:
                codes = library.get(set_id).codes
            except InstructionError:
                if strict:
                    raise
                continue  # reported for the rows that need this set
            for code in codes:
                entries.append(
                    {"system": code["system"], "code": code["code"], "procedure": set_id}
                )
        return cls(entries)

    def match(self, codings: list[dict]) -> str | None:
        """The set for the first coding any entry matches, in the order given."""
        for coding in codings:
            for entry in self.entries:
                if str(coding.get("code")) == entry["code"] and (
                    entry["system"] is None or entry["system"] == coding.get("system")
                ):
                    return entry["procedure"]
        return None
