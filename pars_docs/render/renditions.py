"""Render a handout as plain text or a JSON timeline (the calendar is :mod:`.ics`).

Every rendition reads the same plan and composed document as the PDF, so all of them carry
the same times: none computes a date of its own. The text is the composed document walked
the way the PDF builder walks it.
"""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from ..compose.elements import unknown
from ..compose.markup import WRITE_IN, plain
from ..plan.keytimes import key_times
from ..plan.timeline import past
from ..schemas import SCHEMA_VERSION

if TYPE_CHECKING:
    from ..plan.timeline import Plan

TEXT_WIDTH = 78
SECTION_RULE, GROUP_RULE = "=", "-"


# -- plain text ---------------------------------------------------------------------------


class _TextWriter:
    """Lines of plain text: headings underlined, paragraphs apart, list items together."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.last: str | None = None  # "heading", "para" or "item"

    def blank(self) -> None:
        if self.lines and self.lines[-1]:
            self.lines.append("")

    def _wrap(self, text: str | None, lead: str = "") -> None:
        wrapped = textwrap.wrap(
            plain(text),
            TEXT_WIDTH,
            initial_indent=lead,
            subsequent_indent=" " * len(lead),
            break_long_words=False,
            break_on_hyphens=False,
        )
        self.lines.extend(wrapped or ([lead.rstrip()] if lead else []))

    def heading(self, text: str | None, rule: str) -> None:
        self.blank()
        start = len(self.lines)
        self._wrap(text)
        width = max((len(line) for line in self.lines[start:]), default=0)
        if width:
            self.lines.append(rule * width)
        self.last = "heading"

    def para(self, text: str | None) -> None:
        if self.last in ("para", "item"):
            self.blank()
        self._wrap(text)
        self.last = "para"

    def item(self, text: str | None, lead: str = "") -> None:
        if self.last == "para":
            self.blank()
        self._wrap(text, lead)
        self.last = "item"

    def text(self) -> str:
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def _items(out: _TextWriter, element: ET.Element, handled: tuple[str, ...] = ()) -> None:
    """Paragraphs, checklist items, bullets, steps and groups, as the PDF builder lays them out
    (children in ``handled`` are written by the caller)."""
    step = 0
    for child in element:
        if child.tag in handled:
            continue
        if child.tag == "step":
            step += 1
            out.item(child.text, f"{step}. ")
            continue
        handler = _ITEMS.get(child.tag)
        if handler is None:
            raise unknown(child, f"text rendition, in <{element.tag}>")
        handler(out, child)


def _group(out: _TextWriter, element: ET.Element) -> None:
    out.heading(element.get("title"), GROUP_RULE)
    _items(out, element)


# What each item of a section, group, box or questions area becomes (steps are numbered).
_ITEMS: dict[str, Callable[[_TextWriter, ET.Element], None]] = {
    "p": lambda out, e: out.para(e.text),
    "check": lambda out, e: out.item(e.text, "[ ] "),
    "bullet": lambda out, e: out.item(e.text, "- "),
    "group": _group,
    "table": lambda out, e: _table(out, e),
    "picture": lambda out, e: _picture(out, e),
}


def _picture(out: _TextWriter, element: ET.Element) -> None:
    """A picture, read as its alt text in its place: a paragraph of its own."""
    out.blank()
    out.para(element.get("alt"))


def _table(out: _TextWriter, element: ET.Element) -> None:
    """A table as plain columns: each as wide as its widest cell, a blank cell as a line to
    write on."""
    head = element.find("columns")
    rows = [[plain(c.text).strip() for c in head]] if head is not None else []
    body = [[plain(c.text).strip() or WRITE_IN[:10] for c in row] for row in element.findall("row")]
    rows += body
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(len(rows[0]))]
    if out.last == "para":
        out.blank()
    for index, row in enumerate(rows):
        out.lines.append(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip()
        )
        if index == 0 and head is not None:
            out.lines.append("  ".join("-" * w for w in widths))
    out.last = "item"


def _box(out: _TextWriter, element: ET.Element) -> None:
    out.heading(element.get("title"), SECTION_RULE)
    for phone in element.findall("phone"):
        number = plain(phone.text).strip()
        out.item(number or WRITE_IN, f"{phone.get('label')}: ")
    _items(out, element, handled=("phone",))


def _key_times(out: _TextWriter, element: ET.Element) -> None:
    """The key-times checklist: one "[ ] day and time: what to do" line per moment."""
    out.heading(element.get("title"), SECTION_RULE)
    paragraphs = element.findall("p")
    for p in paragraphs[:1]:
        out.para(p.text)
    for phone in element.findall("phone"):
        out.item(plain(phone.text).strip() or WRITE_IN, f"{phone.get('label')}: ")
        out.blank()
    for item in element.findall("time"):
        out.item(f"{plain(item.get('at'))}: {plain(item.text)}", "[ ] ")
    if paragraphs[1:]:
        out.blank()
    for p in paragraphs[1:]:
        out.para(p.text)


def render_text(documents: Sequence[ET.Element]) -> str:
    """The whole handout as plain UTF-8 text, lines wrapped at 78 columns.

    The same document as the PDF, in the same order: header, patient details, the key times,
    note, notice, sections, the questions area, the call boxes, and last the instruction
    set's id and version. A bilingual handout gives each language in turn, apart by a form
    feed (a new page when printed).
    """
    return "\f\n".join(_document_text(document) for document in documents)


def _header(out: _TextWriter, element: ET.Element) -> None:
    for part in ("clinic", "address"):
        if element.find(part) is not None:
            out.item((element.findtext(part) or "").replace("\n", ", "))
    out.heading(element.findtext("title"), SECTION_RULE)
    out.item(element.findtext("subtitle"))
    if element.find("other") is not None:
        out.item(element.findtext("other"))


def _patient(out: _TextWriter, element: ET.Element) -> None:
    out.blank()
    for field in element.findall("field"):
        out.item(field.text, f"{field.get('label')}: ")


def _note(out: _TextWriter, element: ET.Element) -> None:
    out.heading(element.get("title"), GROUP_RULE)
    for line in (element.text or "").split("\n"):
        if line.strip():
            out.item(line)


def _notice(out: _TextWriter, element: ET.Element) -> None:
    out.blank()
    out.para(element.text)


def _section(out: _TextWriter, element: ET.Element) -> None:
    # A questions area too: its writing lines are for paper only.
    out.heading(element.get("title"), SECTION_RULE)
    _items(out, element)


def _footer(out: _TextWriter, element: ET.Element) -> None:
    """Written last, whatever its place: the instruction set's id and version."""


