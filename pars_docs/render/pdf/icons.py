"""Small line drawings for the main headings, drawn in code (no image files, no fonts).

Each icon sits beside its heading and never replaces a word of it, so it is decoration: the
flowable that draws it marks it as an artifact for the tagged PDF. Every drawing fits a
square of ``size`` points whose lower left corner is at the origin, in strokes of one colour,
so it prints and photocopies as clearly as the text.
"""

from __future__ import annotations

from collections.abc import Callable

from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

Drawing = Callable[[Canvas, float], None]


def _food(c: Canvas, s: float) -> None:
    # A fork and a cup.
    x = s * 0.22
    c.line(x, s * 0.08, x, s * 0.92)
    for dx in (-0.12, 0, 0.12):
        c.line(x + s * dx, s * 0.92, x + s * dx, s * 0.62)
    c.line(x - s * 0.12, s * 0.62, x + s * 0.12, s * 0.62)
    p = c.beginPath()
    p.moveTo(s * 0.5, s * 0.7)
    p.lineTo(s * 0.56, s * 0.1)
    p.lineTo(s * 0.84, s * 0.1)
    p.lineTo(s * 0.9, s * 0.7)
    p.close()
    c.drawPath(p, stroke=1, fill=0)
    c.line(s * 0.53, s * 0.42, s * 0.87, s * 0.42)


def _medicine(c: Canvas, s: float) -> None:
    # A capsule on a slant, one half filled.
    c.saveState()
    c.translate(s / 2, s / 2)
    c.rotate(40)
    w, h = s * 0.9, s * 0.36
    c.roundRect(-w / 2, -h / 2, w, h, h / 2, stroke=1, fill=0)
    p = c.beginPath()
    p.moveTo(0, -h / 2)
    p.lineTo(-w / 2 + h / 2, -h / 2)
    p.arcTo(-w / 2, -h / 2, -w / 2 + h, h / 2, startAng=270, extent=-180)
    p.lineTo(0, h / 2)
    p.close()
    c.drawPath(p, stroke=1, fill=1)
    c.restoreState()


def _car(c: Canvas, s: float) -> None:
    # A car from the side: body, roof and two wheels.
    p = c.beginPath()
    p.moveTo(s * 0.04, s * 0.28)
    p.lineTo(s * 0.04, s * 0.5)
    p.lineTo(s * 0.22, s * 0.54)
    p.lineTo(s * 0.34, s * 0.78)
    p.lineTo(s * 0.7, s * 0.78)
    p.lineTo(s * 0.82, s * 0.54)
    p.lineTo(s * 0.96, s * 0.5)
    p.lineTo(s * 0.96, s * 0.28)
    p.close()
    c.drawPath(p, stroke=1, fill=0)
    c.line(s * 0.22, s * 0.54, s * 0.82, s * 0.54)
    c.line(s * 0.52, s * 0.54, s * 0.52, s * 0.78)
    for x in (0.26, 0.74):
        c.circle(s * x, s * 0.24, s * 0.11, stroke=1, fill=1)


def _activity(c: Canvas, s: float) -> None:
    # A person walking.
    c.circle(s * 0.55, s * 0.86, s * 0.1, stroke=1, fill=1)
    c.line(s * 0.52, s * 0.72, s * 0.46, s * 0.4)  # body
    c.line(s * 0.5, s * 0.66, s * 0.3, s * 0.5)  # arm back
    c.line(s * 0.5, s * 0.66, s * 0.7, s * 0.52)  # arm forward
    c.line(s * 0.46, s * 0.4, s * 0.28, s * 0.06)  # leg back
    c.line(s * 0.46, s * 0.4, s * 0.62, s * 0.22)  # thigh forward
    c.line(s * 0.62, s * 0.22, s * 0.72, s * 0.04)  # shin forward


def _bandage(c: Canvas, s: float) -> None:
    # An adhesive strip on a slant with its pad and holes.
    c.saveState()
    c.translate(s / 2, s / 2)
    c.rotate(-35)
    w, h = s * 1.0, s * 0.34
    c.roundRect(-w / 2, -h / 2, w, h, h / 2.5, stroke=1, fill=0)
    c.rect(-w * 0.16, -h / 2, w * 0.32, h, stroke=1, fill=0)
    for dx in (-0.06, 0.06):
        for dy in (-0.06, 0.06):
            c.circle(s * dx, s * dy, s * 0.025, stroke=0, fill=1)
    c.restoreState()


def _phone(c: Canvas, s: float) -> None:
    # A telephone handset.
    p = c.beginPath()
    p.moveTo(s * 0.18, s * 0.92)
    p.lineTo(s * 0.36, s * 0.74)
    p.lineTo(s * 0.28, s * 0.6)
    p.curveTo(s * 0.34, s * 0.46, s * 0.48, s * 0.32, s * 0.62, s * 0.26)
    p.lineTo(s * 0.76, s * 0.36)
    p.lineTo(s * 0.94, s * 0.18)
    p.lineTo(s * 0.8, s * 0.06)
    p.curveTo(s * 0.46, s * 0.06, s * 0.06, s * 0.46, s * 0.06, s * 0.8)
    p.close()
    c.drawPath(p, stroke=1, fill=1)


def _pencil(c: Canvas, s: float) -> None:
    # A pencil on a slant, point down to the left, over a writing line.
    c.saveState()
    c.translate(s * 0.5, s * 0.56)
    c.rotate(45)
    w, h = s * 0.78, s * 0.22
    c.rect(-w / 2 + h, -h / 2, w - h, h, stroke=1, fill=0)
    c.line(w / 2 - h * 0.8, -h / 2, w / 2 - h * 0.8, h / 2)
    p = c.beginPath()
    p.moveTo(-w / 2 + h, -h / 2)
    p.lineTo(-w / 2, 0)
    p.lineTo(-w / 2 + h, h / 2)
    p.close()
    c.drawPath(p, stroke=1, fill=1)
    c.restoreState()
    c.line(s * 0.04, s * 0.04, s * 0.96, s * 0.04)


ICONS: dict[str, Drawing] = {
    "food": _food,
    "medicine": _medicine,
    "car": _car,
    "activity": _activity,
    "bandage": _bandage,
    "phone": _phone,
    "pencil": _pencil,
}


def draw_icon(canvas: Canvas, name: str, x: float, y: float, size: float, color: Color) -> None:
    """Draw icon ``name`` in a ``size``-point square with its lower left corner at (x, y)."""
    drawing = ICONS[name]
    canvas.saveState()
    canvas.translate(x, y)
    canvas.setStrokeColor(color)
    canvas.setFillColor(color)
    canvas.setLineWidth(max(1.0, size / 14))
    canvas.setLineCap(1)
    canvas.setLineJoin(1)
    drawing(canvas, size)
    canvas.restoreState()
