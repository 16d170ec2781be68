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
from reportlab.platypus import Flowable, Image, Paragraph, Spacer, Table

from ..markup import WRITE_IN, markup, plain
from ..styles import EMERGENCY, RULE
from .flowables import (
    Box,
    CachedParagraph,
    FieldTable,
    ParagraphsTogether,
    boxed_table,
    table_style,
)

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


class Builder:
    """Turns composed handouts (and a packet's index) into flowables."""

    def __init__(
        self, styles: Mapping[str, ParagraphStyle], width: float, logo: Path | str | None
    ) -> None:
        self.s = styles
        self.width = width
        self.logo = logo

    def para(self, text: str | None, style: str = "body", **kw: Any) -> Paragraph:
        return CachedParagraph(markup(text), self.s[style], **kw)

    def segments(self, element: ET.Element) -> list[Segment]:
        """The children of ``element`` as (lead, rest) pairs: each lead is kept together on
        one page, so a heading or an introductory paragraph is never left alone at the foot
        of a page. Leads hold plain paragraphs only (nested KeepTogethers break badly)."""
        segments: list[Segment] = []
        step = 0
        pending_intro: list[Flowable] = []
        lead: list[Flowable]
        rest: list[Flowable]
        for child in element:
            if child.tag == "p":
                pending_intro.append(self.para(child.text))
                continue
            if child.tag == "check":
                lead, rest = [self.para(child.text, "check", bulletText="☐")], []
            elif child.tag == "bullet":
                lead, rest = [self.para(child.text, "bullet", bulletText="•")], []
            elif child.tag == "step":
                step += 1
                lead, rest = [self.para(child.text, "step", bulletText=f"{step}.")], []
            elif child.tag == "group":
                inner = self.segments(child)
                first_lead, first_rest = inner[0] if inner else ([], [])
                lead = [self.para(child.get("title"), "group"), *first_lead]
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

    def header(self, element: ET.Element) -> list[Flowable]:
        out: list[Flowable] = []
        top: list[Flowable] = []
        if element.find("clinic") is not None:
            top.append(self.para(element.findtext("clinic"), "clinic"))
        if element.find("address") is not None:
            address = element.findtext("address") or ""
            top.append(self.para(address.replace("\n", ", "), "address"))
        if self.logo:
            reader = ImageReader(str(self.logo))
            w, h = reader.getSize()
            height = 0.75 * 72
            image = Image(str(self.logo), width=w * height / h, height=height)
            table = Table([[image, top]], colWidths=[w * height / h + 10, None])
            table.setStyle(
                table_style(
                    [("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
                )
            )
            out.append(table)
        else:
            out.extend(top)
        out.append(self.para(element.findtext("title"), "title"))
        out.append(self.para(element.findtext("subtitle"), "subtitle"))
        return out

    def patient(self, element: ET.Element) -> list[Flowable]:
        rows = [
            (self.para(f.get("label"), "label"), self.para(f.text, "value"))
            for f in element.findall("field")
        ]
        return [FieldTable(rows, 1.6 * 72), Spacer(1, 8)]

    def callbox(self, element: ET.Element, color: Color) -> list[Flowable]:
        inner: list[Flowable] = [self.para(element.get("title"), "box_title")]
        for phone in element.findall("phone"):
            number = plain(phone.text).strip()
            shown = escape(number) if number else WRITE_IN
            label = escape(phone.get("label") or "")
            inner.append(CachedParagraph(f"{label}: {shown}", self.s["phone"]))
        inner.extend(_flatten(self.segments(element), keep=False))
        return [Spacer(1, 10), Box(inner, color)]

    def index(self, element: ET.Element) -> list[Flowable]:
        """The scheduler's list of the handouts in a packet."""
        columns = element.find("columns")
        header = [self.para(col.text, "label") for col in (columns if columns is not None else [])]
        rows = [[self.para(cell.text) for cell in row] for row in element.findall("row")]
        widths = [0.28, 0.33, 0.28, 0.11]
        table = Table([header, *rows], colWidths=[w * self.width for w in widths], repeatRows=1)
        table.setStyle(
            table_style(
                [
                    ("LINEBELOW", (0, 0), (-1, 0), 1.2, RULE),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return [self.para(element.get("title"), "section"), table]

    def build(self, handout: ET.Element) -> list[Flowable]:
        story: list[Flowable] = []
        for element in handout:
            tag = element.tag
            if tag == "header":
                story.extend(self.header(element))
            elif tag == "patient":
                story.extend(self.patient(element))
            elif tag == "note":
                inner = [self.para(element.get("title"), "group")]
                inner.extend(
                    self.para(line) for line in (element.text or "").split("\n") if line.strip()
                )
                story.extend([boxed_table(inner, RULE, self.width), Spacer(1, 6)])
            elif tag == "notice":
                story.append(self.para(element.text))
            elif tag == "section":
                segments = self.segments(element)
                first_lead, first_rest = segments[0] if segments else ([], [])
                title = self.para(element.get("title"), "section")
                story.append(ParagraphsTogether([title, *first_lead]))
                story.extend([*first_rest, *_flatten(segments[1:])])
            elif tag == "callbox":
                story.extend(self.callbox(element, RULE))
            elif tag == "emergency":
                story.extend(self.callbox(element, EMERGENCY))
        return story
