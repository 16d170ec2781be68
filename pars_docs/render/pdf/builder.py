"""Composed handout XML → a platypus story.

The builder knows which element becomes which flowable and what is kept together on a page;
it writes no wording of its own. Everything it prints comes from the composed document (see
compose/composer.py and templates/handout.xml.j2).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Paragraph, Spacer

from ...compose.elements import unknown
from ...compose.markup import BOLD_OFF, BOLD_ON, WRITE_IN, escape, markup, plain
from ...load.pictures import pictures
from .flowables import (
    Box,
    CachedParagraph,
    ListItem,
    ParagraphsTogether,
    TaggedImage,
    TaggedTable,
    boxed_table,
    table_style,
    tagged,
)
from .fonts import BOLD
from .pictures import Beside, Drawn, Piece
from .pieces import EndMatter, FieldGrid, IconHeading, ItemColumns, KeyTimesBox
from .scripted import ScriptStyles, script_runs, unescape
from .styles import EMERGENCY, RULE
from .tagging import Element

# A run of flowables split in two: the lead is kept together on one page, the rest may break.
Segment = tuple[list[Flowable], list[Flowable]]


# The inner margin of a boxed table (flowables.boxed_table).
BOX_PAD = 12
# The parts that end a handout, together on its last page.
END_MATTER = ("questions", "callbox", "emergency")
# The most of the width a picture beside its items takes.
BESIDE = 0.5
# Items no longer than this many characters print in two columns.
SHORT_ITEM = 48
# A list this short is never split between pages.
SHORT_LIST = 4
LIST_ITEMS = ("check", "bullet", "step")
# The shares of a key-time line's width (after its check box) that its day and time may take,
# the widest first; the one that makes the box shortest is used.
WHEN_SHARES = (0.5, 0.45, 0.4, 0.36, 0.32)
# Space between a key-time line's day and time and its action (the cells' right padding).
CELL_GAP = 6
# A space before a number (bold marks aside), which a key time's day and time never break at
# ("March 11", "at 10:30", "5, 2027"); except that after a comma a clock time may begin the
# second line ("martes 24 de noviembre," then "2:00 a. m."), the day and then the time being
# the two lines a key time may take. Glued to the month, the time made one word too wide for
# the column in large print, which ReportLab then cut inside a letter run. After a comma only
# a year is glued ("5, 2027"): a day's number there begins its date ("пятница, 5 марта",
# "sexta-feira, 5 de março"), which may go to the next line, after the weekday.
_BEFORE_NUMBER = re.compile(
    f"(?<!,) (?=[{BOLD_ON}{BOLD_OFF}]*\\d)|(?<=,) (?=[{BOLD_ON}{BOLD_OFF}]*\\d{{4}}(?![\\d:]))"
)


# A unit symbol never starts a line apart from its number: "(38 °C)" broke as "(38" / "°C)".
_BEFORE_UNIT = re.compile(
    f"(?<=\\d)([{BOLD_ON}{BOLD_OFF}]*) (?=[{BOLD_ON}{BOLD_OFF}]*"
    "(?:°[CF]?|%|mg|mcg|kg|g|lb|lbs|ml|mL|cm|mm)(?![\\w]))"
)


def keep_units(text: str | None) -> str | None:
    """``text`` with the space between a number and its unit symbol made unbreakable."""
    return _BEFORE_UNIT.sub("\\1\u00a0", text) if text else text


def _keep_end(text: str) -> str:
    """``text`` with its last short word ("AM", a day's number) kept on the line before, and
    each number on the line of the word before it ("March 11", "at 10:30")."""
    text = _BEFORE_NUMBER.sub("\u00a0", text)
    head, _, tail = text.rpartition(" ")
    return f"{head}\u00a0{tail}" if head and len(plain(tail)) <= 5 else text


def _loosened(text: str) -> list[str]:
    """``text`` as :func:`_keep_end` glues it, then with its glue let go one space at a time
    from the start ("vendredi 12 mars", then "vendredi" apart from "12 mars"): the ways a key
    time's day and time may be set, from the most kept together to the least."""
    glued = _keep_end(text)
    loose = [at for at, (a, b) in enumerate(zip(text, glued, strict=True)) if a != b]
    out = [glued]
    for at in loose:
        out.append(out[-1][:at] + " " + out[-1][at + 1 :])
    return out


def _fitting(ways: list[CachedParagraph], width: float) -> CachedParagraph:
    """The first of ``ways`` (one text set from the most kept together to the least) that
    fits ``width`` without a word cut between two letters; the last if none does."""
    for way in ways:
        if not way.cuts_a_word(width):
            return way
    return ways[-1]


def _when_width(rows: list[tuple[list[CachedParagraph], Paragraph]], width: float) -> float:
    """The width of the key times' day-and-time column: of :data:`WHEN_SHARES` of ``width``,
    the one with which the lines take the least height in all, so that a long action does
    not wrap more than it must. A day and time may take two lines (the day, then the time)
    but not more, unless even the widest column needs more; a tie goes to the wider
    column."""
    best: tuple[float, float] | None = None
    most: list[float] = []
    for share in WHEN_SHARES:
        when = share * width
        days = [_fitting(ats, when - CELL_GAP).wrap(when - CELL_GAP, 0xFFFF)[1] for ats, _ in rows]
        if not most:
            leading = [ats[0].style.leading for ats, _ in rows]
            most = [max(day, 2 * lead) for day, lead in zip(days, leading, strict=True)]
        if any(day > limit + 0.5 for day, limit in zip(days, most, strict=True)):
            break
        height = sum(
            max(day, what.wrap(width - when - CELL_GAP, 0xFFFF)[1])
            for day, (_, what) in zip(days, rows, strict=True)
        )
        if best is None or height < best[0] - 0.5:
            best = (height, when)
    return best[1] if best else WHEN_SHARES[0] * width


def _flatten(segments: list[Segment], keep: bool = True) -> list[Flowable]:
    """Segments as flowables; ``keep=False`` inside a box, which never breaks anyway.

    Every lead is kept together, even a lead of one list item: an item never breaks
    across pages."""
    out: list[Flowable] = []
    for lead, rest in segments:
        if keep and lead:
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
        self,
        styles: Mapping[str, ParagraphStyle],
        width: float,
        logo: Path | str | None,
        height: float = 0xFFFFFF,
        large: bool = False,
    ) -> None:
        self.s = styles
        self.styles = ScriptStyles(styles, None)
        self.large = large  # large print
        self.width = width
        self.logo = logo
        self.height = height  # of the page's frame

    def para(
        self, text: str | None, style: str = "body", element: Element | None = None, **kw: Any
    ) -> CachedParagraph:
        return self._tagged(self.paragraph(markup(keep_units(text)), style, **kw), element)

    @staticmethod
    def _tagged(paragraph: CachedParagraph, element: Element | None) -> CachedParagraph:
        if element is not None and paragraph.actual_text is not None:
            # Read by a screen reader instead of the glyphs, which are drawn right to left.
            element.attrs = {**element.attrs, "actual_text": paragraph.actual_text}
        return tagged(paragraph, element)

    def paragraph(self, text: str, style: str, **kw: Any) -> CachedParagraph:
        """A paragraph of ``text`` (paragraph markup) in the handout's language: Han, Hangul
        and Arabic runs in their Noto fonts, and the words of a line that holds Arabic in
        the order the bidirectional algorithm gives, with the logical text as its
        ActualText for a screen reader and text extraction."""
        shown = script_runs(text, self.language, self.s[style].fontName == BOLD)
        paragraph = CachedParagraph(shown, self.styles.get(style, shown), **kw)
        if self.styles.shaped(shown):
            paragraph.actual_text = plain(unescape(re.sub("<[^>]*>", "", shown)))
        return paragraph

    def segments(
        self,
        element: ET.Element,
        parent: Element,
        level: int = 3,
        heading: Flowable | None = None,
    ) -> list[Segment]:
        """The children of ``element`` as (lead, rest) pairs (see :meth:`laid_out`), led by
        ``heading`` (its title), with the picture it names set beside what follows it (or
        below it). A picture that comes first has the heading beside it too."""
        picture = element.find("picture")
        if picture is None:
            return _headed(heading, self.laid_out(element, parent, level))
        children = list(element)
        at = children.index(picture)
        head = self.laid_out(_part(element, children[:at]), parent, level) if at else []
        after = _part(element, children[at + 1 :])
        drawn = self.picture(picture)
        alt = picture.get("alt") or ""
        if picture_place(picture) == "below":
            # Under the items, as what they ask the patient to do.
            segments = self.laid_out(after, parent, level)
            drawn.element = parent.add("Figure", alt=alt)
            return _headed(heading, [*head, *segments, ([drawn], [])])
        # Read where it is drawn: before the items beside it.
        drawn.element = parent.add("Figure", alt=alt)
        room = drawn.width <= self.width * BESIDE + 0.5
        # Beside a picture, short items in one column, not two narrow ones.
        segments = self.laid_out(after, parent, level, columns=not room)
        if not room:
            # No room beside it (large print): above them.
            return _headed(heading, [*head, ([drawn], []), *segments])
        # Beside it, what follows it (with the heading, unless text came first); not
        # kept with what comes before it, so that it can float to the next page (Beside).
        if head:
            head = _headed(heading, head)
        else:
            segments = _headed(heading, segments)
        pieces: list[Piece] = []
        for lead, rest in segments:
            if lead:
                pieces.append((lead, True))
            pieces.extend(([flowable], False) for flowable in rest)
        return [*head, ([], [Beside(drawn, pieces, self.styles.rtl)])]

    def picture(self, element: ET.Element) -> Drawn:
        """The picture ``element`` names, its words in the handout's language."""
        labels = {}
        for label in element.findall("label"):
            paragraph = self.paragraph(escape(label.text or ""), "picture")
            # Read as the figure's alt text, not word by word: no ActualText span of its own.
            paragraph.actual_text = None
            labels[label.get("name") or ""] = paragraph
        # As much larger as its words are (large print): its labels keep their places.
        return Drawn(pictures()[element.get("name") or ""], labels, self.s["picture"].fontSize / 12)

    def laid_out(
        self, element: ET.Element, parent: Element, level: int = 3, columns: bool = True
    ) -> list[Segment]:
        """The children of ``element`` as (lead, rest) pairs: each lead is kept together on
        one page, so a heading or an introductory paragraph is never left alone at the foot
        of a page. Leads hold paragraphs and list items only (nested KeepTogethers break
        badly). Consecutive items of one kind make one list; a group's title is a heading
        at ``level``."""
        segments: list[Segment] = []
        kinds: list[str] = []  # what each segment is: a list item's tag, "group" or "p"
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
            elif child.tag == "table":
                current = None
                lead, rest = [self.form(child, parent)], []
            elif child.tag == "group":
                current = None
                group = parent.add("Sect")
                heading = group.add(f"H{level}")
                title = self.heading(child.get("title"), "group", child.get("icon"), heading)
                inner = self.segments(child, group, level + 1, heading=title)
                lead, first_rest = inner[0]
                rest = [*first_rest, *_flatten(inner[1:])]
            else:
                raise unknown(child, f"PDF, in <{element.tag}>")
            segments.append(([*pending_intro, *lead], rest))
            kinds.append(child.tag)
            pending_intro = []
        if pending_intro:
            segments.append((pending_intro, []))
            kinds.append("p")
        items = [child for child in element if child.tag in LIST_ITEMS]
        if any(child.tag == "group" for child in element) or not items:
            pass
        elif columns and self.side_by_side(items):
            # Short items read as well in two columns, in half the height.
            flat = [f for lead, rest in segments for f in (*lead, *rest)]
            listed = [f for f in flat if isinstance(f, ListItem)]
            others = [f for f in flat if not isinstance(f, ListItem)]
            return [([*others, self.columns(listed)], [])]
        elif len(items) <= SHORT_LIST:
            # A short list stays whole, with its heading and introduction.
            return [([f for lead, rest in segments for f in (*lead, *rest)], [])]
        if len(kinds) >= 2 and all(kind in LIST_ITEMS for kind in kinds[-2:]):
            # The last line of a list never starts a page on its own (a last group, which
            # has its heading, may).
            (lead, _), (last, _) = segments[-2], segments[-1]
            segments[-2:] = [([*lead, *last], [])]
        return segments

    def side_by_side(self, items: list[ET.Element], box: bool = False) -> bool:
        """Whether list items are short enough to print in two columns."""
        if len(items) < 3 or any(item.tag == "step" for item in items):
            return False
        longest = max(len(plain(item.text)) for item in items)
        return box or longest <= SHORT_ITEM

    def heading(
        self, text: str | None, style: str, icon: str | None, element: Element | None
    ) -> Flowable:
        """A heading, with its icon beside it when the template names one (the icon is
        decoration: the heading's words say what it shows)."""
        para = self.para(text, style, element)
        if not icon:
            return para
        heading = IconHeading(icon, para)
        heading.rtl = self.styles.rtl
        return heading

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
        """The patient block (see :class:`.pieces.FieldGrid`); read as a table of label and
        value rows."""
        table = parent.add("Table")
        fields = []
        for f in element.findall("field"):
            row = table.add("TR")
            label = self.para(f.get("label"), "label", row.add("TH", scope="Row"))
            value = self.para(f.text, "value", row.add("TD"))
            assert isinstance(label, CachedParagraph) and isinstance(value, CachedParagraph)
            fields.append((label, value, bool(f.get("wide"))))
        grid = FieldGrid(fields)
        grid.rtl = self.styles.rtl
        return [grid, Spacer(1, 8)]

    def columns(self, items: Sequence[Flowable]) -> ItemColumns:
        """Short items in two columns, the first on the right in a right-to-left handout."""
        columns = ItemColumns(items)
        columns.rtl = self.styles.rtl
        return columns

    def phone(self, element: ET.Element, style: str, parent: Element) -> Paragraph:
        """A phone number with its label; a line to write it on when the site has none."""
        number = plain(element.text).strip()
        # A number never breaks across lines.
        shown = escape(number).replace(" ", "\u00a0") if number else WRITE_IN
        label = escape(element.get("label") or "")
        tag = parent.add("P")
        paragraph = self.paragraph(f"{label}: {shown}", style)
        if paragraph.actual_text is not None:
            tag.attrs = {"actual_text": paragraph.actual_text}
        return tagged(paragraph, tag)

    def callbox(self, element: ET.Element, parent: Element) -> list[Flowable]:
        """What a call box holds: its heading (with the phone icon), the phone numbers, and
        the signs to call for."""
        box = parent.add("Sect")
        title = self.heading(element.get("title"), "box_title", element.get("icon"), box.add("H2"))
        inner: list[Flowable] = [title]
        inner.extend(self.phone(phone, "phone", box) for phone in element.findall("phone"))
        items = [child for child in element if child.tag == "bullet"]
        listed = False
        signs: Element | None = None
        for child in element:
            if child.tag == "p":
                inner.append(self.para(child.text, element=box.add("P")))
            elif child.tag == "bullet" and not listed:
                listed = True
                signs = box.add("L", numbering="Disc")
                bullets = [self.item(signs, "•", item, "bullet") for item in items]
                if self.side_by_side(items, box=True):
                    inner.append(self.columns(bullets))
                else:
                    inner.extend(bullets)
            elif child.tag not in ("phone", "bullet"):
                raise unknown(child, f"PDF, in <{element.tag}>")
        return inner

    def key_times(self, element: ET.Element, parent: Element) -> list[Flowable]:
        """The page-1 checklist: a box with one line per key time (a check box, the day and
        time, what to do), the clinic's phone number and where the warning signs are. The
        box may continue on the next page between two lines, never inside one."""
        s = self.s
        sect = parent.add("Sect")
        head: list[Flowable] = [self.para(element.get("title"), "box_title", sect.add("H2"))]
        notes = element.findall("p")
        intro = [self.para(p.text, "key_note", sect.add("P")) for p in notes[:1]]
        head.extend(intro)
        # The clinic's phone is in the head, so it is on page 1 however long the list is.
        head.extend(self.phone(p, "key_phone", sect) for p in element.findall("phone"))
        width = self.width - 2 * BOX_PAD
        box = s["key_box"].fontSize * 1.4
        times = sect.add("L", numbering="None")
        rows = []
        for item in element.findall("time"):
            li = times.add("LI")
            label = tagged(
                CachedParagraph("☐", s["key_box"]), li.add("Lbl", alt=item.get("alt") or "")
            )
            body = li.add("LBody")
            # The day and time, kept together as far as the column allows (_fitting).
            ats = [self.para(way, "key_when") for way in _loosened(item.get("at") or "")]
            rows.append(
                (label, ats, body.add("P"), self.para(item.text, "key_what", body.add("P")))
            )
        when = _when_width([(ats, what) for _, ats, _, what in rows], width - box)
        lines: list[Flowable] = []
        for label, ats, day, what in rows:
            at = self._tagged(_fitting(ats, when - CELL_GAP), day)
            cells, widths = [label, at, what], [box, when, width - box - when]
            gap = ("RIGHTPADDING", "LEFTPADDING")
            if self.styles.rtl:
                # Mirrored: the check box on the right, then the day and time, then the action.
                cells, widths, gap = cells[::-1], widths[::-1], gap[::-1]
            row = TaggedTable([cells], colWidths=widths)
            row.setStyle(
                table_style(
                    [
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        (gap[1], (0, 0), (-1, -1), 0),
                        (gap[0], (0, 0), (-1, -1), CELL_GAP),
                        ("TOPPADDING", (0, 0), (-1, -1), 2),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                        ("LINEABOVE", (0, 0), (-1, 0), 0.4, RULE),
                    ]
                )
            )
            lines.append(row)
        tail: list[Flowable] = [self.para(p.text, "key_note", sect.add("P")) for p in notes[1:]]
        # Over a continuation on the next page: decoration, as the title is read once.
        continued = (
            self.para(element.get("continued"), "box_title") if element.get("continued") else None
        )
        more = self.para(element.get("more"), "key_note") if element.get("more") else None
        keytimes = KeyTimesBox(
            head, lines, tail, continued, more=more, movable=intro[0] if intro else None
        )
        return [keytimes, Spacer(1, 6)]

    def questions(self, element: ET.Element | None, parent: Element) -> tuple[list[Flowable], int]:
        """The questions area's heading and prompt, and how many writing lines it needs."""
        if element is None:
            return [], 0
        sect = parent.add("Sect")
        head = [self.heading(element.get("title"), "group", "pencil", sect.add("H2"))]
        head.extend(self.para(p.text, element=sect.add("P")) for p in element.findall("p"))
        return head, int(element.get("lines") or 3)

    def end_matter(self, elements: list[ET.Element], parent: Element) -> list[Flowable]:
        """The questions area and both call boxes, in this order, in every print size: on
        the last page, or (when they do not fit there) the questions area ending a page and
        the boxes together after it; in large print each box whole, one after the other."""
        questions = next((e for e in elements if e.tag == "questions"), None)
        calls = [e for e in elements if e.tag in ("callbox", "emergency")]
        gap = self.s["body"].leading * 1.7
        # Structure elements are made in the order the parts are read.
        head, lines = self.questions(questions, parent)
        boxes: list[Flowable] = [
            Box(self.callbox(e, parent), RULE if e.tag == "callbox" else EMERGENCY) for e in calls
        ]
        for box in boxes[1:]:
            box.spaceBefore = 10
        return [EndMatter(head, boxes, gap, lines, 4 * lines, self.height)]

    def form(self, element: ET.Element, parent: Element) -> Flowable:
        """A table of an instruction set (a pain diary): a header row of column headings
        (tagged ``TH``, repeated on a next page as decoration), then a row per moment; a
        blank cell is a place to write in. Rows are never split across pages."""
        table = parent.add("Table")
        head = table.add("TR")
        header_row = element.find("columns")
        cells = list(header_row) if header_row is not None else []
        header = [self.para(c.text, "label", head.add("TH", scope="Column")) for c in cells]
        rows = []
        for row in element.findall("row"):
            tr = table.add("TR")
            rows.append(
                [
                    self.para(cell.text, element=tr.add("TD")) if (cell.text or "").strip() else ""
                    for cell in row
                ]
            )
        columns = max(len(cells), 1)
        flowable = TaggedTable(
            [header, *rows],
            colWidths=[self.width / columns] * columns,
            repeatRows=1,
            splitInRow=0,
        )
        flowable.setStyle(
            table_style(
                [
                    ("GRID", (0, 0), (-1, -1), 0.6, RULE),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 1), (-1, -1), 6),
                    ("BOTTOMPADDING", (0, 1), (-1, -1), 6),
                ]
            )
        )
        return flowable

    def index(self, element: ET.Element, parent: Element) -> list[Flowable]:
        """One table of a packet's index for the scheduler, with column headers; a column's
        ``width`` is its share of the page's width."""
        section = parent.add("Sect")
        # A long packet's index comes in pieces; only the first has the title.
        heading = element.get("title")
        title = [self.para(heading, "section", section.add("H1"))] if heading else []
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
        # Each column's share of the width, as the template gives it; else equal shares.
        cols = list(columns) if columns is not None else []
        widths = [_share(col.get("width")) for col in cols]
        if not all(widths) or sum(widths) > 1.001:
            widths = [1 / max(len(cols), 1)] * len(cols)
        flowable = TaggedTable(
            [header, *rows], colWidths=[w * self.width for w in widths] or None, repeatRows=1
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
        return [*title, flowable]

    @property
    def language(self) -> str | None:
        return self.styles.language

    def build(self, handout: ET.Element, parent: Element) -> list[Flowable]:
        """The story of one handout; its structure goes under ``parent``."""
        self.styles = ScriptStyles(self.s, handout.get("lang"))
        story: list[Flowable] = []
        end = [e for e in handout if e.tag in END_MATTER]
        parts: dict[str, Callable[[ET.Element, Element], list[Flowable]]] = {
            "header": self.header,
            "patient": self.patient,
            "note": self.note,
            "notice": self.notice,
            "slot": self.notice,
            "section": self.section,
            "keytimes": self.key_times,
            # Laid out together at the first of them (end_matter); the footer is drawn on
            # every page by the document's canvas.
            **{tag: _elsewhere for tag in END_MATTER},
            "footer": _elsewhere,
        }
        for element in handout:
            if end and element is end[0]:
                story.extend(self.end_matter(end, parent))
            handler = parts.get(element.tag)
            if handler is None:
                raise unknown(element, "PDF, in <handout>")
            story.extend(handler(element, parent))
        return story

    def note(self, element: ET.Element, parent: Element) -> list[Flowable]:
        note = parent.add("Sect")
        inner = [self.para(element.get("title"), "group", note.add("H2"))]
        inner.extend(
            self.para(line, element=note.add("P"))
            for line in (element.text or "").split("\n")
            if line.strip()
        )
        return [boxed_table(inner, RULE, self.width), Spacer(1, 6)]

    def notice(self, element: ET.Element, parent: Element) -> list[Flowable]:
        return [self.para(element.text, element=parent.add("P"))]

    def section(self, element: ET.Element, parent: Element) -> list[Flowable]:
        section = parent.add("Sect")
        title = self.para(element.get("title"), "section", section.add("H2"))
        return _flatten(self.segments(element, section, heading=title))


def _headed(heading: Flowable | None, segments: list[Segment]) -> list[Segment]:
    """``segments`` with ``heading`` kept together with the first one's lead."""
    if heading is None:
        return segments
    lead, rest = segments[0] if segments else ([], [])
    return [([heading, *lead], rest), *segments[1:]]


def _part(element: ET.Element, children: list[ET.Element]) -> ET.Element:
    """``element`` with only ``children``: the part before or after a picture."""
    part = ET.Element(element.tag, element.attrib)
    part.extend(children)
    return part


def picture_place(element: ET.Element) -> str:
    """Where a picture goes: beside its items, or below them (pictures.yaml's ``place``)."""
    return pictures()[element.get("name") or ""].place


def _elsewhere(element: ET.Element, parent: Element) -> list[Flowable]:
    """Nothing in the story here: the element is laid out elsewhere."""
    return []


def _share(width: str | None) -> float:
    """A column's share of the width, from a template's ``width`` (0 if it is not one)."""
    try:
        share = float(width or 0)
    except ValueError:
        return 0.0
    return share if 0 < share <= 1 else 0.0
