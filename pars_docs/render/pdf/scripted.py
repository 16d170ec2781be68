"""Paragraph styles for a handout's script: right-to-left languages set right-aligned and
shaped, Chinese and Korean wrapped between characters, and any paragraph holding Arabic
shaped and ordered (see :mod:`.scripts`)."""

from __future__ import annotations

from collections.abc import Mapping

from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle

from .fonts import script_runs
from .scripts import FONTS, is_cjk, is_rtl

__all__ = ["ScriptStyles", "script_runs", "unescape"]


def unescape(text: str) -> str:
    """Paragraph markup's text without its escapes (:func:`pars_docs.compose.markup.escape`'s)."""
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


_ARABIC = f'"{FONTS["Arab"].regular}'  # and its bold


class ScriptStyles:
    """The stylesheet's styles as a handout in ``language`` sets them."""

    def __init__(self, base: Mapping[str, ParagraphStyle], language: str | None) -> None:
        self.base = base
        self.language = language
        self.rtl = is_rtl(language)
        self.cjk = is_cjk(language)
        self._made: dict[tuple[str, bool], ParagraphStyle] = {}

    @staticmethod
    def shaped(shown: str) -> bool:
        """Whether paragraph markup ``shown`` (after :func:`script_runs`) holds Arabic, whose
        drawn glyphs are not its text (joining forms, right-to-left order)."""
        return _ARABIC in shown

    def get(self, name: str, shown: str) -> ParagraphStyle:
        """Style ``name`` for paragraph markup ``shown``."""
        arabic = self.shaped(shown)
        if not (self.rtl or self.cjk or arabic):
            return self.base[name]
        key = (name, arabic)
        style = self._made.get(key)
        if style is None:
            base = self.base[name]
            parts = [name, "rtl" if self.rtl else "", "cjk" if self.cjk else "", "ar" * arabic]
            style = ParagraphStyle("-".join(p for p in parts if p), parent=base)
            if arabic or self.rtl:
                # Read by CachedParagraph.wrap: the base direction its lines are ordered in.
                style.bidi = "rtl" if self.rtl else "ltr"
                style.shaping = 1 if arabic else 0
            if self.rtl:
                if base.alignment == TA_LEFT:
                    style.alignment = TA_RIGHT
                style.leftIndent, style.rightIndent = base.rightIndent, base.leftIndent
            if self.cjk:
                style.wordWrap = "CJK"
            self._made[key] = style
        return style
