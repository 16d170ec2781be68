"""Pictures that help a patient act: drawn from the shapes of ``templates/pictures.yaml``,
with their words (in the handout's language) set as paragraphs at the picture's labels.

A picture is a ``Figure`` of the tagged PDF whose ``/Alt`` is its alt text: its shapes and
its drawn words are the figure's content, read as the alt text. :class:`Beside` sets a
picture beside the items that follow it (the picture on the right, on the left in a
right-to-left handout); the items that do not fit beside it continue below at full width.
Both use only ReportLab's public flowable API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reportlab.lib.colors import Color, HexColor, white
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph

from ...load.pictures import Picture
from .flowables import ParagraphsTogether, Tagged, break_text
from .fonts import REGULAR
from .styles import EMERGENCY, INK, RULE

LIGHT = HexColor("#dde3ea")
COLOURS: dict[str, Color | None] = {
    "ink": INK,
    "accent": RULE,
    "alert": EMERGENCY,
    "light": LIGHT,
    "white": white,
    "none": None,
}
# Space between a picture and the items beside it, and under it.
GAP = 10
# About a line of body text: text beside a picture that runs on past its foot by more
# continues below it.
LINE = 14


class Drawn(Tagged, Flowable):
    """One picture at ``scale`` (large print scales it as it scales type), its labels'
    paragraphs (by label name) set at their places. Its height grows when a label needs
    more lines than the drawing leaves room for."""

    def __init__(self, picture: Picture, labels: Mapping[str, Paragraph], scale: float) -> None:
        super().__init__()
        self.picture = picture
        self.scale = scale
        self.placed: list[tuple[Paragraph, float, float]] = []  # paragraph, x, top
        low = 0.0
        for label in picture.labels:
            paragraph = labels.get(label.name)
            if paragraph is None:
                continue
            width = label.width * scale
            paragraph.wrap(width, 0xFFFF)
            # Only as wide as its longest line, so that it sits at its anchor whatever the
            # paragraph's alignment (right-aligned in a right-to-left handout).
            used = max(paragraph.getActualLineWidths0() or [width]) + 0.5
            _, height = paragraph.wrap(min(used, width), 0xFFFF)
            x, top = label.at[0] * scale, label.at[1] * scale
            if label.align == "right":
                x -= min(used, width)
            elif label.align == "center":
                x -= min(used, width) / 2
            self.placed.append((paragraph, x, top))
            low = min(low, top - height)
        self.lift = -low  # how far the drawing moves up to make room below a label
        self.width = picture.size[0] * scale
        self.height = picture.size[1] * scale + self.lift

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.translate(0, self.lift)
        canvas.setLineCap(1)
        canvas.setLineJoin(1)
        for shape in self.picture.shapes:
            _draw(canvas, shape, self.scale)
        for paragraph, x, top in self.placed:
            # Drawn as the figure's content (Paragraph's own drawOn, not the tagged one):
            # the figure's alt text is what a screen reader reads for all of it.
            Paragraph.drawOn(paragraph, canvas, x, top - paragraph.height)
        canvas.restoreState()


def _draw(canvas: Canvas, shape: dict, k: float) -> None:
    stroke = COLOURS[shape.get("stroke", "ink")]
    fill = COLOURS[shape.get("fill", "none")]
    canvas.setLineWidth(float(shape.get("width", 1.4)) * k)
    canvas.setDash([d * k for d in shape["dash"]] if "dash" in shape else [])
    if stroke is not None:
        canvas.setStrokeColor(stroke)
    if fill is not None:
        canvas.setFillColor(fill)
    paint = {"stroke": int(stroke is not None), "fill": int(fill is not None)}
    if "rect" in shape:
        x, y, w, h = (v * k for v in shape["rect"])
        if shape.get("round"):
            canvas.roundRect(x, y, w, h, shape["round"] * k, **paint)
        else:
            canvas.rect(x, y, w, h, **paint)
    elif "circle" in shape:
        x, y, r = (v * k for v in shape["circle"])
        canvas.circle(x, y, r, **paint)
    elif "path" in shape or "curve" in shape:
        points = [(x * k, y * k) for x, y in shape.get("path") or shape["curve"]]
        path = canvas.beginPath()
        path.moveTo(*points[0])
        if "curve" in shape:
            (x1, y1), (x2, y2), (x3, y3) = points[1:]
            path.curveTo(x1, y1, x2, y2, x3, y3)
        else:
            for point in points[1:]:
                path.lineTo(*point)
        if shape.get("close"):
            path.close()
        canvas.drawPath(path, **paint)
    else:  # digits
        digits = shape["digits"]
        canvas.setFillColor(INK)
        canvas.setFont(REGULAR, 12 * k)
        canvas.drawCentredString(digits["at"][0] * k, digits["at"][1] * k, digits["text"])


# A run of flowables and whether it is kept together on one page (a segment's lead).
Piece = tuple[list[Flowable], bool]


class Beside(Flowable):
    """A picture and what follows it in its section or group: those pieces that start
    before the picture's foot beside it (the picture on the right, on the left in a
    right-to-left handout), the rest after it at the full width.

    It floats: when the picture does not fit at the foot of a page, the pieces that fit
    there go first at the full width, and the picture with what follows them starts the
    next page. Like ReportLab's KeepTogether it asks to be split wherever it is placed, and
    lays itself out in :meth:`split`."""

    def __init__(self, picture: Drawn, pieces: Sequence[Piece], rtl: bool = False) -> None:
        super().__init__()
        self.picture = picture
        self.pieces = list(pieces)
        self.rtl = rtl

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return availWidth, 0xFFFFFF  # always split, as KeepTogether does

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        placed = self._placed(availWidth, availHeight)
        return placed if placed is not None else self._float(availWidth, availHeight)

    def _placed(self, availWidth: float, availHeight: float) -> list[Flowable] | None:
        """The picture with what goes beside it, and what follows below; None if the
        picture does not fit here."""
        column = availWidth - self.picture.width - GAP
        beside: list[Flowable] = []
        after: list[Piece] = []
        used = 0.0
        for flowables, keep in self.pieces:
            if used >= self.picture.height:
                after.append((flowables, keep))
                continue
            for index, flowable in enumerate(flowables):
                if used >= self.picture.height:
                    # The rest of a piece kept together stays together, below.
                    after.append((flowables[index:], keep))
                    break
                if beside:
                    used += flowable.getSpaceBefore()
                height = flowable.wrap(column, 0xFFFF)[1]
                room = self.picture.height - used
                if height > room + LINE and room >= 2 * LINE:
                    # Text that runs past the picture's foot goes on below it at the full
                    # width: split at the foot (two lines beside it at least), when the
                    # rest fits under the picture on this page (an item never breaks
                    # across pages).
                    parts = flowable.split(column, room)
                    if len(parts) == 2 and (
                        self.picture.height + parts[1].wrap(availWidth, 0xFFFF)[1] <= availHeight
                    ):
                        beside.append(parts[0])
                        used = self.picture.height
                        after.append(([parts[1]], False))
                        if flowables[index + 1 :]:
                            after.append((flowables[index + 1 :], keep))
                        break
                used += height + flowable.getSpaceAfter()
                beside.append(flowable)
        placed = Placed(self.picture, beside, self.rtl)
        if placed.wrap(availWidth, availHeight)[1] + placed.getSpaceBefore() <= availHeight:
            return [placed, *_emit(after)]
        return None

    def _float(self, availWidth: float, availHeight: float) -> list[Flowable]:
        """What fits here goes first, the picture with the rest on the next page."""
        # The picture does not fit here: what fits goes first at the full width (whole
        # pieces, and then running text that breaks after two lines or more), the picture
        # with the rest on the next page.
        first: list[Flowable] = []
        used = 0.0
        for at, (flowables, keep) in enumerate(self.pieces):
            need = sum(
                f.wrap(availWidth, 0xFFFF)[1] + f.getSpaceBefore() + f.getSpaceAfter()
                for f in flowables
            )
            if used + need <= availHeight:
                first.extend(flowables)
                used += need
                continue
            for index, flowable in enumerate(flowables):
                before = flowable.getSpaceBefore() if first or index else 0.0
                height = flowable.wrap(availWidth, 0xFFFF)[1]
                if used + before + height <= availHeight:
                    # Whole: kept only if the text after it breaks here too.
                    used += before + height + flowable.getSpaceAfter()
                    continue
                broken = break_text(flowable, availWidth, availHeight - used - before)
                if broken is None:
                    break
                rest = [([broken[1], *flowables[index + 1 :]], keep), *self.pieces[at + 1 :]]
                head = [*first, *flowables[:index], broken[0]]
                return [*head, Beside(self.picture, rest, self.rtl)]
            if not first:
                return []
            return [*first, Beside(self.picture, self.pieces[at:], self.rtl)]
        return [*first, Beside(self.picture, [], self.rtl)] if first else []


def _emit(pieces: Sequence[Piece]) -> list[Flowable]:
    out: list[Flowable] = []
    for flowables, keep in pieces:
        if keep:
            out.append(ParagraphsTogether(flowables))
        else:
            out.extend(flowables)
    return out


class Placed(Flowable):
    """A picture with flowables beside it, on one page (see :class:`Beside`)."""

    def __init__(self, picture: Drawn, content: Sequence[Flowable], rtl: bool = False) -> None:
        super().__init__()
        self.picture = picture
        self.content = list(content)
        self.rtl = rtl

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        column = availWidth - self.picture.width - GAP
        used = 0.0
        for index, flowable in enumerate(self.content):
            if index:
                used += flowable.getSpaceBefore()
            used += flowable.wrap(column, 0xFFFF)[1] + flowable.getSpaceAfter()
        self.width, self.height = availWidth, max(used, self.picture.height)
        return self.width, self.height

    def getSpaceBefore(self) -> float:
        return float(self.content[0].getSpaceBefore()) if self.content else 0.0

    def getSpaceAfter(self) -> float:
        return float(self.content[-1].getSpaceAfter()) if self.content else float(GAP)

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        canvas = self.canv
        column = self.width - self.picture.width - GAP
        picture_x = 0.0 if self.rtl else self.width - self.picture.width
        text_x = self.picture.width + GAP if self.rtl else 0.0
        self.picture.drawOn(canvas, picture_x, self.height - self.picture.height)
        y = self.height
        for index, flowable in enumerate(self.content):
            if index:
                y -= flowable.getSpaceBefore()
            _, height = flowable.wrap(column, 0xFFFF)
            y -= height
            flowable.drawOn(canvas, text_x, y)
            y -= flowable.getSpaceAfter()
