"""Composed handout XML → a platypus story.

The builder knows which element becomes which flowable and what is kept together on a page;
it writes no wording of its own. Everything it prints comes from the composed document (see
compose.py and templates/handout.xml.j2).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Paragraph, Spacer

from ..markup import WRITE_IN, markup, plain
from ..styles import EMERGENCY, RULE
from .flowables import (
    Box,
    CachedParagraph,
    FieldTable,
    ListItem,
    ParagraphsTogether,
    TaggedImage,
    TaggedTable,
    boxed_table,
    table_style,
    tagged,
)
from .tagging import Element

# A run of flowables split in two: the lead is kept together on one page, the rest may break.
Segment = tuple[list[Flowable], list[Flowable]]


def _flatten(segments: list[Segment], keep: bool = True) -> list[Flowable]:
    """Segments as flowables; ``keep=False`` inside a box, which never breaks anyway."""
    out: list[Flowable] = []
    for lead, rest in segments:
        if keep and len(lead) > 1:
            out.append(ParagraphsTogether(lead))
        else:
            out.extend(lead)
        out.extend(rest)
    return out


# List item elements: the label drawn before the text, its style and the list's numbering.
_LISTS = {"check": ("☐", "check", "None"), "bullet": ("•", "bullet", "Disc")}


class Builder:
    """Turns composed handouts (and a packet's index) into flowables, and each part into its
    element of the tagged PDF's structure tree, in reading order (see :mod:`.tagging`)."""

    def __init__(
        self, styles: Mapping[str, ParagraphStyle], width: float, logo: Path | str | None
    ) -> None:
        self.s = styles
        self.width = width
        self.logo = logo

    def para(
        self, text: str | None, style: str = "body", element: Element | None = None, **kw: Any
    ) -> Paragraph:
        return tagged(CachedParagraph(markup(text), self.s[style], **kw), element)

    def segments(self, element: ET.Element, parent: Element, level: int = 3) -> list[Segment]:
        """The children of ``element`` as (lead, rest) pairs: each lead is kept together on
        one page, so a heading or an introductory paragraph is never left alone at the foot
        of a page. Leads hold paragraphs and list items only (nested KeepTogethers break
        badly). Consecutive items of one kind make one list; a group's title is a heading
        at ``level``."""
        segments: list[Segment] = []
        step = 0
        pending_intro: list[Flowable] = []
        lead: list[Flowable]
        rest: list[Flowable]
        current: tuple[str, Element] | None = None  # the open list: its kind and element
        for child in element:
            if child.tag == "p":
                pending_intro.append(self.para(child.text, element=parent.add("P")))
                current = None
                continue
            if child.tag in ("check", "bullet", "step"):
                if current is None or current[0] != child.tag:
                    numbering = "Decimal" if child.tag == "step" else _LISTS[child.tag][2]
                    current = (child.tag, parent.add("L", numbering=numbering))
                if child.tag == "step":
                    step += 1
                    label, style = f"{step}.", "step"
                else:
                    label, style = _LISTS[child.tag][:2]
                lead, rest = [self.item(current[1], label, child, style)], []
            elif child.tag == "group":
                current = None
                group = parent.add("Sect")
                title = self.para(child.get("title"), "group", group.add(f"H{level}"))
                inner = self.segments(child, group, level + 1)
                first_lead, first_rest = inner[0] if inner else ([], [])
                lead = [title, *first_lead]
                rest = [*first_rest, *_flatten(inner[1:])]
            else:
                continue
            segments.append(([*pending_intro, *lead], rest))
            pending_intro = []
        if pending_intro:
            segments.append((pending_intro, []))
        if len(segments) >= 2 and not segments[-1][1] and not segments[-2][1]:
            # The last line of a list never starts a page on its own.
            (lead, _), (last, _) = segments[-2], segments[-1]
            segments[-2:] = [([*lead, *last], [])]
        return segments

    def item(self, parent: Element, label: str, child: ET.Element, style: str) -> Flowable:
        """One list item: its label (read as the template's ``alt`` when it gives one, as a
        check box's does) and its text."""
        item = parent.add("LI")
        label_element = item.add("Lbl", alt=child.get("alt") or "")
        body = self.para(child.text, style, item.add("LBody"))
        assert isinstance(body, CachedParagraph)
        return ListItem(label, body, label_element)

    def header(self, element: ET.Element, parent: Element) -> list[Flowable]:
        out: list[Flowable] = []
        top: list[Flowable] = []
        figure = None
        if self.logo:
            # The logo is a figure when the template describes it, decoration otherwise.
            logo = element.find("logo")
            alt = logo.get("alt") if logo is not None else None
            figure = parent.add("Figure", alt=alt) if alt else None
        if element.find("clinic") is not None:
            top.append(self.para(element.findtext("clinic"), "clinic", parent.add("P")))
        if element.find("address") is not None:
            address = element.findtext("address") or ""
            top.append(self.para(address.replace("\n", ", "), "address", parent.add("P")))
        if self.logo:
            reader = ImageReader(str(self.logo))
            w, h = reader.getSize()
            height = 0.75 * 72
            image = tagged(TaggedImage(str(self.logo), width=w * height / h, height=height), figure)
            table = TaggedTable([[image, top]], colWidths=[w * height / h + 10, None])
            table.setStyle(
                table_style(
                    [("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
                )
            )
            out.append(table)
        else:
            out.extend(top)
        out.append(self.para(element.findtext("title"), "title", parent.add("H1")))
        out.append(self.para(element.findtext("subtitle"), "subtitle", parent.add("P")))
        if element.find("other") is not None:
            out.append(self.para(element.findtext("other"), "subtitle", parent.add("P")))
        return out

    def patient(self, element: ET.Element, parent: Element) -> list[Flowable]:
        table = parent.add("Table")
        rows = []
        for f in element.findall("field"):
            row = table.add("TR")
            label = self.para(f.get("label"), "label", row.add("TH", scope="Row"))
            rows.append((label, self.para(f.text, "value", row.add("TD"))))
        return [FieldTable(rows, 1.6 * 72), Spacer(1, 8)]

    def callbox(self, element: ET.Element, color: Color, parent: Element) -> list[Flowable]:
        box = parent.add("Sect")
        inner: list[Flowable] = [self.para(element.get("title"), "box_title", box.add("H2"))]
        for phone in element.findall("phone"):
            number = plain(phone.text).strip()
            shown = escape(number) if number else WRITE_IN
            label = escape(phone.get("label") or "")
            text = CachedParagraph(f"{label}: {shown}", self.s["phone"])
            inner.append(tagged(text, box.add("P")))
        inner.extend(_flatten(self.segments(element, box), keep=False))
        return [Spacer(1, 10), Box(inner, color)]

    def index(self, element: ET.Element, parent: Element) -> list[Flowable]:
        """The scheduler's list of the handouts in a packet: a table with column headers."""
        section = parent.add("Sect")
        title = self.para(element.get("title"), "section", section.add("H1"))
        table = section.add("Table")
        columns = element.find("columns")
        head = table.add("TR")
        header = [
            self.para(col.text, "label", head.add("TH", scope="Column"))
            for col in (columns if columns is not None else [])
        ]
        rows = []
        for row in element.findall("row"):
            tr = table.add("TR")
            rows.append([self.para(cell.text, element=tr.add("TD")) for cell in row])
        widths = [0.28, 0.33, 0.28, 0.11]
        flowable = TaggedTable(
            [header, *rows], colWidths=[w * self.width for w in widths], repeatRows=1
        )
        flowable.setStyle(
            table_style(
                [
                    ("LINEBELOW", (0, 0), (-1, 0), 1.2, RULE),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return [title, flowable]

    def build(self, handout: ET.Element, parent: Element) -> list[Flowable]:
        """The story of one handout; its structure goes under ``parent``."""
        story: list[Flowable] = []
        for element in handout:
            tag = element.tag
            if tag == "header":
                story.extend(self.header(element, parent))
            elif tag == "patient":
                story.extend(self.patient(element, parent))
            elif tag == "note":
                note = parent.add("Sect")
                inner = [self.para(element.get("title"), "group", note.add("H2"))]
                inner.extend(
                    self.para(line, element=note.add("P"))
                    for line in (element.text or "").split("\n")
                    if line.strip()
                )
                story.extend([boxed_table(inner, RULE, self.width), Spacer(1, 6)])
            elif tag == "notice":
                story.append(self.para(element.text, element=parent.add("P")))
            elif tag == "section":
                section = parent.add("Sect")
                title = self.para(element.get("title"), "section", section.add("H2"))
                segments = self.segments(element, section)
                first_lead, first_rest = segments[0] if segments else ([], [])
                story.append(ParagraphsTogether([title, *first_lead]))
                story.extend([*first_rest, *_flatten(segments[1:])])
            elif tag == "callbox":
                story.extend(self.callbox(element, RULE, parent))
            elif tag == "emergency":
                story.extend(self.callbox(element, EMERGENCY, parent))
        return story