# What each part of a handout (compose/elements.py) becomes in the text, in document order.
_PARTS: dict[str, Callable[[_TextWriter, ET.Element], None]] = {
    "header": _header,
    "patient": _patient,
    "keytimes": _key_times,
    "note": _note,
    "notice": _notice,
    "slot": _notice,
    "section": _section,
    "questions": _section,
    "callbox": _box,
    "emergency": _box,
    "footer": _footer,
}


def _document_text(document: ET.Element) -> str:
    out = _TextWriter()
    footer = document.find("footer")
    draft = footer.find("draft") if footer is not None else None
    if draft is not None:  # a draft translation says so first, as on every PDF page
        out.item(f"*** {plain(draft.text)} ***")
        out.blank()
    for element in document:
        handler = _PARTS.get(element.tag)
        if handler is None:
            raise unknown(element, "text rendition, in <handout>")
        handler(out, element)
    if footer is not None and plain(footer.findtext("right")).strip():
        out.blank()
        if footer.find("made") is not None:  # the day it was made, as in each PDF footer
            out.item(footer.findtext("made"))
        out.item(footer.findtext("right"))
    return out.text()


# -- JSON timeline ------------------------------------------------------------------------


def _moment(value):
    """A moment as ISO 8601: a datetime with its offset, a day as a date, a series a list."""
    if isinstance(value, list):
        return [_moment(v) for v in value]
    return value.isoformat()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _key_time_records(plan: Plan) -> list[dict[str, Any]]:
    """Page 1's checklist (``on_page_1``), then every other moment the plan computed (the
    start, the end, a moment the set names without asking anything of the patient), so a
    reminder system finds each one here with its ISO time, or its date for a day-only
    moment. A repeated task's line has its last time in ``until``."""
    records = []
    listed = set()
    for item in key_times(plan):
        record: dict[str, Any] = {
            "action": item.action,
            "at": _iso(item.at),
            "medicine": item.medicine.generic or item.medicine.name if item.medicine else None,
            "late": item.late,
            "on_page_1": True,
        }
        if item.last is not None:
            record["until"] = _iso(item.last)
        if item.medicine is None:
            listed.add(item.name)
        records.append(record)
    for name, moment in plan.moments.items():
        if name in listed:
            continue
        series = moment if isinstance(moment, list) else [moment]
        record = {
            "action": name,
            "at": _iso(series[0]),
            "medicine": None,
            "late": past(series[-1], plan.now),
            "on_page_1": False,
        }
        if len(series) > 1:
            record["until"] = _iso(series[-1])
        records.append(record)
    return records


