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
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph

from ..styles import RULE
from .icons import draw_icon
from .tagging import artifact


class IconHeading(Flowable):
    """A heading with a small drawing to its left; the words stay where a reader looks."""

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
    """The questions area (a heading, a prompt and writing lines) and the call boxes, kept on
    one page so "Call us" and "Call 911" are always found together, on the last page.

    The writing lines stretch to fill what the page has left, between ``min_lines`` and
    ``max_lines``, so the last page is used rather than left blank. Only when the whole does
    not fit on an empty page (large print) does it come apart: the first box on a page of
    its own, then the questions area with the other box on the last page.
    """

    def __init__(
        self,
        head: list[Flowable],
        boxes: list[Flowable],
        gap: float,
        min_lines: int,
        max_lines: int,
        frame_height: float,
        boxes_first: bool = False,
    ) -> None:
        super().__init__()
        self.boxes_first = boxes_first
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

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        fixed = self._fixed(availWidth, self.frame_height)
        if fixed + self.min_lines * self.gap <= self.frame_height:
            return []  # it fits on a page of its own: move there whole
        if len(self.boxes) < 2:
            area = EndMatter(self.head, [], self.gap, self.min_lines, self.max_lines, 0)
            return [area, *self.boxes]
        if _height(self.boxes[:1], availWidth, availHeight) > availHeight:
            return []  # the first box starts the next page
        rest = EndMatter(
            self.head,
            self.boxes[1:],
            self.gap,
            self.min_lines,
            self.max_lines,
            self.frame_height,
            self.boxes_first,
        )
        return [self.boxes[0], rest]

    def draw(self) -> None:
        canvas = self.canv
        y = self.height
        area = [*self.head, self.lines]
        parts = [*self.boxes, *area] if self.boxes_first else [*area, *self.boxes]
        # Air above the lines, and between the questions area and the boxes.
        airy: list[Flowable] = [self.lines]
        if self.boxes:
            airy.append(parts[len(self.boxes)] if self.boxes_first else parts[len(area)])
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
    then the next; balanced, and never split between pages (it is used for short items)."""

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
            x = column * (self.column_width + self.gutter)
            y = self.height
            for item in self.items[a:b]:
                _, h = item.wrap(self.column_width, self.height)
                y -= item.getSpaceBefore() + h
                item.drawOn(self.canv, x, y)
                y -= item.getSpaceAfter()


class FieldGrid(Flowable):
    """The patient block: each field's label above its value, two fields to a row, in a
    ruled box. A field marked wide takes a whole row."""

    PAD_X, PAD_TOP, PAD_BOTTOM = 6, 3, 5

    def __init__(self, fields: list[tuple[Paragraph, Paragraph, bool]], color: Color = RULE):
        super().__init__()
        self.rows: list[list[tuple[Paragraph, Paragraph]]] = []
        row: list[tuple[Paragraph, Paragraph]] = []
        for label, value, wide in fields:
            if wide:
                if row:
                    self.rows.append(row)
                    row = []
                self.rows.append([(label, value)])
                continue
            row.append((label, value))
            if len(row) == 2:
                self.rows.append(row)
                row = []
        if row:
            self.rows.append(row)
        self.color = color

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.heights = []
        for row in self.rows:
            cell = availWidth / 2 if len(row) == 2 else availWidth
            inner = cell - 2 * self.PAD_X
            tallest = 0.0
            for label, value in row:
                height = label.wrap(inner, availHeight)[1] + value.wrap(inner, availHeight)[1]
                tallest = max(tallest, height)
            self.heights.append(tallest + self.PAD_TOP + self.PAD_BOTTOM)
        self.height = sum(self.heights)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        canvas = self.canv
        top = self.height
        for index, (row, height) in enumerate(zip(self.rows, self.heights, strict=True)):
            bottom = top - height
            cell = self.width / 2 if len(row) == 2 else self.width
            for column, (label, value) in enumerate(row):
                x = column * cell + self.PAD_X
                y = top - self.PAD_TOP - label.height
                label.drawOn(canvas, x, y)
                value.drawOn(canvas, x, y - value.height)
            self.rule(canvas, index, bottom, cell if len(row) == 2 else None, top)
            top = bottom
        self.frame(canvas)

    def rule(
        self, canvas: Canvas, index: int, bottom: float, middle: float | None, top: float
    ) -> None:
        with artifact(canvas):
            canvas.saveState()
            canvas.setStrokeColor(self.color)
            canvas.setLineWidth(0.4)
            if index < len(self.rows) - 1:
                canvas.line(0, bottom, self.width, bottom)
            if middle is not None:
                canvas.line(middle, bottom, middle, top)
            canvas.restoreState()

    def frame(self, canvas: Canvas) -> None:
        with artifact(canvas):
            canvas.saveState()
            canvas.setStrokeColor(self.color)
            canvas.setLineWidth(1.2)
            canvas.rect(0, 0, self.width, self.height)
            canvas.restoreState()
