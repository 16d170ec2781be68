"""The pictures a set may place, read from ``templates/pictures.yaml``: shapes, no words.

A set names a picture (``picture: lower_spine`` in a group or in ``about``); the page
template makes a ``<picture>`` element with its alt text and the words drawn on it, all
labels of ``labels.yaml`` (``picture_NAME`` and ``picture_NAME_LABEL``) in the handout's
language; the PDF draws the shapes read here. A shape is one of :data:`SHAPES`; a group
offsets a list of shapes (written once with a YAML anchor). Every problem is an
:class:`InstructionError` naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import InstructionError
from ..resources import templates_dir
from .loader import LoadedYAML, load_yaml
from .validate import problem

PICTURES_FILE = "pictures.yaml"
SHAPES = ("rect", "path", "circle", "curve", "digits", "group")
STROKES = ("ink", "accent", "alert", "none")
FILLS = ("none", "ink", "light", "accent", "white")
PLACES = ("beside", "below")
ALIGNS = ("left", "right", "center")
# How many numbers each shape's value holds (a path's points are checked one by one).
_SIZES = {"rect": 4, "circle": 3}
_STYLE = ("stroke", "fill", "width", "dash", "round", "close")


@dataclass(frozen=True)
class Label:
    """Where one word of a picture is drawn: the top of its box at ``at``."""

    name: str
    at: tuple[float, float]
    align: str
    width: float


@dataclass(frozen=True)
class Picture:
    """One picture: its size in points (regular print), where it goes beside its group's
    items, its shapes (dictionaries as written, groups already offset) and its labels."""

    name: str
    size: tuple[float, float]
    place: str
    shapes: tuple[dict[str, Any], ...]
    labels: tuple[Label, ...]

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _point(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value)


def _kind(loaded: LoadedYAML, shape: Any, field: tuple) -> str:
    """Which of :data:`SHAPES` ``shape`` is, its other keys and colours checked."""
    if not isinstance(shape, dict):
        raise InstructionError(problem(loaded, field, "a shape is a mapping"))
    kinds = [k for k in shape if k in SHAPES]
    if len(kinds) != 1:
        raise InstructionError(problem(loaded, field, f"give one of {', '.join(SHAPES)}"))
    for key in shape:
        if key != kinds[0] and key not in _STYLE:
            raise InstructionError(problem(loaded, (*field, key), "is not a shape's key"))
    if shape.get("stroke", "ink") not in STROKES or shape.get("fill", "none") not in FILLS:
        raise InstructionError(
            problem(
                loaded,
                field,
                f"stroke is one of {', '.join(STROKES)}; fill one of {', '.join(FILLS)}",
            )
        )
    return kinds[0]


def _shape(
    loaded: LoadedYAML, shape: Any, field: tuple, offset: tuple[float, float], k: float = 1.0
) -> list:
    """``shape`` checked, scaled by ``k`` and moved by ``offset``, as a list (a group's shapes
    flattened). Line widths are not scaled."""
    kind = _kind(loaded, shape, field)
    value = shape[kind]
    dx, dy = offset
    if kind == "group":
        if not isinstance(value, dict) or not isinstance(value.get("shapes"), list):
            raise InstructionError(problem(loaded, (*field, kind), "a group gives shapes"))
        move = value.get("offset", [0, 0])
        scale = value.get("scale", 1)
        if not _point(move) or not _number(scale) or scale <= 0:
            raise InstructionError(
                problem(loaded, (*field, kind), "offset is [dx, dy]; scale a number over 0")
            )
        out = []
        at = (dx + move[0] * k, dy + move[1] * k)
        for index, inner in enumerate(value["shapes"]):
            out += _shape(loaded, inner, (*field, kind, "shapes", index), at, k * scale)
        return out
    moved = dict(shape)
    if _number(shape.get("round")):
        moved["round"] = shape["round"] * k
    moved[kind] = _moved(loaded, kind, value, (*field, kind), (dx, dy, k))
    return [moved]


def _moved(loaded: LoadedYAML, kind: str, value: Any, field: tuple, move: tuple) -> Any:
    """A shape's value checked, scaled and moved (``move``: dx, dy and the scale)."""
    dx, dy, k = move
    if kind in _SIZES:
        if not (
            isinstance(value, list)
            and len(value) == _SIZES[kind]
            and all(_number(v) for v in value)
        ):
            raise InstructionError(problem(loaded, field, f"gives {_SIZES[kind]} numbers"))
        return [value[0] * k + dx, value[1] * k + dy, *(v * k for v in value[2:])]
    if kind in ("path", "curve"):
        want = 4 if kind == "curve" else None
        if (
            not isinstance(value, list)
            or len(value) < 2
            or (want and len(value) != want)
            or not all(_point(p) for p in value)
        ):
            raise InstructionError(
                problem(loaded, field, f"gives {want or 'two or more'} points [x, y]")
            )
        return [[x * k + dx, y * k + dy] for x, y in value]
    # digits: the only text a shape draws, so no word can hide in the shapes
    text = value.get("text") if isinstance(value, dict) else None
    if not (isinstance(text, str) and text.isdigit() and _point(value.get("at"))):
        raise InstructionError(problem(loaded, field, "gives at: [x, y] and text: digits only"))
    return {"at": [value["at"][0] * k + dx, value["at"][1] * k + dy], "text": text}


def _picture(loaded: LoadedYAML, name: str, data: Any) -> Picture:
    field: tuple = (name,)
    if not isinstance(data, dict):
        raise InstructionError(problem(loaded, field, "a picture is a mapping"))
    size: Any = data.get("size")
    if not _point(size) or min(size) <= 0:
        raise InstructionError(problem(loaded, (name, "size"), "is [width, height] in points"))
    place = data.get("place", "beside")
    if place not in PLACES:
        raise InstructionError(problem(loaded, (name, "place"), f"is one of {', '.join(PLACES)}"))
    shapes = []
    for index, shape in enumerate(data.get("shapes") or []):
        shapes += _shape(loaded, shape, (name, "shapes", index), (0, 0))
    labels = []
    for index, label in enumerate(data.get("labels") or []):
        where = (name, "labels", index)
        if not (
            isinstance(label, dict)
            and isinstance(label.get("name"), str)
            and label["name"].isidentifier()
            and _point(label.get("at"))
            and label.get("align", "left") in ALIGNS
            and _number(label.get("width"))
        ):
            raise InstructionError(
                problem(
                    loaded,
                    where,
                    "a label gives name (letters and _), at: [x, y], width, and align "
                    f"({', '.join(ALIGNS)})",
                )
            )
        labels.append(
            Label(label["name"], tuple(label["at"]), label.get("align", "left"), label["width"])
        )
    return Picture(name, (size[0], size[1]), place, tuple(shapes), tuple(labels))


def load_pictures(path: Path) -> dict[str, Picture]:
    """The pictures of a pictures file by name; the first problem is an
    :class:`InstructionError` naming the file, line and field."""
    loaded = load_yaml(path, InstructionError)
    if not isinstance(loaded.data, dict):
        raise InstructionError(f"{loaded.path}: needs a mapping of pictures by name")
    return {str(name): _picture(loaded, str(name), data) for name, data in loaded.data.items()}


@cache
def pictures() -> dict[str, Picture]:
    """Every built-in picture by name (``templates/pictures.yaml``)."""
    return load_pictures(templates_dir() / PICTURES_FILE)


def label_keys(name: str) -> list[str]:
    """The labels (``labels.yaml``) picture ``name`` needs: its alt text, then its words."""
    picture = pictures()[name]
    return [f"picture_{name}", *(f"picture_{name}_{label}" for label in picture.label_names)]
