"""Type sizes, colours and spacing of the printed handout, in one place.

Large type for patients: body text is 12 pt, nothing a patient must read is under 12 pt
(18 pt in large print), and everything is dark on white so it photocopies and faxes cleanly.
"""

from __future__ import annotations

from math import ceil
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth

from .fonts import register_fonts

PAPER = {"letter": LETTER, "a4": A4}
MARGIN = 0.5 * inch
FOOTER_SIZE = 10
LARGE_FOOTER_SIZE = 14  # in large print


def footer_top(size: float = FOOTER_SIZE) -> float:
    """Where the footer's rule runs, in points above the bottom edge, for footer type of
    ``size``: two lines of footer below it."""
    return 0.3 * inch + 2 * (size + 3)


FOOTER_TOP = footer_top()
# The text frame ends this far above the bottom edge: above a large-print footer's rule too,
# which the frame's own padding keeps clear of the text.
FRAME_BOTTOM = max(FOOTER_TOP + 8, footer_top(LARGE_FOOTER_SIZE))
INK = colors.HexColor("#111111")
MUTED = colors.HexColor("#444444")
RULE = colors.HexColor("#1f3a5f")
EMERGENCY = colors.HexColor("#9b1c1c")
BODY_SIZE = 12
LARGE_BODY_SIZE = 18


def _label_indent(labels: tuple[str, ...], font: str, size: float, at: float) -> float:
    """The left indent that keeps a list item's wrapped lines under its first line's text:
    ReportLab starts that text 0.6 em after the widest label."""
    widest = max(stringWidth(label, font, size) for label in labels)
    return float(ceil(at + widest + 0.6 * size))


def stylesheet(large_print: bool = False) -> dict[str, ParagraphStyle]:
    """The paragraph styles; ``large_print``: body 18 pt, larger headings, wider spacing."""
    regular, bold = register_fonts()
    size = LARGE_BODY_SIZE if large_print else BODY_SIZE
    k = size / BODY_SIZE  # every size scales with the body
    spacing = 1.36 if large_print else 1.18  # leading as a multiple of the type size

    def lead(points: float) -> float:
        return round(points * spacing, 1)

    body = ParagraphStyle(
        "body",
        fontName=regular,
        fontSize=size,
        leading=lead(size),
        textColor=INK,
        spaceAfter=3 * k,
    )

    def item(name: str, labels: tuple[str, ...], label_size: float) -> ParagraphStyle:
        return ParagraphStyle(
            name,
            parent=body,
            leftIndent=_label_indent(labels, regular, label_size, 2 * k),
            bulletIndent=2 * k,
            bulletFontName=regular,
            bulletFontSize=label_size,
            spaceAfter=2 * k,
        )

    def style(name: str, points: float, **kw: Any) -> ParagraphStyle:
        points *= k
        return ParagraphStyle(name, parent=body, fontSize=points, leading=lead(points), **kw)

    return {
        "body": body,
        "clinic": style("clinic", 15, fontName=bold, spaceAfter=1),
        "address": style("address", 12, textColor=MUTED),
        "title": style("title", 22, fontName=bold, spaceBefore=4, spaceAfter=2, textColor=RULE),
        "subtitle": style("subtitle", 14, textColor=MUTED, spaceAfter=6 * k),
        "section": style(
            "section", 18, fontName=bold, spaceBefore=7 * k, spaceAfter=3 * k, textColor=RULE
        ),
        "group": style("group", 14.5, fontName=bold, spaceBefore=5 * k, spaceAfter=2 * k),
        "check": item("check", ("☐",), 15 * k),
        "bullet": item("bullet", ("•",), size),
        "step": item("step", ("10.",), size),
        "label": style("label", 12, textColor=MUTED, spaceAfter=0),
        "value": style("value", 13, fontName=bold, spaceAfter=0),
        "phone": style("phone", 16, fontName=bold, spaceAfter=2),
        "box_title": style("box_title", 17, fontName=bold, spaceAfter=3 * k),
        # The key-times checklist on page 1.
        "key_box": style("key_box", 15, spaceAfter=0),
        "key_when": style("key_when", 12, fontName=bold, spaceAfter=0),
        "key_what": style("key_what", 12, spaceAfter=0),
        "key_note": style("key_note", 12, spaceAfter=0),
        "key_phone": style("key_phone", 14, fontName=bold, spaceAfter=0),
        # The words drawn on a picture (pictures.py), as large as body text.
        "picture": style("picture", 12, spaceAfter=0),
    }