def render_json(
    plan: Plan, documents: Sequence[ET.Element], requested_language: str | None = None
) -> str:
    """The computed timeline, for reminder and text-message systems, as indented JSON.

    Keys come in a fixed order; ``moments`` are ISO 8601 with the site's UTC offset, the
    medicines' dates ISO dates or null; ``dob`` and ``mrn`` appear only when given.
    ``key_times`` lists the handout's page-1 checklist, then every other computed moment:
    each action, its moment (ISO 8601, a date for a whole day, null for "call us today"),
    the medicine it concerns, whether it is already too late, and whether it is on page 1.
    """
    iset = plan.instruction_set
    visit = plan.visit
    chart = set(visit.chart_medicines)
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,  # pars_docs/schemas/handout.schema.json
        "instruction_set": {"id": iset.id, "version": iset.version, "title": iset.title},
        "procedure": iset.id,
        "patient": visit.patient,
    }
    if iset.based_on:  # a clinic's changes: the built-in set and version they were made to
        record["instruction_set"]["extends"] = {
            "set": iset.based_on[0],
            "version": iset.based_on[1],
        }
    if visit.visit_id:
        record["visit_id"] = visit.visit_id
    if visit.mrn:
        identifier = {"type": "MR", "value": visit.mrn}
        system = visit.mrn_system or plan.site.mrn_rule.system
        if system:
            identifier = {"type": "MR", "system": system, "value": visit.mrn}
        record["identifiers"] = [identifier]
    record["language"] = iset.language
    if len(documents) > 1:
        record["also_languages"] = [document.get("lang") for document in documents[1:]]
    if requested_language:
        record["requested_language"] = requested_language
    if visit.dob:
        record["dob"] = visit.dob.isoformat()
    if visit.mrn:
        record["mrn"] = visit.mrn
    record.update(
        clinician=visit.clinician,
        timezone=plan.site.timezone,
        sedation=plan.sedation,
        moments={name: _moment(moment) for name, moment in plan.moments.items()},
        medicines=[
            {
                "name": med.name,
                "generic": med.generic,
                "action": med.action,
                "last_dose": _iso(med.last_dose),
                "first_skip": _iso(med.first_skip),
                "restart": _iso(med.restart),
                **({"from_chart": True} if {med.name, med.generic} & chart else {}),
            }
            for med in plan.medicines
        ],
        key_times=_key_time_records(plan),
    )
    if plan.repeats:
        # Only a set with repeated tasks has the key: the others' JSON stays as it was.
        record["repeated"] = {
            name: {
                "first": _moment(r.first),
                "last": _moment(r.last),
                "count": r.count,
                "rrule": r.rrule_text,
            }
            for name, r in plan.repeats.items()
        }
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"
