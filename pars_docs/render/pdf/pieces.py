"""Flowables for the parts of a handout that are more than paragraphs: a heading with its
icon, the writing lines for questions, and the end matter that keeps the questions area and
both call boxes together on the last page.

They use only ReportLab's public flowable API (``wrap``, ``split``, ``drawOn``). For the
tagged PDF, the paragraphs they hold tag themselves; what they draw of their own (icons,
rules, writing lines) is decoration, marked as an artifact.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib.colors import Color
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph

from .flowables import CachedParagraph, draw_frame
from .icons import draw_icon
from .scripts import has_noto
from .styles import RULE
from .tagging import artifact


class IconHeading(Flowable):
    """A heading with a small drawing to its left (its right in a right-to-left handout);
    the words stay where a reader looks."""

    rtl = False  # set by the builder for a right-to-left handout

    def __init__(self, icon: str, heading: Paragraph, color: Color = RULE) -> None:
        super().__init__()
        self.icon = icon
        self.heading = heading
        self.color = color
        style = heading.style
        self.size = style.fontSize * 1.05
        self.indent = self.size + style.fontSize * 0.45

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        _, height = self.heading.wrap(availWidth - self.indent, availHeight)
        self.width, self.height = availWidth, height
        return self.width, self.height

    def getSpaceBefore(self) -> float:
        return float(self.heading.getSpaceBefore())

    def getSpaceAfter(self) -> float:
        return float(self.heading.getSpaceAfter())

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        style = self.heading.style
        # Beside the first line: centred on the capitals of the heading's first line.
        first_line_bottom = self.height - style.leading
        y = first_line_bottom + (style.leading - self.size) / 2 + style.fontSize * 0.05
        if self.rtl:
            self.draw_icon(self.canv, self.width - self.size, y)
            self.heading.drawOn(self.canv, 0, 0)
        else:
            self.draw_icon(self.canv, 0, y)
            self.heading.drawOn(self.canv, self.indent, 0)

    def draw_icon(self, canvas: Canvas, x: float, y: float) -> None:
        with artifact(canvas):  # the heading beside it says what it shows
            draw_icon(canvas, self.icon, x, y, self.size, self.color)


class WritingLines(Flowable):
    """Ruled lines to write on; ``count`` of them, ``gap`` points apart."""

    def __init__(self, count: int, gap: float, color: Color = RULE) -> None:
        super().__init__()
        self.count = count
        self.gap = gap
        self.color = color

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width, self.height = availWidth, self.count * self.gap
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        with artifact(canvas):
            canvas.saveState()
            canvas.setStrokeColor(self.color)
            canvas.setLineWidth(0.6)
            for k in range(self.count):
                y = self.height - (k + 1) * self.gap
                canvas.line(0, y, self.width, y)
            canvas.restoreState()


def _height(flowables: list[Flowable], width: float, avail: float) -> float:
    total = 0.0
    for index, flowable in enumerate(flowables):
        _, h = flowable.wrap(width, avail)
        total += h
        if index:
            total += flowable.getSpaceBefore()
        if index < len(flowables) - 1:
            total += flowable.getSpaceAfter()
    return total


class EndMatter(Flowable):
    """The questions area (a heading, a prompt and writing lines) and the call boxes, in
    that order, on the last page, so "Call us" and "Call 911" are always found together.

    The writing lines stretch to fill what the page has left, between ``min_lines`` and
    ``max_lines``, so the last page is used rather than left blank. When the whole does not
    fit where it comes but the questions area does, the questions area ends that page and
    the two boxes, together, make the last one (rather than leave most of a page blank).
    When the whole does not fit on an empty page (large print), the parts follow one
    another in the same order, each box whole: the questions area, "Call us", "Call 911".
    """

    def __init__(
        self,
        head: list[Flowable],
        boxes: list[Flowable],
        gap: float,
        min_lines: int,
        max_lines: int,
        frame_height: float,
    ) -> None:
        super().__init__()
        self.head = head
        self.boxes = boxes
        self.gap = gap
        self.min_lines = min_lines
        self.max_lines = max_lines
        self.frame_height = frame_height
        self.lines = WritingLines(min_lines, gap)

    def _fixed(self, width: float, avail: float) -> float:
        return _height(self.head, width, avail) + _height(self.boxes, width, avail) + self.gap

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        fixed = self._fixed(availWidth, availHeight)
        room = int((availHeight - fixed - 1) // self.gap)
        self.lines.count = max(self.min_lines, min(self.max_lines, room))
        self.height = fixed + self.lines.count * self.gap
        return self.width, self.height

    def _area(self) -> EndMatter:
        return EndMatter(self.head, [], self.gap, self.min_lines, self.max_lines, self.frame_height)

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        if not self.boxes:
            return []  # the questions area alone: to the next page, whole
        fixed = self._fixed(availWidth, self.frame_height)
        area = (
            _height(self.head, availWidth, availHeight) + self.gap + self.min_lines * self.gap
            if self.head
            else None
        )
        boxes = _height(self.boxes, availWidth, self.frame_height)
        if fixed + self.min_lines * self.gap <= self.frame_height:
            if area is not None and area <= availHeight and boxes <= self.frame_height:
                # The questions area ends this page; the boxes, together, the next one.
                return [self._area(), KeepTogether(list(self.boxes))]
            return []  # it fits on a page of its own: move there whole
        # Not on one page even when empty: each part whole, one after the other, in order.
        if area is None:
            return list(self.boxes)
        if area > availHeight:
            return []  # the questions area starts the next page
        return [self._area(), *self.boxes]

    def draw(self) -> None:
        canvas = self.canv
        y = self.height
        parts = [*self.head, self.lines, *self.boxes]
        # Air above the lines, and between the questions area and the boxes.
        airy: list[Flowable] = [self.lines, *self.boxes[:1]]
        for index, flowable in enumerate(parts):
            if index:
                y -= flowable.getSpaceBefore()
            _, h = flowable.wrap(self.width, self.height)
            if index and any(flowable is f for f in airy):
                y -= self.gap / 2
            y -= h
            flowable.drawOn(canvas, 0, y)
            y -= flowable.getSpaceAfter()


class ItemColumns(Flowable):
    """Short list items side by side in ``columns`` columns, read down the first column and
    then the next; balanced, and never split between pages (it is used for short items). In
    a right-to-left handout the first column is the right one."""

    rtl = False  # set by the builder for a right-to-left handout

    def __init__(self, items: Sequence[Flowable], columns: int = 2, gutter: float = 18) -> None:
        super().__init__()
        self.items = items
        self.columns = columns
        self.gutter = gutter

    def _sizes(self, width: float, avail: float) -> list[float]:
        return [
            item.wrap(width, avail)[1] + item.getSpaceBefore() + item.getSpaceAfter()
            for item in self.items
        ]

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.column_width = (availWidth - self.gutter * (self.columns - 1)) / self.columns
        sizes = self._sizes(self.column_width, availHeight)
        # Items in order, cut into columns so the tallest column is as short as can be.
        per = -(-len(sizes) // self.columns)
        cuts = [min(len(sizes), per * (k + 1)) for k in range(self.columns)]
        best = None
        for first in range(1, len(sizes)):
            if self.columns != 2:
                break
            height = max(sum(sizes[:first]), sum(sizes[first:]))
            if best is None or height < best[0] - 0.01:
                best = (height, first)
        if best is not None:
            cuts = [best[1], len(sizes)]
        self.cuts = cuts
        starts = [0, *cuts[:-1]]
        self.height = max(sum(sizes[a:b]) for a, b in zip(starts, cuts, strict=True))
        self.height -= self.items[-1].getSpaceAfter() if self.items else 0
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []

    def getSpaceAfter(self) -> float:
        return float(self.items[-1].getSpaceAfter()) if self.items else 0.0

    def draw(self) -> None:
        starts = [0, *self.cuts[:-1]]
        for column, (a, b) in enumerate(zip(starts, self.cuts, strict=True)):
            place = self.columns - 1 - column if self.rtl else column
            x = place * (self.column_width + self.gutter)
            y = self.height
            for item in self.items[a:b]:
                _, h = item.wrap(self.column_width, self.height)
                y -= item.getSpaceBefore() + h
                item.drawOn(self.canv, x, y)
                y -= item.getSpaceAfter()


# A field of the patient block: its label and its value.
Field = tuple[CachedParagraph, CachedParagraph]


def _rows(fields: list[tuple[CachedParagraph, CachedParagraph, bool]]) -> list[list[Field]]:
    """The patient block's fields in rows: a wide field on a row of its own, the others two
    to a row. A run of an odd number of them (between two wide fields) ends with a row of
    three, so no row is left half empty; a field with no other beside it takes the row."""
    rows: list[list[Field]] = []
    run: list[Field] = []

    def close() -> None:
        pairs = len(run) - 3 if len(run) % 2 and len(run) >= 3 else len(run)
        rows.extend(run[k : k + 2] for k in range(0, pairs, 2))
        if pairs < len(run):
            rows.append(run[pairs:])
        run.clear()

    for label, value, wide in fields:
        if wide:
            close()
            rows.append([(label, value)])
        else:
            run.append((label, value))
    close()
    return rows


class FieldGrid(Flowable):
    """The patient block, in a ruled box: fields in rows (see :func:`_rows`). In a row, each
    label sits beside its value when all of the row's fields fit on one line that way (or,
    for a field alone on its row, when its value takes fewer lines so), and above its value
    otherwise. A row's cells share its width equally, unless a field needs more room than
    that to stay on one line and the others can give it. A right-to-left handout's block is
    mirrored."""

    rtl = False  # set by the builder for a right-to-left handout

    PAD_X, PAD_TOP, PAD_BOTTOM = 6, 3, 5
    GAP = 0.5  # between a label and the value beside it, in ems of the label's type size

    def __init__(
        self, fields: list[tuple[CachedParagraph, CachedParagraph, bool]], color: Color = RULE
    ):
        super().__init__()
        self.rows = _rows(fields)
        self.color = color

    @staticmethod
    def _natural(paragraph: CachedParagraph) -> float:
        """The width of ``paragraph`` set on one line (each run in its own font: a name in
        Han or Arabic script is set in a Noto font)."""
        style = paragraph.style
        text = paragraph.getPlainText()
        if not has_noto(text):
            return float(stringWidth(text, style.fontName, style.fontSize))
        return float(
            sum(
                stringWidth(f.text, f.fontName, f.fontSize)
                for f in paragraph.frags
                if hasattr(f, "text")
            )
        )

    def _layout(self, row: list[Field], width: float) -> tuple[list[float], list[float]]:
        """The row's cell widths, and where each value starts right of its label (all 0
        when the values go under their labels)."""
        gaps = [label.style.fontSize * self.GAP for label, _ in row]
        labels = [self._natural(label) for label, _ in row]
        values = [self._natural(value) for _, value in row]
        beside = [
            a + gap + b + 2 * self.PAD_X for a, gap, b in zip(labels, gaps, values, strict=True)
        ]
        starts = [a + gap for a, gap in zip(labels, gaps, strict=True)]
        if sum(beside) <= width:
            return self._share(beside, width), starts
        if len(row) == 1 and self._lines_beside(row[0], width, starts[0]):
            return [width], starts  # a long value wraps beside its label
        above = [max(a, b) + 2 * self.PAD_X for a, b in zip(labels, values, strict=True)]
        return self._share(above, width), [0.0] * len(row)

    def _lines_beside(self, field: Field, width: float, start: float) -> bool:
        """Whether a field alone on its row takes no more lines with its value beside its
        label than with the value under it (a long procedure name)."""
        label, value = field
        inner = width - 2 * self.PAD_X
        if start > inner / 3:
            return False
        beside = value.wrap(inner - start, 0xFFFF)[1]
        under = value.wrap(inner, 0xFFFF)[1] + label.wrap(inner, 0xFFFF)[1]
        return beside < under - 0.5

    @staticmethod
    def _share(needs: list[float], width: float) -> list[float]:
        """Equal cells when each need fits in its share; else cells in proportion to the
        needs, none under half an equal share."""
        equal = width / len(needs)
        if all(need <= equal for need in needs):
            return [equal] * len(needs)
        floor = equal / 2
        needs = [max(need, floor) for need in needs]
        return [width * need / sum(needs) for need in needs]

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.heights: list[float] = []
        self.cells: list[list[float]] = []  # each row's cell widths
        self.starts: list[list[float]] = []  # where each value starts (0: under its label)
        for row in self.rows:
            cells, starts = self._layout(row, availWidth)
            tallest = 0.0
            for (label, value), cell, start in zip(row, cells, starts, strict=True):
                inner = cell - 2 * self.PAD_X
                label_height = label.wrap(inner, availHeight)[1]
                value_height = value.wrap(inner - start, availHeight)[1]
                stacked = max(label_height, value_height) if start else label_height + value_height
                tallest = max(tallest, stacked)
            self.heights.append(tallest + self.PAD_TOP + self.PAD_BOTTOM)
            self.cells.append(cells)
            self.starts.append(starts)
        self.height = sum(self.heights)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        canvas = self.canv
        top = self.height
        for index, (row, height, cells, starts) in enumerate(
            zip(self.rows, self.heights, self.cells, self.starts, strict=True)
        ):
            bottom = top - height
            lefts = [sum(cells[:column]) for column in range(len(row))]
            if self.rtl:
                # Mirrored: the first field on the right, each label right of its value.
                lefts = [
                    self.width - left - cell
                    for left, cell in zip(lefts, cells[: len(lefts)], strict=True)
                ]
            for (label, value), left, start, cell in zip(row, lefts, starts, cells, strict=True):
                x = left + self.PAD_X
                if start:
                    # Side by side, on one baseline.
                    line = top - self.PAD_TOP - max(label.height, value.height)
                    baseline = line + max(label.first_baseline(), value.first_baseline())
                    if self.rtl:
                        right = left + cell - self.PAD_X
                        label.drawOn(canvas, right - label.width, baseline - label.first_baseline())
                        value.drawOn(
                            canvas, right - start - value.width, baseline - value.first_baseline()
                        )
                    else:
                        label.drawOn(canvas, x, baseline - label.first_baseline())
                        value.drawOn(canvas, x + start, baseline - value.first_baseline())
                else:
                    y = top - self.PAD_TOP - label.height
                    label.drawOn(canvas, x, y)
                    value.drawOn(canvas, x, y - value.height)
            rules = sorted(left for left in lefts if left > 0.5) if self.rtl else lefts[1:]
            self.rule(canvas, index, bottom, rules, top)
            top = bottom
        self.frame(canvas)

    def rule(
        self, canvas: Canvas, index: int, bottom: float, middles: list[float], top: float
    ) -> None:
        with artifact(canvas):
            canvas.saveState()
            canvas.setStrokeColor(self.color)
            canvas.setLineWidth(0.4)
            if index < len(self.rows) - 1:
                canvas.line(0, bottom, self.width, bottom)
            for middle in middles:
                canvas.line(middle, bottom, middle, top)
            canvas.restoreState()

    def frame(self, canvas: Canvas) -> None:
        draw_frame(canvas, self.width, self.height, self.color, 1.2)


class KeyTimesBox(Flowable):
    """The key times on page 1: a framed box of a head (the title and introduction), one
    line per key time, and a tail (the clinic's phone number, where the warning signs are).

    When the page has too little room (large print, many medicines), the box breaks between
    two lines: never right under its head, and never leaving its tail without a line above
    it. The rest continues on the next page in a box drawn the same way, under ``continued``
    (the title, marked as continued; decoration for a screen reader, which reads the title
    once). A continuation that breaks again keeps ``keep`` lines under its heading. On page
    1 the box keeps as many lines as there is room for, one at least where the page allows
    it, and at least its head (the title, introduction and the clinic's phone): the key
    times start on page 1. A part the list goes on from ends with ``more``."""

    PAD_X, PAD_TOP, PAD_BOTTOM, GAP, BORDER = 12, 8, 10, 2, 2.5

    def __init__(
        self,
        head: list[Flowable],
        lines: list[Flowable],
        tail: list[Flowable],
        continued: Flowable | None,
        color: Color = RULE,
        keep: int = 2,
        first: bool = True,
        more: Flowable | None = None,
        movable: Flowable | None = None,
    ) -> None:
        super().__init__()
        # A part of the head (the introduction) that may go over to the continuation when
        # page 1 has no room for the whole head: the title and the phone stay on page 1.
        self.movable = movable
        self.more = more  # under a part the list goes on from: "continued on the next page"
        self.first = first  # the box as it starts, on page 1
        self.head = head
        self.lines = lines
        self.tail = tail
        self.continued = continued
        self.color = color
        self.keep = keep

    def _parts(self) -> list[Flowable]:
        return [*self.head, *self.lines, *self.tail]

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        inner = availWidth - 2 * self.PAD_X
        parts = self._parts()
        self.sizes = [part.wrap(inner, availHeight)[1] for part in parts]
        gaps = self.GAP * max(0, len(parts) - 1)
        self.height = self.PAD_TOP + sum(self.sizes) + gaps + self.PAD_BOTTOM
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        inner = availWidth - 2 * self.PAD_X
        used: float = self.PAD_TOP + self.PAD_BOTTOM
        used += sum(part.wrap(inner, availHeight)[1] + self.GAP for part in self.head)
        if self.more is not None:
            used += self.more.wrap(inner, availHeight)[1] + self.GAP
        head_fits = used <= availHeight
        if self.first and not head_fits and self.movable in self.head:
            # Page 1 keeps the title and the phone; the introduction goes on with the list.
            moved = self.movable.wrap(inner, availHeight)[1] + self.GAP
            if used - moved <= availHeight:
                stay = [part for part in self.head if part is not self.movable]
                more = [self.more] if self.more is not None else []
                after = [self.continued] if self.continued is not None else []
                return [
                    KeyTimesBox(stay, [], more, None, self.color, self.keep, False),
                    KeyTimesBox(
                        [*after, self.movable],
                        self.lines,
                        self.tail,
                        self.continued,
                        self.color,
                        self.keep,
                        False,
                        self.more,
                    ),
                ]
        fit = 0
        for line in self.lines:
            used += line.wrap(inner, availHeight)[1] + self.GAP
            if used > availHeight:
                break
            fit += 1
        if fit == len(self.lines):
            fit -= 1  # the tail did not fit: the last line goes over with it
        # Page 1 keeps what it has room for, one line at least: the key times start there.
        need = 1 if self.first else min(self.keep, len(self.lines))
        if fit < max(1, need):
            if not (self.first and head_fits):
                return []  # the whole box starts the next page
            # Page 1 holds the start of the key times and the clinic's phone, even when not
            # one line fits under them (large print, a long first line): the list goes on.
            fit = 0
        head = [self.continued] if self.continued is not None else []
        more = [self.more] if self.more is not None else []
        return [
            KeyTimesBox(self.head, self.lines[:fit], more, None, self.color, self.keep, False),
            KeyTimesBox(
                head,
                self.lines[fit:],
                self.tail,
                self.continued,
                self.color,
                self.keep,
                False,
                self.more,
            ),
        ]

    def draw(self) -> None:
        canvas = self.canv
        y = self.height - self.PAD_TOP
        for part, height in zip(self._parts(), self.sizes, strict=True):
            y -= height
            part.drawOn(canvas, self.PAD_X, y)
            y -= self.GAP
        draw_frame(canvas, self.width, self.height, self.color, self.BORDER)
