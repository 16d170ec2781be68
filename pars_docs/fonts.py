"""The bundled fonts (DejaVu Sans) and the check that they can draw a piece of text.

ReportLab embeds a subset of each TrueType font, so the PDF never depends on fonts installed
on the computer that opens or prints it.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Literal, cast

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from .errors import GlyphError
from .markup import BOLD_OFF, BOLD_ON
from .resources import fonts_dir

REGULAR = "ParsDocsSans"
BOLD = "ParsDocsSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
_FACES: tuple[tuple[Literal[0, 1], Literal[0, 1], str], ...] = (
    (0, 0, REGULAR),
    (1, 0, BOLD),
    (0, 1, REGULAR),
    (1, 1, BOLD),
)
_IGNORABLE = {BOLD_ON, BOLD_OFF, "\n", "\t", "\r"}


@cache
def register_fonts() -> tuple[str, str]:
    """Register the bundled fonts with ReportLab once; return the regular and bold names."""
    for name, filename in _FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(fonts_dir() / filename)))
    for bold, italic, name in _FACES:
        addMapping(REGULAR, bold, italic, name)
    return REGULAR, BOLD


@cache
def _covered(font: str) -> frozenset[int]:
    register_fonts()
    face = cast(TTFont, pdfmetrics.getFont(font)).face
    return frozenset(face.charToGlyph)


@cache
def _both() -> frozenset[int]:
    return _covered(REGULAR) & _covered(BOLD)


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` that either bundled font lacks, in order, without repeats."""
    both = _both()
    unknown = {c for c in set(text) - _IGNORABLE if ord(c) not in both}
    return sorted(unknown, key=text.index)


_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC", "COMBINING", "MODIFIER")


def _printable_script(char: str) -> bool:
    """Whether ``char`` belongs to a script the handout can set correctly.

    The fonts also hold Arabic and Hebrew letters, but ReportLab neither joins nor reverses
    right-to-left text, so those would print garbled; emoji and other characters outside the
    Basic Multilingual Plane do not read back reliably. Both are refused.
    """
    if ord(char) > 0xFFFF or unicodedata.bidirectional(char) in ("R", "AL", "AN"):
        return False
    if unicodedata.category(char)[0] in "LM":
        return unicodedata.name(char, "").startswith(_SCRIPTS)
    return True


def describe(char: str) -> str:
    name = unicodedata.name(char, "unnamed character")
    return f"'{char}' (U+{ord(char):04X} {name})"


def check_drawable(text: str | None, field: str) -> None:
    """Raise :class:`GlyphError` naming ``field`` if the fonts cannot draw all of ``text``."""
    if not text:
        return
    missing = missing_glyphs(text)
    missing += [c for c in dict.fromkeys(text) if c not in missing and not _printable_script(c)]
    if missing:
        shown = ", ".join(describe(c) for c in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise GlyphError(
            f"{field}: the handout fonts cannot draw {shown}{more}; they cover "
            f"Latin, Greek and Cyrillic scripts",
            field=field,
        )
