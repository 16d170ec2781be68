"""Copy pars-docs' current injection handout wording into ``baseline_handout.py``.

    python benchmarks/update_baseline.py

The baseline carries the handout's wording inline, so that it runs without pars-docs. When
the built-in set's wording changes, ``benchmarks/bench.py`` finds that the two handouts no
longer match and says so; this script then rewrites the ``HANDOUT`` literal from what
pars-docs composes for the reference visit, with each of the patient's values put back as a
field. A new kind of element (as ``<keytimes>`` was) it refuses: the baseline must first
learn to draw it, by hand.

A moment the baseline does not work out yet stays in the text as a date; the script refuses
that, and the new field must be added by hand to ``fields()`` and to ``FIELDS`` below.
"""

from __future__ import annotations

import ast
import pprint
import re
import subprocess
import sys
from pathlib import Path

from pars_docs import make_handout
from pars_docs.compose.markup import BOLD_OFF, BOLD_ON

BASELINE = Path(__file__).resolve().parent / "baseline_handout.py"

# The reference visit's values, longest first, and the field of baseline_handout.fields()
# that gives each. Two moments that always fall together share a field.
FIELDS = [
    ("Thursday, December 3, 2026", "date"),
    ("Thursday, December 3 at 2:00 AM", "food"),
    ("Thursday, December 3 at 6:00 AM", "liquids"),
    ("Thursday, December 3 at 7:30 AM", "arrive_at"),
    ("Friday, December 4 at 8:30 AM", "day_after"),
    ("Saturday, December 5 at 8:30 AM", "two_days_after"),
    ("Sunday, November 29", "med_last"),
    ("Friday, December 4", "med_restart"),
    ("Tuesday, December 8", "day5"),
    ("7:30 AM", "arrive"),
    ("8:00 AM", "start"),
    ("Ana Díaz", "patient"),
    ("Dr. Sam Lee", "clinician"),
]
DATE = re.compile(
    r"(January|February|March|April|May|June|July|August|September|October|"
    r"November|December) \d"
)


def text(value: str | None) -> str:
    value = (value or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = value.replace(BOLD_ON, "<b>").replace(BOLD_OFF, "</b>").replace("{", "{{")
    value = value.replace("}", "}}")
    for written, field in FIELDS:
        value = value.replace(written, "{" + field + "}")
    if DATE.search(value):
        raise SystemExit(f"a date the baseline does not work out: {value!r}")
    return value


def entries(element) -> list:
    out: list = []
    for child in element:
        if child.tag == "group":
            out.append(("group", text(child.get("title")), child.get("icon"), entries(child)))
        elif child.tag in ("p", "check", "bullet", "step"):
            out.append((child.tag, text(child.text)))
        elif child.tag == "time":
            out.append(("time", text(child.get("at")), text(child.text)))
        elif child.tag == "phone":
            out.append(("phone", text(child.get("label"))))
    return out


def blocks() -> list:
    handout = make_handout(
        "pars-defect-injection",
        "Ana Díaz",
        "2026-12-03",
        "8:00 AM",
        "Dr. Sam Lee",
        sedation=True,
        medications=["Eliquis"],
    )
    out: list = []
    for element in handout.document:
        tag = element.tag
        if tag == "header":
            out.append(
                ("header", text(element.findtext("title")), text(element.findtext("subtitle")))
            )
        elif tag == "patient":
            fields = [(text(f.get("label")), text(f.text), bool(f.get("wide"))) for f in element]
            out.append(("patient", fields))
        elif tag == "notice":
            out.append(("notice", text(element.text)))
        elif tag in ("section", "keytimes"):
            out.append((tag, text(element.get("title")), entries(element)))
        elif tag in ("callbox", "emergency"):
            out.append((tag, text(element.get("title")), element.get("icon"), entries(element)))
        elif tag == "questions":
            lines = int(element.get("lines") or 3)
            out.append(("questions", text(element.get("title")), lines, entries(element)))
        elif tag == "footer":
            out.append(("footer", text(element.findtext("left")), text(element.findtext("right"))))
        else:
            raise SystemExit(f"the baseline does not draw <{tag}> yet")
    return out


def main() -> None:
    source = BASELINE.read_text(encoding="utf-8")
    node = next(
        n
        for n in ast.parse(source).body
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "HANDOUT"
    )
    lines = source.splitlines(keepends=True)
    literal = "HANDOUT = " + pprint.pformat(blocks(), width=66) + "\n"
    updated = "".join(lines[: node.lineno - 1]) + literal + "".join(lines[node.end_lineno :])
    BASELINE.write_text(updated, encoding="utf-8")
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():
        subprocess.run([str(ruff), "format", "-q", str(BASELINE)], check=False)
    print(f"updated {BASELINE}")


if __name__ == "__main__":
    main()
