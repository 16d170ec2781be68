"""The flowables a handout is built from, and the one place the layout uses ReportLab's
internals.

ReportLab's public surface (``Paragraph``, ``Flowable``, ``Table``…) does not offer what a
fast, multi-handout layout needs: reusing line breaks, measuring a ``KeepTogether`` without
copying the frame, asking whether a frame is still at its top. Those reach into private names
(``_listWrapOn``, ``blPara``, ``_wrapWidths``, ``_atTop``, ``_startPage``), and this module is
the only layout code that does, as rst2pdf's ``flowables.py`` does. The rest of
:mod:`pars_docs.render.pdf` uses the names below, so an upgrade of ReportLab is checked here. The
other modules that touch ReportLab's internals are :mod:`.tagging`, for the object model it
writes the structure tree into (ReportLab has no tagging API), and :mod:`.fonts`, which
keeps what ReportLab reads from a font file in the start-up cache.

Every flowable here marks what it draws for the tagged PDF (see :mod:`.tagging`): content as
its structure element's, rules and borders as artifacts. A new flowable takes part by mixing
in :class:`Tagged`, and the builder gives it its element in one line:
``flowable.element = parent.add("P")``.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any, TypeVar, cast

from reportlab import rl_config
from reportlab.lib.colors import Color
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.textsplit import ALL_CANNOT_END, ALL_CANNOT_START
from reportlab.pdfbase.pdfdoc import PDFDocument
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject
from reportlab.platypus import Flowable, Frame, Image, KeepTogether, Paragraph, Table, TableStyle
from reportlab.platypus.flowables import _listWrapOn  # type: ignore[attr-defined]  # private
from reportlab.platypus.paragraph import (  # type: ignore[attr-defined]  # private
    ParaLines,
    cjkU,
    makeCJKParaLine,
)

from .fonts import register_fonts
from .scripts import FONTS, visual_order
from .tagging import Element, artifact, begin_artifact, end_artifact


class Tagged:
    """A flowable drawn as one piece of tagged content: its :attr:`element`'s, or, with no
    element, an artifact (decoration that a screen reader skips)."""

    element: Element | None = None

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:
        element = self.element
        if element is None:
            begin_artifact(canvas)
            super().drawOn(canvas, x, y, _sW)  # type: ignore[misc]
            end_artifact(canvas)
        elif element.begin(canvas):
            super().drawOn(canvas, x, y, _sW)  # type: ignore[misc]
            canvas.addLiteral("EMC")
        else:
            super().drawOn(canvas, x, y, _sW)  # type: ignore[misc]


F = TypeVar("F", bound=Flowable)


def tagged(flowable: F, element: Element | None) -> F:
    """``flowable`` drawn as ``element``'s content (``None``: as an artifact)."""
    cast(Any, flowable).element = element
    return flowable


