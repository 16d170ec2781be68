"""The bundled fonts (DejaVu Sans) and the check that they can draw a piece of text.

ReportLab embeds a subset of each TrueType font, so the PDF never depends on fonts installed
on the computer that opens or prints it.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path
from typing import Literal, cast
from weakref import WeakKeyDictionary

from reportlab import Version as rl_version
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTEncoding, TTFNameBytes, TTFont, TTFontFace

from ... import checked
from ...compose.markup import BOLD_OFF, BOLD_ON
from ...errors import GlyphError
from ...resources import fonts_dir

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
        pdfmetrics.registerFont(_load(name, fonts_dir() / filename))
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


# Reading a TrueType font's tables (its character map and every glyph's width) is a tenth of
# a cold `make`. What ReportLab reads is kept in the cache folder (see checked.py), keyed by
# the font file and ReportLab's version, and a start puts it back into a TTFont instead of
# reading the tables again. This is the one place outside pdf/flowables.py and pdf/tagging.py
# that relies on ReportLab's internals: a TTFont's face is a plain object whose attributes
# are the tables' contents, except the file's bytes and a scaling function, made again here.
# Anything unexpected in a kept copy, and the font is read from its file as usual.


def _load(name: str, path: Path) -> TTFont:
    data = path.read_bytes()
    kept = checked.key("font", data, rl_version)[:32]
    record = checked.load("font", kept)
    if record is not None:
        try:
            return _restored(name, path, data, record)
        except Exception:  # noqa: BLE001 (a record of another shape: read the font)
            pass
    font = TTFont(name, str(path))
    _keep(font, kept)
    return font


def _keep(font: TTFont, kept: str) -> None:
    state = {}
    names = []
    for attribute, value in vars(font.face).items():
        if attribute in _MADE_AGAIN:
            continue
        if type(value) is TTFNameBytes:
            names.append(attribute)
            value = bytes(value)
        state[attribute] = value
    # A ReportLab whose fonts hold other kinds of value is not kept: read the file each time.
    checked.keep("font", kept, {"face": state, "names": names, "font": _font_state(font)})


_MADE_AGAIN = ("_ttf_data", "_pdfScale")


def _font_state(font: TTFont) -> dict:
    return {k: v for k, v in vars(font).items() if k not in ("face", "encoding", "state")}


def _restored(name: str, path: Path, data: bytes, kept: dict) -> TTFont:
    state = dict(kept["face"])
    if not (
        all(type(k) is str for k in (*state, *kept["font"], *kept["names"]))
        and type(state.get("unitsPerEm")) is int
        and state["unitsPerEm"] > 0
        and type(state.get("charWidths")) is dict
        and type(state.get("charToGlyph")) is dict
    ):
        raise ValueError("a font record of another shape")
    face = TTFontFace.__new__(TTFontFace)
    for attribute in kept["names"]:
        state[attribute] = TTFNameBytes(state[attribute])
    vars(face).update(state)
    scale = 1000 / face.unitsPerEm
    vars(face).update(
        filename=str(path),
        _ttf_data=data,
        _pdfScale=(lambda x: x) if face.unitsPerEm == 1000 else (lambda x: x * scale),
    )
    font = TTFont.__new__(TTFont)
    vars(font).update(kept["font"])
    font.fontName = name
    font.face = face
    font.encoding = TTEncoding()
    font.state = WeakKeyDictionary()
    return font


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
