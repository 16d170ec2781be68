"""Type sizes, colours and spacing of the printed handout, in one place.

Large type for patients: body text is 12 pt, nothing a patient must read is under 12 pt,
and everything is dark on white so it photocopies and faxes cleanly.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch

from .fonts import register_fonts

PAPER = {"letter": LETTER, "a4": A4}
MARGIN = 0.7 * inch
FOOTER_SIZE = 10
INK = colors.HexColor("#111111")
MUTED = colors.HexColor("#444444")
RULE = colors.HexColor("#1f3a5f")
EMERGENCY = colors.HexColor("#9b1c1c")
BODY_SIZE = 12


def stylesheet() -> dict[str, ParagraphStyle]:
    regular, bold = register_fonts()
    body = ParagraphStyle(
        "body", fontName=regular, fontSize=BODY_SIZE, leading=15.5, textColor=INK, spaceAfter=4
    )

    def item(name: str, indent: float, bullet_size: float) -> ParagraphStyle:
        return ParagraphStyle(
            name,
            parent=body,
            leftIndent=indent,
            bulletIndent=2,
            bulletFontName=regular,
            bulletFontSize=bullet_size,
            spaceAfter=3,
        )

    return {
        "body": body,
        "clinic": ParagraphStyle(
            "clinic", parent=body, fontName=bold, fontSize=15, leading=19, spaceAfter=1
        ),
        "address": ParagraphStyle("address", parent=body, textColor=MUTED, fontSize=12, leading=15),
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontName=bold,
            fontSize=24,
            leading=29,
            spaceBefore=6,
            spaceAfter=2,
            textColor=RULE,
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=body, fontSize=14, leading=18, textColor=MUTED, spaceAfter=8
        ),
        "section": ParagraphStyle(
            "section",
            parent=body,
            fontName=bold,
            fontSize=19,
            leading=24,
            spaceBefore=12,
            spaceAfter=4,
            textColor=RULE,
        ),
        "group": ParagraphStyle(
            "group",
            parent=body,
            fontName=bold,
            fontSize=15,
            leading=19,
            spaceBefore=8,
            spaceAfter=3,
        ),
        "check": item("check", 24, 17),
        "bullet": item("bullet", 18, BODY_SIZE),
        "step": item("step", 24, BODY_SIZE),
        "label": ParagraphStyle(
            "label", parent=body, fontSize=12, leading=15, textColor=MUTED, spaceAfter=0
        ),
        "value": ParagraphStyle(
            "value", parent=body, fontName=bold, fontSize=13, leading=16, spaceAfter=0
        ),
        "phone": ParagraphStyle(
            "phone", parent=body, fontName=bold, fontSize=17, leading=22, spaceAfter=2
        ),
        "box_title": ParagraphStyle(
            "box_title", parent=body, fontName=bold, fontSize=18, leading=22, spaceAfter=4
        ),
    }