class CachedParagraph(Tagged, Paragraph):
    """A paragraph that remembers how it was parsed and broken into lines.

    Most of a handout's wording is the same for every patient, and parsing and line breaking
    are most of ReportLab's work, so a batch reuses both for wording it has laid out before.
    The keys hold everything the results depend on: the markup, the style and the width.
    """

    # Set by Paragraph.wrap; not in ReportLab's public surface (nor its type stubs).
    blPara: Any
    _wrapWidths: Any

    # A paragraph whose drawn glyphs are not its text (shaped Arabic, drawn right to left)
    # keeps the text here; the builder writes it as its structure element's /ActualText.
    actual_text: str | None = None
    _parsed: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    _breaks: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    _LIMIT = 4096

    def __init__(
        self,
        text: str,
        style: ParagraphStyle,
        bulletText: str | None = None,
        frags: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if frags is not None or kwargs:
            # ReportLab splitting a paragraph across pages: the pieces are made from
            # fragments, have no text of their own, and are never cached.
            super().__init__(text, style, bulletText=bulletText, frags=frags, **kwargs)
            self._cacheable = False
            return
        self._cacheable = True
        key = (text, style.name, style.fontSize, style.leading, bulletText)
        hit = self._parsed.get(key)
        if hit is None:
            super().__init__(text, style, bulletText=bulletText)
            _remember(self._parsed, key, (self.text, self.frags, self.bulletText))
        else:
            super().__init__(hit[0], style, bulletText=hit[2], frags=hit[1])

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if not self._cacheable:
            width, height = super().wrap(availWidth, availHeight)
            _space_line_ends(self)
            _order_words(self)
            return width, height
        style = self.style
        key = (self.text, self.bulletText, style.name, style.fontSize, style.leading, availWidth)
        hit = self._breaks.get(key)
        if hit is None:
            width, height = super().wrap(availWidth, availHeight)
            _space_line_ends(self)
            _order_words(self)
            cut = getattr(self, "_splitLongWordCount", 0)
            _remember(self._breaks, key, (self.blPara, height, self._wrapWidths, cut))
            return width, height
        self.width = availWidth
        self.blPara, self.height, self._wrapWidths, self._splitLongWordCount = hit
        return availWidth, self.height

    def cuts_a_word(self, width: float) -> bool:
        """Whether, laid out ``width`` points wide, a word of the paragraph is too wide for a
        line and ReportLab cuts it between two letters."""
        self.wrap(width, 0xFFFF)
        return bool(getattr(self, "_splitLongWordCount", 0))

    def breakLinesCJK(self, maxWidths: Any) -> Any:  # noqa: N802 (ReportLab's name)
        """Lines of a Chinese or Korean paragraph: between characters, never inside a date,
        a time or a Latin word (see :func:`_cjk_lines`)."""
        if getattr(self, "_splitpara", 0) and hasattr(self, "blPara"):
            return self.blPara
        widths = list(maxWidths) if isinstance(maxWidths, (list, tuple)) else [maxWidths]
        style = self.style
        calc_bounds = getattr(style, "autoLeading", "") not in ("", "off")
        frags = [f for f in self.frags if hasattr(f, "text")]
        if len(frags) != len(self.frags) or self.bulletText or style.endDots:
            return super().breakLinesCJK(maxWidths)
        self.height = 0
        return _cjk_lines(frags, widths, calc_bounds)

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        # ReportLab makes the parts from the lines' words: without the spaces added at line
        # ends, or a part laid out again would show two spaces there (a doubled word gap).
        if hasattr(self, "blPara"):
            self.blPara = _unspaced(self.blPara)
        # The part that continues on the next page stays in the same element.
        parts: list[Any] = super().split(availWidth, availHeight)
        for number, part in enumerate(parts):
            part.element = self.element
            if self.actual_text is not None:
                # Text extraction reads the whole text where the paragraph starts.
                part.actual_text = self.actual_text if number == 0 else ""
        return parts

    def draw(self) -> None:
        """Draw the paragraph; one whose glyphs are not its text (shaped Arabic, drawn right
        to left: it has an ``actual_text``) inside a
        ``Span`` marked-content sequence whose /ActualText is the paragraph's text in logical
        order, which text extraction (pdftotext, copy and paste) reads instead of the glyphs.
        The structure element's /ActualText (builder.py) serves a screen reader."""
        logical = self.actual_text
        if logical is None:
            super().draw()
            return
        self.canv.addLiteral(f"/Span <</ActualText {pdf_text_string(logical)}>> BDC")
        super().draw()
        self.canv.addLiteral("EMC")

    def first_baseline(self) -> float:
        """Where, above the bottom of the wrapped paragraph, its first line sits; ReportLab
        draws a paragraph's bullet there."""
        blPara = cast(Any, self).blPara
        first = blPara if blPara.kind == 0 else blPara.lines[0]
        if rl_config.paraFontSizeHeightOffset:
            return float(self.height - first.fontSize)
        return float(self.height - getattr(first, "ascent", first.fontSize))


def pdf_text_string(text: str) -> str:
    """``text`` as a PDF text string: UTF-16BE with its byte order mark, in hex."""
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def _space_line_ends(paragraph: Paragraph) -> None:
    """End every line but the last with a space, as the text had one there.

    ReportLab drops the space where it breaks a line, so the words either side of a break
    ran together when the text was read aloud or copied ("somethingdifferent"). A space at
    the end of a left-aligned line draws nothing.
    """
    if paragraph.style.alignment != TA_LEFT:
        return
    blPara = cast(Any, paragraph).blPara
    lines = blPara.lines
    if blPara.kind == 0:
        for index in range(len(lines) - 1):
            extra, words = lines[index]
            if words and not words[-1].endswith(" "):
                lines[index] = (extra, [*words[:-1], words[-1] + " "])
        return
    for line in lines[:-1]:
        if line.words and not line.words[-1].text.endswith(" "):
            last = copy.copy(line.words[-1])
            last.text += " "
            line.words[-1] = last


def _unspaced(blPara: Any) -> Any:
    """A copy of ``blPara`` without the spaces :func:`_space_line_ends` added (the cached
    original keeps them)."""
    out = copy.copy(blPara)
    lines = blPara.lines
    if blPara.kind == 0:
        out.lines = [
            (extra, [*words[:-1], words[-1].rstrip(" ")])
            if words and n < len(lines) - 1
            else (extra, words)
            for n, (extra, words) in enumerate(lines)
        ]
        return out
    out.lines = []
    for n, line in enumerate(lines):
        if n < len(lines) - 1 and line.words and line.words[-1].text.endswith(" "):
            line = copy.copy(line)
            last = copy.copy(line.words[-1])
            last.text = last.text.rstrip(" ")
            line.words = [*line.words[:-1], last]
        out.lines.append(line)
    return out


# Chinese wraps between characters, as ReportLab's CJK wrapping does; Korean, which puts
# spaces between its words, wraps at the spaces, as Latin text does. Neither breaks inside a
# date or a time ("2027年3月4日星期四", "上午8:00", "3월 4일 목요일", "오전 7:30"), nor inside
# a run of Latin letters or digits ("warfarin", "911"). ReportLab's own CJK splitter breaks
# between any two characters (of a date, or of a Korean word); this one is ReportLab's with
# those rules. A date and the weekday after it may go to two lines when nothing else fits
# (a narrow column in large print); a time never.
_GAP = "[ \u00a0]"
_DATE = f"(?:\\d+年)?\\d+月\\d+日|(?:\\d+년{_GAP})?\\d+월{_GAP}\\d+일"
_WEEKDAY = f"星期[一二三四五六日天]|{_GAP}[월화수목금토일]요일"
_TIME = f"(?:[上下]午|中午|오전{_GAP}|오후{_GAP})?\\d{{1,2}}:\\d{{2}}"
_KEEP_WHOLE = re.compile(f"(?P<date>{_DATE})(?P<weekday>{_WEEKDAY})?|{_TIME}")

# Where a line may start: never, only when no free break fits the line, or freely.
NEVER, WEAK, FREE = 0, 1, 2


def _wide(char: str) -> bool:
    return char >= "\u2e80"


def _hangul(char: str) -> bool:
    return (
        "\uac00" <= char <= "\ud7ff"
        or "\u1100" <= char <= "\u11ff"
        or ("\u3130" <= char <= "\u318f")
    )


def _breaks(text: str) -> list[int]:
    """For each position of ``text``, whether a line may start there: :data:`FREE`,
    :data:`WEAK` (between a date and its weekday) or :data:`NEVER`."""
    allowed = [NEVER] * (len(text) + 1)
    for at in range(1, len(text)):
        before, here = text[at - 1], text[at]
        if here in ALL_CANNOT_START or before in ALL_CANNOT_END:
            continue
        if before == " ":
            allowed[at] = FREE
        elif (_wide(before) or _wide(here)) and not (_hangul(before) or _hangul(here)):
            allowed[at] = FREE
    for match in _KEEP_WHOLE.finditer(text):
        for at in range(match.start() + 1, match.end()):
            allowed[at] = NEVER
        if match.group("weekday"):
            weekday = match.start("weekday")
            allowed[weekday + (text[weekday] in " \u00a0")] = WEAK
    return allowed


def _cjk_lines(frags: list[Any], max_widths: list[float], calc_bounds: bool) -> Any:
    """``frags`` broken into lines of at most ``max_widths`` (ReportLab's ``cjkFragSplit``,
    with :func:`_breaks` choosing where a line may start)."""
    units: list[Any] = []
    for frag in frags:
        text = frag.text
        if text:
            units.extend(cjkU(t, frag, "utf8") for t in text)
        else:
            units.append(cjkU(text, frag, "utf8"))
    text = "".join(str(u) or "\ufffc" for u in units)
    allowed = _breaks(text)
    lines: list[Any] = []
    start = 0
    while start < len(units):
        width = max_widths[min(len(lines), len(max_widths) - 1)]
        used = 0.0
        end = start
        forced = False
        while end < len(units):
            unit = units[end]
            if hasattr(unit.frag, "lineBreak"):
                end += 1
                forced = True
                break
            if used + unit.width > width + 1e-6 and end > start:
                break
            used += unit.width
            end += 1
        if end < len(units) and not forced:
            for level in (FREE, WEAK):
                back = next((at for at in range(end, start, -1) if allowed[at] >= level), None)
                if back is not None:
                    end = back
                    break
        used = sum(u.width for u in units[start:end])
        lines.append(
            makeCJKParaLine(units[start:end], width, used, width - used, forced, calc_bounds)
        )
        start = end
    return ParaLines(kind=1, lines=lines)


def _set_rise(self: PDFTextObject, rise: float) -> None:
    """ReportLab's ``setRise``, safe when a shaped word's first glyph is raised or lowered
    (an Arabic mark drawn first, right to left): ReportLab's own reads the last operator of
    an empty list there (ReportLab 4.1 to 5.1)."""
    code = self._code  # type: ignore[attr-defined]
    if code and code[-1].endswith(" Ts"):
        self._y += self._rise  # type: ignore[attr-defined]
        code[-1] = f"{fp_str(rise)} Ts"
    else:
        self._rise = rise  # type: ignore[attr-defined]
        self._y -= rise  # type: ignore[attr-defined]
        code.append(f"{fp_str(rise)} Ts")


PDFTextObject.setRise = _set_rise  # type: ignore[method-assign]


def _order_words(paragraph: Paragraph) -> None:
    """Put the words of each line of a paragraph that holds right-to-left text (its style's
    ``bidi`` says the base direction) in the order they are drawn, left to right.

    ReportLab breaks lines in logical order; with shaping on, each Arabic word's glyphs are
    already in visual order (HarfBuzz), so only the words are reordered here, by the
    bidirectional algorithm (:func:`.scripts.visual_order`). Lines set in one font
    (ReportLab's kind 0) hold no Arabic and keep their order.
    """
    direction = getattr(paragraph.style, "bidi", None)
    blPara = cast(Any, paragraph).blPara
    if direction is None or blPara.kind != 1:
        return
    for line in blPara.lines:
        pieces: list[Any] = []
        classes: list[str] = []
        for frag in line.words:
            text = getattr(frag, "text", "")
            if hasattr(frag, "cbDefn") or not text:
                pieces.append(frag)
                classes.append("ON")
                continue
            arabic = frag.fontName.startswith(_ARABIC_FONT)
            start = 0
            for gap in _SPACES.finditer(text):
                if gap.start() > start:
                    pieces.append(frag.clone(text=text[start : gap.start()]))
                    classes.append(_word_class(text[start : gap.start()], arabic))
                pieces.append(frag.clone(text=text[gap.start() : gap.end()]))
                classes.append("WS")
                start = gap.end()
            if start < len(text):
                pieces.append(frag.clone(text=text[start:]))
                classes.append(_word_class(text[start:], arabic))
        line.words = [pieces[i] for i in visual_order(classes, direction == "rtl")]


_SPACES = re.compile(" +")
_ARABIC_FONT = FONTS["Arab"].regular


def _word_class(word: str, arabic: bool) -> str:
    """A word's bidirectional class: Arabic (its glyphs stand for right-to-left letters), a
    number, a left-to-right word, or punctuation."""
    if arabic:
        return "R"
    if word[0].isdigit():
        return "EN"
    return "L" if any(c.isalpha() for c in word) else "ON"


def _remember(
    cache: dict[tuple[Any, ...], tuple[Any, ...]], key: tuple[Any, ...], value: tuple[Any, ...]
) -> None:
    if len(cache) >= CachedParagraph._LIMIT:
        cache.clear()
    cache[key] = value


class ParagraphsTogether(KeepTogether):
    """KeepTogether for plain paragraphs, measured without copying the document's frame.

    ReportLab deep-copies the frame on every measurement so that generated content (index
    entries and the like) can be replayed; a handout has none, and the copy was a tenth of
    the rendering time.
    """

    _content: list[Flowable]  # KeepTogether's own list, not in its type stubs

    def wrap(self, aW: float, aH: float) -> tuple[float, float]:
        dims: list[tuple[float, float]] = []
        width, height = _listWrapOn(self._content, aW, None, dims=dims)
        self._H = height
        self._H0 = dims[0][1] if dims else 0
        self._wrapInfo = aW, aH
        return width, 0xFFFFFF  # force a split, as KeepTogether does

    def split(self, aW: float, aH: float) -> list[Flowable]:
        """Keep everything together, except that running text may break rather than leave
        the rest of the page empty: after two lines or more of a paragraph, with its heading
        above them, or after a whole paragraph of three lines or more that does not lead into
        what follows (a short introduction stays with its list)."""
        content = self._content
        if self._H > aH:
            used = 0.0
            for index, flowable in enumerate(content):
                _, height = flowable.wrap(aW, aH)
                # The frame has made room for the first one's space before already.
                before = flowable.getSpaceBefore() if index else 0.0
                need = height + before
                if used + need <= aH:
                    used += need + flowable.getSpaceAfter()
                    continue
                if _running_text(flowable):
                    room = aH - used - before
                    parts = flowable.split(aW, room) if room > 0 else []
                    fits = len(parts) == 2 and parts[0].wrap(aW, aH)[1] <= room
                    if fits and _lines(parts[0]) >= 2:
                        rest = ParagraphsTogether([parts[1], *content[index + 1 :]])
                        return [*content[:index], parts[0], rest]
                # Else after the last whole paragraph that fits, if it is more than a short
                # introduction and does not lead into a list.
                for end in range(index, 0, -1):
                    previous = content[end - 1]
                    if (
                        isinstance(previous, Paragraph)
                        and _running_text(previous)
                        and _lines(previous) >= 3
                        and not previous.getPlainText().rstrip().endswith(":")
                    ):
                        return [*content[:end], ParagraphsTogether(content[end:])]
                break
        kept: list[Flowable] = super().split(aW, aH)
        return kept


def break_text(flowable: Flowable, width: float, room: float) -> list[Flowable] | None:
    """``flowable`` broken in two where ``room`` ends, if it is running text (a body
    paragraph) and two of its lines or more fit there; else None."""
    if not _running_text(flowable) or room <= 0:
        return None
    parts: list[Flowable] = flowable.split(width, room)
    if len(parts) == 2 and parts[0].wrap(width, room)[1] <= room and _lines(parts[0]) >= 2:
        return parts
    return None


def _running_text(flowable: Flowable) -> bool:
    """A paragraph of body text (not a heading, not a list item)."""
    return (
        isinstance(flowable, Paragraph)
        and not flowable.bulletText
        and flowable.style.name == "body"
    )


def _lines(paragraph: Flowable) -> int:
    """How many lines a wrapped paragraph has (1 for anything else)."""
    bl = getattr(paragraph, "blPara", None)
    return len(bl.lines) if bl is not None and getattr(bl, "lines", None) else 1


class ListItem(Flowable):
    """A list item: a label (bullet, check box or number) and a body paragraph, each tagged
    with its own element (``Lbl`` and ``LBody`` under one ``LI``).

    The label is drawn where ReportLab draws a paragraph's bullet, in the style's bullet font,
    so the item looks as a bulleted paragraph does. A body that continues on the next page
    continues without its label.
    """

    def __init__(self, label: str, body: CachedParagraph, element: Element | None) -> None:
        super().__init__()
        self.label = label
        self.body = body
        self.element = element  # the label's

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width, self.height = self.body.wrap(availWidth, availHeight)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        parts = self.body.split(availWidth, availHeight)
        if not parts:
            return []
        first = parts[0]
        assert isinstance(first, CachedParagraph)
        return [ListItem(self.label, first, self.element), *parts[1:]]

    def getSpaceBefore(self) -> float:
        return float(self.body.getSpaceBefore())

    def getSpaceAfter(self) -> float:
        return float(self.body.getSpaceAfter())

    def draw(self) -> None:
        canvas = self.canv
        style = self.body.style
        with _marked(canvas, self.element):
            canvas.saveState()
            canvas.setFont(style.bulletFontName, style.bulletFontSize)
            canvas.setFillColor(getattr(style, "bulletColor", None) or style.textColor)
            baseline = self.body.first_baseline() + getattr(style, "bulletOffsetY", 0)
            if getattr(style, "bidi", None) == "rtl":
                # Right to left: the label at the right, as far in as it is from the left.
                canvas.drawRightString(self.width - style.bulletIndent, baseline, self.label)
            else:
                canvas.drawString(style.bulletIndent, baseline, self.label)
            canvas.restoreState()
        self.body.drawOn(canvas, 0, 0)


def _marked(canvas: Canvas, element: Element | None) -> Any:
    return artifact(canvas) if element is None else element.marked(canvas)


class TaggedImage(Tagged, Image):
    """An image: a ``Figure`` with alternative text, or an artifact when it has no element."""


class TaggedTable(Table):
    """A platypus table whose rules and backgrounds are artifacts. The flowables in its
    cells tag themselves; a header row repeated at the top of a following page is an
    artifact, so a screen reader reads it once, where it first appears."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("renderCB", _table_marks)
        super().__init__(*args, **kwargs)
        self.repeated = 0  # how many of the first rows repeat a header
        self.in_repeat = False

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        parts: list[Flowable] = super().split(availWidth, availHeight)
        for index, part in enumerate(parts):
            if isinstance(part, TaggedTable):
                part.repeated = self.repeated if index == 0 else part.repeatRows
        return parts


def _table_marks(table: TaggedTable, event: str, *args: Any) -> None:
    """ReportLab's table drawing callback: decoration and repeated headers as artifacts."""
    canvas = table.canv
    if event in ("startBG", "startLines"):
        begin_artifact(canvas)
    elif event in ("endBG", "endLines"):
        end_artifact(canvas)
    elif event == "startCell" and args[0] < table.repeated:
        table.in_repeat = True
        begin_artifact(canvas, "Pagination", "Header")
    elif event == "endCell" and table.in_repeat:
        table.in_repeat = False
        end_artifact(canvas)


class Box(Flowable):
    """A framed box of paragraphs that stays whole on one page (the call boxes).

    Drawn directly: a platypus Table around a short list costs more than the list itself.
    """

    PAD_X, PAD_TOP, PAD_BOTTOM, BORDER = 12, 7, 8, 2.5

    def __init__(self, flowables: list[Flowable], color: Color) -> None:
        super().__init__()
        self.flowables = flowables
        self.color = color

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        inner = availWidth - 2 * self.PAD_X
        self.sizes = [f.wrap(inner, availHeight) for f in self.flowables]
        gaps = [f.getSpaceAfter() for f in self.flowables[:-1]]
        self.height = sum(h for _, h in self.sizes) + sum(gaps) + self.PAD_TOP + self.PAD_BOTTOM
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        """Nothing, so that the box moves to the next page whole; only a box taller than a
        whole page (large print in a long language) is split, between its paragraphs, into
        two framed boxes."""
        template = getattr(getattr(self, "canv", None), "_doctemplate", None)
        frame = getattr(template, "frame", None)
        if not getattr(frame, "_atTop", False) or len(self.flowables) < 2:
            return []
        self.wrap(availWidth, availHeight)
        room = availHeight - self.PAD_TOP - self.PAD_BOTTOM
        used, count = 0.0, 0
        for flowable, (_, height) in zip(self.flowables, self.sizes, strict=True):
            if used + height > room:
                break
            used += height + flowable.getSpaceAfter()
            count += 1
        if count == 0:
            return []
        return [
            Box(self.flowables[:count], self.color),
            Box(self.flowables[count:], self.color),
        ]

    def draw(self) -> None:
        canvas = self.canv
        y = self.height - self.PAD_TOP
        for index, (flowable, (_, height)) in enumerate(
            zip(self.flowables, self.sizes, strict=True)
        ):
            y -= height
            flowable.drawOn(canvas, self.PAD_X, y)
            if index < len(self.flowables) - 1:
                y -= flowable.getSpaceAfter()
        draw_frame(canvas, self.width, self.height, self.color, self.BORDER)


def draw_frame(canvas: Canvas, width: float, height: float, color: Color, line: float) -> None:
    """The border of a box drawn at the origin, as an artifact (a screen reader skips it)."""
    with artifact(canvas):
        canvas.saveState()
        canvas.setStrokeColor(color)
        canvas.setLineWidth(line)
        canvas.rect(0, 0, width, height)
        canvas.restoreState()


class HandoutStart(Flowable):
    """Marks where a handout begins; carries its footer, and the footer's type size, to the
    canvas."""

    def __init__(self, key: int, footer: ET.Element | None, size: float) -> None:
        super().__init__()
        self.key = key
        self.footer = footer
        self.size = size

    def wrap(self, *_: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        # Read by the footer canvas (document.FooterCanvas), which the stubs cannot know.
        self.canv.handout = (self.key, self.footer, self.size)  # type: ignore[attr-defined]


def table_style(commands: list[tuple[Any, ...]]) -> TableStyle:
    """A table style that draws in the bundled font (tables default to Helvetica)."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), register_fonts()[0]), *commands])


def boxed_table(flowables: Sequence[Flowable], color: Color, width: float) -> Table:
    """A framed box, one row per flowable, so a long box (a long note) can continue on the
    next page instead of failing to fit."""
    table = TaggedTable([[f] for f in flowables], colWidths=[width])
    table.setStyle(
        table_style(
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


# The frame and canvas internals the document template and the footer canvas need.


def frame_at_top(frame: Frame) -> bool:
    """Whether nothing has been drawn in ``frame`` yet."""
    return bool(frame._atTop)  # type: ignore[attr-defined]


def start_page(canvas: Canvas) -> None:
    """Begin a fresh page on ``canvas`` without emitting the one before (held back)."""
    canvas._startPage()  # type: ignore[attr-defined]


def page_width(canvas: Canvas) -> float:
    """The width of ``canvas``'s page, in points."""
    return float(canvas._pagesize[0])  # type: ignore[attr-defined]


def pdf_document(canvas: Canvas) -> PDFDocument:
    """The PDF object model ``canvas`` writes into (for the structure tree and metadata)."""
    return canvas._doc  # type: ignore[attr-defined]


def document_timestamp(document: PDFDocument) -> Any:
    """The moment ``document`` records as made (``SOURCE_DATE_EPOCH`` when set), for metadata
    that must agree with the information dictionary."""
    return document._timeStamp  # type: ignore[attr-defined]
