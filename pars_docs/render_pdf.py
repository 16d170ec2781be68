"""Lay a composed handout out as a PDF with ReportLab.

This module knows about pages, boxes and type; it writes no wording of its own. Everything it
prints comes from the composed document (see compose.py and templates/handout.xml.j2).
Several handouts can share one PDF (a batch packet): fonts are then embedded once, and each
handout keeps its own "page X of Y" footer.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.doctemplate import LayoutError
from reportlab.platypus.flowables import _listWrapOn

from . import __version__
from .compose import BOLD_OFF, BOLD_ON
from .errors import InstructionError
from .fonts import register_fonts
from .output import reproducible
from .styles import EMERGENCY, FOOTER_SIZE, INK, MARGIN, PAPER, RULE, stylesheet

WRITE_IN = "_" * 24  # a line to write a number on by hand when the site profile has none


def markup(text: str | None) -> str:
    """Plain composed text → ReportLab paragraph markup, bold where the text asks for it."""
    return escape(text or "").replace(BOLD_ON, "<b>").replace(BOLD_OFF, "</b>")


def plain(text: str | None) -> str:
    return (text or "").replace(BOLD_ON, "").replace(BOLD_OFF, "")


class _Paragraph(Paragraph):
    """A paragraph that remembers how it was parsed and broken into lines.

    Most of a handout's wording is the same for every patient, and parsing and line breaking
    are most of ReportLab's work, so a batch reuses both for wording it has laid out before.
    The keys hold everything the results depend on: the markup, the style and the width.
    """

    _parsed: dict = {}
    _breaks: dict = {}
    _LIMIT = 4096

    def __init__(self, text, style, bulletText=None, frags=None, **kwargs):
        if frags is not None or kwargs:
            # ReportLab splitting a paragraph across pages: the pieces are made from
            # fragments, have no text of their own, and are never cached.
            super().__init__(text, style, bulletText=bulletText, frags=frags, **kwargs)
            self._cacheable = False
            return
        self._cacheable = True
        key = (text, style.name, bulletText)
        hit = self._parsed.get(key)
        if hit is None:
            super().__init__(text, style, bulletText=bulletText)
            _remember(self._parsed, key, (self.text, self.frags, self.bulletText))
        else:
            super().__init__(hit[0], style, bulletText=hit[2], frags=hit[1])

    def wrap(self, availWidth, availHeight):
        if not self._cacheable:
            return super().wrap(availWidth, availHeight)
        key = (self.text, self.bulletText, self.style.name, availWidth)
        hit = self._breaks.get(key)
        if hit is None:
            width, height = super().wrap(availWidth, availHeight)
            _remember(self._breaks, key, (self.blPara, height, self._wrapWidths))
            return width, height
        self.width = availWidth
        self.blPara, self.height, self._wrapWidths = hit
        return availWidth, self.height


class _KeepTogether(KeepTogether):
    """KeepTogether for plain paragraphs, measured without copying the document's frame.

    ReportLab deep-copies the frame on every measurement so that generated content (index
    entries and the like) can be replayed; a handout has none, and the copy was a tenth of
    the rendering time.
    """

    def wrap(self, aW, aH):
        dims: list = []
        width, height = _listWrapOn(self._content, aW, None, dims=dims)
        self._H = height
        self._H0 = dims[0][1] if dims else 0
        self._wrapInfo = aW, aH
        return width, 0xFFFFFF  # force a split, as KeepTogether does


def _remember(cache: dict, key, value) -> None:
    if len(cache) >= _Paragraph._LIMIT:
        cache.clear()
    cache[key] = value


class _FieldTable(Flowable):
    """The patient block: label and value rows in a ruled box.

    Drawn directly rather than as a platypus Table, which does far more (spans, styles,
    splitting) than a small block that always stays on the first page needs; it was a tenth
    of the time to render a handout.
    """

    PAD_X, PAD_TOP, PAD_BOTTOM = 6, 4, 5

    def __init__(self, rows: list, label_width: float):
        super().__init__()
        self.rows = rows
        self.label_width = label_width

    def wrap(self, availWidth, availHeight):
        self.width = availWidth
        value_width = availWidth - self.label_width - 2 * self.PAD_X
        self.heights = []
        for label, value in self.rows:
            _, label_height = label.wrap(self.label_width - 2 * self.PAD_X, availHeight)
            _, value_height = value.wrap(value_width, availHeight)
            self.heights.append(max(label_height, value_height) + self.PAD_TOP + self.PAD_BOTTOM)
        self.height = sum(self.heights)
        return self.width, self.height

    def draw(self):
        canvas = self.canv
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        top = self.height
        for index, ((label, value), height) in enumerate(zip(self.rows, self.heights, strict=True)):
            bottom = top - height
            for para, x in ((label, self.PAD_X), (value, self.label_width + self.PAD_X)):
                # Centred in the row, as the old table's VALIGN MIDDLE was.
                para_height = para.height
                para.drawOn(canvas, x, bottom + (height - para_height) / 2)
            if index < len(self.rows) - 1:
                canvas.setLineWidth(0.4)
                canvas.line(0, bottom, self.width, bottom)
            top = bottom
        canvas.setLineWidth(1.2)
        canvas.rect(0, 0, self.width, self.height)
        canvas.restoreState()


class _Box(Flowable):
    """A framed box of paragraphs that stays whole on one page (the call boxes).

    Drawn directly: a platypus Table around a short list costs more than the list itself.
    """

    PAD_X, PAD_TOP, PAD_BOTTOM, BORDER = 12, 8, 10, 2.5

    def __init__(self, flowables: list, color):
        super().__init__()
        self.flowables = flowables
        self.color = color

    def wrap(self, availWidth, availHeight):
        self.width = availWidth
        inner = availWidth - 2 * self.PAD_X
        self.sizes = [f.wrap(inner, availHeight) for f in self.flowables]
        gaps = [f.getSpaceAfter() for f in self.flowables[:-1]]
        self.height = sum(h for _, h in self.sizes) + sum(gaps) + self.PAD_TOP + self.PAD_BOTTOM
        return self.width, self.height

    def split(self, availWidth, availHeight):
        return []  # never split: it moves to the next page whole

    def draw(self):
        canvas = self.canv
        y = self.height - self.PAD_TOP
        for index, (flowable, (_, height)) in enumerate(
            zip(self.flowables, self.sizes, strict=True)
        ):
            y -= height
            flowable.drawOn(canvas, self.PAD_X, y)
            if index < len(self.flowables) - 1:
                y -= flowable.getSpaceAfter()
        canvas.saveState()
        canvas.setStrokeColor(self.color)
        canvas.setLineWidth(self.BORDER)
        canvas.rect(0, 0, self.width, self.height)
        canvas.restoreState()


class HandoutStart(Flowable):
    """Marks where a handout begins; carries its footer to the canvas."""

    def __init__(self, key: int, footer: ET.Element | None):
        super().__init__()
        self.key = key
        self.footer = footer

    def wrap(self, *_):
        return 0, 0

    def draw(self):
        self.canv.handout = (self.key, self.footer)


class HandoutDocTemplate(BaseDocTemplate):
    """A doc template that starts each handout on a fresh page (a fresh sheet if duplex)."""

    def __init__(self, *args, new_sheets: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_sheets = new_sheets

    def handle_flowable(self, flowables):
        first = flowables[0]
        if isinstance(first, HandoutStart) and self.page:
            if not self.frame._atTop:
                flowables.insert(0, PageBreak())
            elif self.new_sheets and self.page % 2 == 0:
                self.canv.handout = None  # the padding page carries no footer
                flowables.insert(0, PageBreak())
        super().handle_flowable(flowables)


class FooterCanvas(Canvas):
    """Holds pages back until the end, so each footer can say "page X of Y" for its handout."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.handout = None
        self._saved_pages: list[tuple[dict, object]] = []

    def showPage(self):
        self._saved_pages.append((dict(self.__dict__), self.handout))
        self._startPage()

    def save(self):
        counts: dict[int, int] = {}
        for _, handout in self._saved_pages:
            if handout:
                counts[handout[0]] = counts.get(handout[0], 0) + 1
        seen: dict[int, int] = {}
        for state, handout in self._saved_pages:
            self.__dict__.update(state)
            if handout:
                key, footer = handout
                seen[key] = seen.get(key, 0) + 1
                self._draw_footer(footer, seen[key], counts[key])
            super().showPage()
        super().save()

    def _draw_footer(self, footer: ET.Element | None, page: int, pages: int):
        if footer is None:
            return
        width, _ = self._pagesize
        y = MARGIN * 0.55
        self.saveState()
        self.setFont("ParsDocsSans", FOOTER_SIZE)
        self.setFillColor(INK)
        self.setStrokeColor(RULE)
        self.setLineWidth(0.6)
        self.line(MARGIN, y + FOOTER_SIZE + 3, width - MARGIN, y + FOOTER_SIZE + 3)
        left = plain(footer.findtext("left"))
        right = plain(footer.findtext("right"))
        center = _with_page_numbers(footer.find("center"), page, pages)
        center_width = self.stringWidth(center, "ParsDocsSans", FOOTER_SIZE)
        # The patient's name gives way (with an ellipsis) before the page number does.
        room = width / 2 - center_width / 2 - MARGIN - 12
        self.drawString(MARGIN, y, _fit(self, left, room))
        self.drawCentredString(width / 2, y, center)
        self.drawRightString(width - MARGIN, y, _fit(self, right, room))
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


