"""Which instruction set an appointment is for: its codes (FHIR ``serviceType``,
``appointmentType`` and the like; HL7 v2 AIS-3 and SCH-7) matched against the sets' own
``codes`` and a clinic's code map. Both feeds read through the same map.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InstructionError, UsageError
from ..load.loader import load_yaml


class CodeMap:
    """(system, code) → instruction set id, from the sets' own ``codes`` and a clinic's map.

    A map entry without ``system`` matches that code in any system, or with none. An entry
    with ``text`` instead of ``code`` matches those words (any case, whole words) in an
    Appointment's description, service category or specialty, for record systems that send
    the procedure only as text (Epic's surgical appointments); it is used only when no code
    matches, and the row is warned about.
    """

    def __init__(self, entries: list[dict], texts: list[dict] | None = None):
        self.entries = entries
        self.texts = texts or []

    @classmethod
    def build(cls, library, extra: str | Path | None = None, strict: bool = False) -> CodeMap:
        """The sets' own codes and those of the code map ``extra``. Every problem in the map
        is reported at once; an entry naming an unknown set is one. A broken instruction set
        only costs the rows that need it, unless ``strict`` (for ``check``)."""
        entries: list[dict] = []
        texts: list[dict] = []
        known = set(library.ids())
        if extra:
            loaded = load_yaml(Path(extra), UsageError)
            data = loaded.data
            items = data.get("codes") if isinstance(data, dict) else data
            if not isinstance(items, list):
                raise UsageError(
                    f"codes: {extra} must hold a list of {{system, code, procedure}}", field="codes"
                )
            problems = []
            for index, item in enumerate(items):
                entry, problem = _map_entry(loaded, index, item, known)
                if problem:
                    problems.append(problem)
                elif entry and "text" in entry:
                    texts.append(entry)
                elif entry:
                    entries.append(entry)
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
        return cls(entries, texts)

    def match(self, codings: list[dict]) -> str | None:
        """The set for the first coding any entry matches, in the order given."""
        for coding in codings:
            for entry in self.entries:
                if str(coding.get("code")) == entry["code"] and (
                    entry["system"] is None or entry["system"] == coding.get("system")
                ):
                    return entry["procedure"]
        return None

    def match_text(self, texts: list[tuple[str, str]]) -> tuple[str, str, str] | None:
        """(set, the entry's text, where it was found) for the first of ``texts`` ((where,
        text) pairs, in order) holding an entry's words; None if none does."""
        for where, text in texts:
            for entry in self.texts:
                if entry["pattern"].search(text):
                    return entry["procedure"], entry["text"], where
        return None


def _map_entry(loaded, index: int, item, known: set) -> tuple[dict | None, str | None]:
    """One code map entry, or the problem with it."""
    if not isinstance(item, dict) or "procedure" not in item or not {"code", "text"} & set(item):
        return None, (
            f"{loaded.where((index,))}: each entry needs code (or text) and procedure (and may "
            "have system)"
        )
    wrong = [
        key
        for key in ("system", "code", "text", "procedure")
        if key in item and (isinstance(item[key], bool) or not isinstance(item[key], str | int))
    ]
    if wrong:
        return None, f"{loaded.where((index, wrong[0]))}: {', '.join(wrong)} must be text"
    if item["procedure"] not in known:
        return None, (
            f"{loaded.where((index, 'procedure'))}: no instruction set "
            f"'{item['procedure']}' (known: {', '.join(sorted(known))})"
        )
    if "code" not in item:
        words = str(item["text"]).split()
        if not words:
            return None, f"{loaded.where((index, 'text'))}: text must hold words"
        pattern = re.compile(
            r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE
        )
        return {"text": " ".join(words), "pattern": pattern, "procedure": item["procedure"]}, None
    return {
        "system": str(item["system"]) if "system" in item else None,
        "code": str(item["code"]),
        "procedure": item["procedure"],
    }, None
