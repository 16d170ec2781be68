"""The document and page template, and the canvas that writes each handout's footer.

Several handouts can share one PDF (a batch packet): each starts on a fresh page (a fresh
sheet when printed two-sided), and each keeps its own "page X of Y" footer.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Literal

from reportlab.lib.colors import HexColor
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageBreak, PageTemplate

from ...compose.markup import escape, plain
from .flowables import (
    CachedParagraph,
    HandoutStart,
    frame_at_top,
    page_width,
    pdf_document,
    start_page,
)
from .metadata import finish
from .scripted import ScriptStyles, script_runs
from .scripts import has_noto, right_to_left
from .styles import INK, MARGIN, MUTED, RULE, footer_top
from .tagging import Structure, artifact

_FOOTER_FONT = "ParsDocsSans"
SHRINK_TO = 0.8  # the smallest a footer line is set to fit, as a share of the footer's size
_DRAFT_FONT = "ParsDocsSans-Bold"
DRAFT_INK = HexColor("#8a1c1c")  # 8:1 on the band
DRAFT_BAND = HexColor("#fbeaea")

# A page's footer, as the canvas learns it from the handout's HandoutStart: the handout's key
# (to count its pages), its composed <footer> and the footer's type size.
PageOwner = tuple[int, "ET.Element | None", float]


class HandoutDocTemplate(BaseDocTemplate):
    """A doc template that starts each handout on a fresh page (a fresh sheet if duplex)."""

    def __init__(self, *args: Any, new_sheets: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new_sheets = new_sheets
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame])])

    def handle_flowable(self, flowables: list[Flowable]) -> None:
        first = flowables[0]
        if isinstance(first, HandoutStart) and self.page:
            if not frame_at_top(self.frame):
                flowables.insert(0, PageBreak())
            elif self.new_sheets and self.page % 2 == 0:
                if isinstance(self.canv, FooterCanvas):
                    self.canv.handout = None  # the padding page carries no footer
                flowables.insert(0, PageBreak())
        super().handle_flowable(flowables)


class FooterCanvas(Canvas):
    """Holds pages back until the end, so each footer can say "page X of Y" for its handout.

    With a ``structure`` the PDF is tagged: the footer is an artifact, and saving writes the
    structure tree and the metadata (PDF/A's as well with ``pdfa``).
    """

    def __init__(
        self,
        *args: Any,
        structure: Structure | None = None,
        pdfa: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.structure = structure
        self.pdfa = pdfa
        self.handout: PageOwner | None = None
        self._saved_pages: list[tuple[dict[str, Any], PageOwner | None]] = []

    def showPage(self) -> None:
        self._saved_pages.append((dict(self.__dict__), self.handout))
        start_page(self)

    def save(self) -> None:
        counts: dict[int, int] = {}
        for _, handout in self._saved_pages:
            if handout:
                counts[handout[0]] = counts.get(handout[0], 0) + 1
        seen: dict[int, int] = {}
        for state, handout in self._saved_pages:
            self.__dict__.update(state)
            if handout:
                key, footer, size = handout
                seen[key] = seen.get(key, 0) + 1
                with artifact(self, "Pagination", "Footer"):
                    self._draw_footer(footer, seen[key], counts[key], size)
                if footer is not None and footer.find("draft") is not None:
                    with artifact(self, "Pagination", "Header"):
                        self._draw_draft(plain(footer.findtext("draft")), size)
            super().showPage()
        if self.structure is not None:
            doc = pdf_document(self)
            self.structure.write(doc)
            finish(doc, self.structure.root.attrs.get("lang"), self.pdfa)
        super().save()

    def _footer_text(
        self,
        text: str,
        room: float,
        y: float,
        width: float,
        size: float,
        at_right: bool,
        fit: bool = False,
        shrink: bool = False,
    ) -> None:
        """One piece of the footer, at the left or the right margin, at most ``room`` wide;
        with ``shrink``, in smaller type (down to ``SHRINK_TO`` of ``size``) before it is cut."""
        if shrink and not has_noto(text):
            natural = self.stringWidth(text, _FOOTER_FONT, size)
            if natural > room:
                size = max(size * SHRINK_TO, size * room / natural)
                self.setFont(_FOOTER_FONT, size)
        if has_noto(text):
            _draw_scripted(self, text, MARGIN, y, width - 2 * MARGIN, size, at_right)
        elif at_right:
            self.drawRightString(width - MARGIN, y, _fit(self, text, room, size) if fit else text)
        else:
            self.drawString(MARGIN, y, _fit(self, text, room, size) if fit else text)

    def _draw_footer(self, footer: ET.Element | None, page: int, pages: int, size: float) -> None:
        """Two lines under a rule, in type of ``size``: who the handout is for and the page
        number, then which instruction set (id, version, reviewed date) made it."""
        if footer is None:
            return
        width = page_width(self)
        top = footer_top(size)
        self.saveState()
        self.setFont(_FOOTER_FONT, size)
        self.setFillColor(INK)
        self.setStrokeColor(RULE)
        self.setLineWidth(0.6)
        self.line(MARGIN, top, width - MARGIN, top)
        first = top - size - 3
        second = first - size - 3
        left = plain(footer.findtext("left"))
        right = plain(footer.findtext("right"))
        center = _with_page_numbers(footer.find("center"), page, pages)
        center_width = self.stringWidth(center, _FOOTER_FONT, size)
        # The patient's name gives way (with an ellipsis) before the page number does.
        room = width - 2 * MARGIN - center_width - 12
        # A right-to-left handout (its page label in Arabic) mirrors the footer: the name
        # on the right, the page number on the left.
        rtl = any(right_to_left(c) for c in center)
        self._footer_text(left, room, first, width, size, at_right=rtl, fit=True)
        self._footer_text(center, width, first, width, size, at_right=not rtl)
        self.setFillColor(MUTED)
        # The set's line (long for a translated clinic's set: its version and the built-in
        # one's) is set a little smaller rather than cut, where that is enough.
        self._footer_text(
            right, width - 2 * MARGIN, second, width, size, at_right=rtl, fit=True, shrink=True
        )
        self.restoreState()

    def _draw_draft(self, text: str, size: float) -> None:
        """The draft mark, in the top margin of every page, in the footer's type size (page
        furniture, as the footer is): bold, dark red, on a light band."""
        width = page_width(self)
        height = float(self._pagesize[1])  # type: ignore[attr-defined]
        base = height - MARGIN + 8
        self.saveState()
        self.setFont(_DRAFT_FONT, size)
        shown = _fit(self, text, width - 2 * MARGIN - 8, size, _DRAFT_FONT)
        self.setFillColor(DRAFT_BAND)
        self.rect(MARGIN, base - size * 0.35, width - 2 * MARGIN, size * 1.3, stroke=0, fill=1)
        self.setFillColor(DRAFT_INK)
        if has_noto(text):
            _draw_scripted(self, text, MARGIN, base, width - 2 * MARGIN, size, None, _DRAFT_FONT)
        else:
            self.drawCentredString(width / 2, base, shown)
        self.restoreState()


def _with_page_numbers(element: ET.Element | None, page: int, pages: int) -> str:
    if element is None:
        return ""
    parts = [element.text or ""]
    for child in element:
        parts.append(
            str(page)
            if child.tag == "page"
            else str(pages)
            if child.tag == "pages"
            else plain(child.text)
        )
        parts.append(child.tail or "")
    return plain("".join(parts)).strip()


def _draw_scripted(
    canvas: Canvas,
    text: str,
    x: float,
    y: float,
    width: float,
    size: float,
    at_right: bool | None,
    font: str = _FOOTER_FONT,
) -> None:
    """``text`` (with Han, Hangul or Arabic) on one line ``width`` wide from ``x``, against
    its left or right end (centred when ``at_right`` is None), with its baseline at ``y``:
    in its Noto fonts, shaped and ordered as a paragraph would be, in the canvas's colour."""
    alignment: Literal[0, 1, 2] = (
        TA_CENTER if at_right is None else TA_RIGHT if at_right else TA_LEFT
    )
    style = ParagraphStyle(
        f"footer-{font}-{alignment}",
        fontName=font,
        fontSize=size,
        leading=size + 3,
        alignment=alignment,
        textColor=canvas._fillColorObj,  # type: ignore[attr-defined]
    )
    bold = font != _FOOTER_FONT
    shown = script_runs(escape(text), None, bold)
    paragraph = CachedParagraph(shown, ScriptStyles({"footer": style}, None).get("footer", shown))
    paragraph.wrapOn(canvas, width, size * 4)
    paragraph.drawOn(canvas, x, y - paragraph.height + size)


def _fit(canvas: Canvas, text: str, width: float, size: float, font: str = _FOOTER_FONT) -> str:
    """Shorten ``text`` with an ellipsis until it fits ``width`` points in type of ``size``."""
    if canvas.stringWidth(text, font, size) <= width:
        return text
    while text and canvas.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"