def _fit(canvas: Canvas, text: str, width: float) -> str:
    """Shorten ``text`` with an ellipsis until it fits ``width`` points."""
    if canvas.stringWidth(text, "ParsDocsSans", FOOTER_SIZE) <= width:
        return text
    while text and canvas.stringWidth(text + "…", "ParsDocsSans", FOOTER_SIZE) > width:
        text = text[:-1]
    return text + "…"


def _flatten(segments: list[tuple[list, list]], keep: bool = True) -> list:
    """Segments as flowables; ``keep=False`` inside a box, which never breaks anyway."""
    out: list = []
    for lead, rest in segments:
        if keep and len(lead) > 1:
            out.append(_KeepTogether(lead))
        else:
            out.extend(lead)
        out.extend(rest)
    return out


def _table_style(commands: list) -> TableStyle:
    """A table style that draws in the bundled font (tables default to Helvetica)."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), register_fonts()[0]), *commands])


def _boxed(flowables: list, color, width: float) -> Table:
    """A framed box, one row per flowable, so a long box (a long note) can continue on the
    next page instead of failing to fit."""
    table = Table([[f] for f in flowables], colWidths=[width])
    table.setStyle(
        _table_style(
            [
                ("BOX", (0, 0), (-1, -1), 2.5, color),
                ("LEFTPADDING", (0, 0), (-1, -1), 12),
                ("RIGHTPADDING", (0, 0), (-1, -1), 12),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 0), (-1, 0), 8),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 10),
            ]
        )
    )
    return table


class _Builder:
    def __init__(self, styles, width: float, logo):
        self.s = styles
        self.width = width
        self.logo = logo

    def para(self, text, style="body", **kw) -> Paragraph:
        return _Paragraph(markup(text), self.s[style], **kw)

    def items(self, element: ET.Element) -> list:
        """Paragraphs, checklist items, bullets and steps inside a group or box."""
        return _flatten(self.segments(element))

    def segments(self, element: ET.Element) -> list[tuple[list, list]]:
        """The children of ``element`` as (lead, rest) pairs: each lead is kept together on
        one page, so a heading or an introductory paragraph is never left alone at the foot
        of a page. Leads hold plain paragraphs only (nested KeepTogethers break badly)."""
        segments: list[tuple[list, list]] = []
        step = 0
        pending_intro: list = []
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

    def header(self, element: ET.Element) -> list:
        out = []
        top = []
        if element.find("clinic") is not None:
            top.append(self.para(element.findtext("clinic"), "clinic"))
        if element.find("address") is not None:
            top.append(self.para(element.findtext("address").replace("\n", ", "), "address"))
        if self.logo:
            reader = ImageReader(str(self.logo))
            w, h = reader.getSize()
            height = 0.75 * 72
            image = Image(str(self.logo), width=w * height / h, height=height)
            table = Table([[image, top]], colWidths=[w * height / h + 10, None])
            table.setStyle(
                _table_style(
                    [("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
                )
            )
            out.append(table)
        else:
            out.extend(top)
        out.append(self.para(element.findtext("title"), "title"))
        out.append(self.para(element.findtext("subtitle"), "subtitle"))
        return out

    def patient(self, element: ET.Element) -> list:
        rows = [
            [self.para(f.get("label"), "label"), self.para(f.text, "value")]
            for f in element.findall("field")
        ]
        return [_FieldTable(rows, 1.6 * 72), Spacer(1, 8)]

    def callbox(self, element: ET.Element, color) -> list:
        inner = [self.para(element.get("title"), "box_title")]
        for phone in element.findall("phone"):
            number = plain(phone.text).strip()
            shown = escape(number) if number else WRITE_IN
            inner.append(_Paragraph(f"{escape(phone.get('label'))}: {shown}", self.s["phone"]))
        inner.extend(_flatten(self.segments(element), keep=False))
        return [Spacer(1, 10), _Box(inner, color)]

    def index(self, element: ET.Element) -> list:
        """The scheduler's list of the handouts in a packet."""
        header = [self.para(col.text, "label") for col in element.find("columns")]
        rows = [[self.para(cell.text) for cell in row] for row in element.findall("row")]
        widths = [0.28, 0.33, 0.28, 0.11]
        table = Table([header, *rows], colWidths=[w * self.width for w in widths], repeatRows=1)
        table.setStyle(
            _table_style(
                [
                    ("LINEBELOW", (0, 0), (-1, 0), 1.2, RULE),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return [self.para(element.get("title"), "section"), table]

    def build(self, handout: ET.Element) -> list:
        story = []
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
                story.extend([_boxed(inner, RULE, self.width), Spacer(1, 6)])
            elif tag == "notice":
                story.append(self.para(element.text))
            elif tag == "section":
                segments = self.segments(element)
                first_lead, first_rest = segments[0] if segments else ([], [])
                title = self.para(element.get("title"), "section")
                story.append(_KeepTogether([title, *first_lead]))
                story.extend([*first_rest, *_flatten(segments[1:])])
            elif tag == "callbox":
                story.extend(self.callbox(element, RULE))
            elif tag == "emergency":
                story.extend(self.callbox(element, EMERGENCY))
        return story


def render_pdf(
    handouts: list[ET.Element],
    *,
    paper: str = "letter",
    logo=None,
    title: str | None = None,
    author: str = "",
    duplex: bool = False,
    index: ET.Element | None = None,
) -> bytes:
    """One PDF holding ``handouts`` in order, each starting on a new page (a new sheet when
    ``duplex``), fonts embedded once.

    ``index`` (a packet's index, see templates/packet.xml.j2) comes first. With
    ``SOURCE_DATE_EPOCH`` set the output is byte-for-byte reproducible.
    """
    styles = stylesheet()
    pagesize = PAPER[paper]
    width = pagesize[0] - 2 * MARGIN
    buffer = io.BytesIO()
    repeatable = reproducible()
    doc = HandoutDocTemplate(
        buffer,
        pagesize=pagesize,
        new_sheets=duplex,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN * 1.2,
        title=title or (handouts[0].get("title") if handouts else "Patient handouts"),
        author=author or "pars-docs",
        subject="",
        keywords="",
        creator=f"pars-docs {__version__}",
        invariant=1 if repeatable else 0,
        # Start every page in the bundled font, so no unembedded base-14 font is referenced.
        initialFontName=register_fonts()[0],
        lang=handouts[0].get("lang") if handouts else None,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    builder = _Builder(styles, width, logo)
    story = builder.index(index) if index is not None else []
    for key, handout in enumerate(handouts):
        story.append(HandoutStart(key, handout.find("footer")))
        story.extend(builder.build(handout))
    try:
        doc.build(story, canvasmaker=FooterCanvas)
    except LayoutError as e:
        raise InstructionError(f"the handout could not be laid out on the page ({e})") from e
    return buffer.getvalue()
