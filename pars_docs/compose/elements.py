"""The composed document's contract: every element a renderer may meet, written once.

The composer fills ``templates/handout.xml.j2`` (and ``packet.xml.j2`` for a packet's index)
into a small XML document; the PDF builder (:mod:`pars_docs.render.pdf.builder`) and the text
rendition (:mod:`pars_docs.render.renditions`) read it, each through a table of handlers keyed
by these names. An element the table does not know is an error (:class:`UnknownElement`),
never a silent skip, and :func:`problems` checks a whole document against this contract (the
tests run it on every built-in set, language and option).

To add an element, see CONTRIBUTING.md ("Add an element to the composed document").
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..errors import InstructionError


@dataclass(frozen=True)
class ElementSpec:
    """What one element may carry: its attributes, its child elements and whether it holds
    text (which may carry the marks of :mod:`.markup`)."""

    meaning: str
    attributes: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    text: bool = False


ITEMS = ("p", "bullet", "check", "step")

ELEMENTS: dict[str, ElementSpec] = {
    # A handout, and a bilingual handout's parts.
    "handouts": ElementSpec("every part of a bilingual handout", ("lang",), ("handout",)),
    "handout": ElementSpec(
        "one handout in one language; print='large' lays it out in large print",
        ("lang", "title", "print"),
        (
            "header",
            "patient",
            "keytimes",
            "note",
            "notice",
            "slot",
            "section",
            "questions",
            "callbox",
            "emergency",
            "footer",
        ),
    ),
    "header": ElementSpec(
        "the clinic and the handout's title",
        children=("logo", "clinic", "address", "title", "subtitle", "other"),
    ),
    "logo": ElementSpec("the site's logo, read as its alt text", ("alt",)),
    "clinic": ElementSpec("the clinic's name", text=True),
    "address": ElementSpec("the clinic's address, one line each", text=True),
    "title": ElementSpec("the instruction set's title", text=True),
    "subtitle": ElementSpec("what the handout is", text=True),
    "other": ElementSpec("where the other language's part is, in a bilingual handout", text=True),
    "patient": ElementSpec("the patient block", children=("field",)),
    "field": ElementSpec(
        "one labelled value; wide='1' spans the block", ("label", "wide"), text=True
    ),
    "keytimes": ElementSpec(
        "the key-times checklist of page 1; more: what a part that goes on says under it",
        ("title", "continued", "more"),
        ("p", "time", "phone"),
    ),
    "time": ElementSpec("one key time: when, and what to do", ("at", "action", "alt"), text=True),
    "phone": ElementSpec(
        "a labelled phone number (a write-in line when empty)", ("label",), text=True
    ),
    "note": ElementSpec("the care team's own note, one line each", ("title",), text=True),
    "notice": ElementSpec("the notice to follow one's own clinician", text=True),
    "slot": ElementSpec(
        "a clinic's own paragraph in a named place of the page (the set's or site's slots)",
        ("name",),
        text=True,
    ),
    "section": ElementSpec(
        "a titled part of the instructions", ("title",), (*ITEMS, "group", "picture")
    ),
    "group": ElementSpec(
        "a titled group inside a section", ("title", "icon"), (*ITEMS, "table", "picture")
    ),
    "picture": ElementSpec(
        "a drawing of templates/pictures.yaml set beside (or below) the items that follow it "
        "in its section or group; alt is what a screen reader and the text rendition say "
        "in its place",
        ("name", "alt"),
        ("label",),
    ),
    "label": ElementSpec(
        "a word drawn on a picture, at its place named in pictures.yaml", ("name",), text=True
    ),
    "table": ElementSpec(
        "a table of an instruction set (a pain diary): its column heads, then a row per "
        "moment; an empty cell is a place to write in",
        children=("columns", "row"),
    ),
    "p": ElementSpec("a paragraph", text=True),
    "bullet": ElementSpec("a bulleted item", text=True),
    "check": ElementSpec(
        "a checklist item; alt is how a screen reader reads its box", ("alt",), text=True
    ),
    "step": ElementSpec("a numbered step", text=True),
    "questions": ElementSpec("the questions area with writing lines", ("title", "lines"), ("p",)),
    "callbox": ElementSpec("when to call the clinic", ("title", "icon"), ("phone", "p", "bullet")),
    "emergency": ElementSpec("when to call 911", ("title", "icon"), ("p", "bullet")),
    "footer": ElementSpec(
        "every page's footer", children=("left", "center", "made", "right", "draft")
    ),
    "made": ElementSpec("the day the handout was made", text=True),
    "left": ElementSpec("the patient's identifiers", text=True),
    "center": ElementSpec(
        "the page number and the day made", children=("page", "pages"), text=True
    ),
    "right": ElementSpec("which instruction set made the handout", text=True),
    "draft": ElementSpec("the mark of a draft translation", text=True),
    "page": ElementSpec("this page's number"),
    "pages": ElementSpec("the number of pages"),
    # A packet's index (templates/packet.xml.j2).
    "packet": ElementSpec("a packet's index pages", ("lang", "title"), ("index",)),
    "index": ElementSpec("one table of the index", ("title",), ("columns", "row")),
    "columns": ElementSpec("the table's column heads", children=("col",)),
    "col": ElementSpec("a column head; width is its share of the page", ("width",), text=True),
    "row": ElementSpec("one row of the table", children=("cell",)),
    "cell": ElementSpec("one cell", text=True),
}


class UnknownElement(InstructionError):
    """Raised when a renderer meets an element the composed document's contract does not
    have, or one it has no handler for in that place (a page template that adds one)."""


def unknown(element: ET.Element, where: str) -> UnknownElement:
    """The error for ``element`` met in ``where`` (a renderer and a parent element)."""
    if element.tag in ELEMENTS:
        return UnknownElement(f"{where}: <{element.tag}> is not expected here")
    return UnknownElement(
        f"{where}: the page template makes <{element.tag}>, which is not an element of the "
        "composed document (see pars_docs/compose/elements.py)"
    )


def problems(root: ET.Element) -> list[str]:
    """Every way ``root`` (a composed handout, handouts or packet) breaks the contract."""
    found: list[str] = []

    def visit(element: ET.Element, path: str) -> None:
        spec = ELEMENTS.get(element.tag)
        if spec is None:
            found.append(f"{path}: unknown element <{element.tag}>")
            return
        for name in element.attrib:
            if name not in spec.attributes:
                found.append(f"{path}: <{element.tag}> has no attribute '{name}'")
        if not spec.text and (element.text or "").strip():
            found.append(f"{path}: <{element.tag}> holds no text")
        for child in element:
            where = f"{path}/{child.tag}"
            if child.tag not in spec.children:
                found.append(f"{where}: <{child.tag}> is not allowed in <{element.tag}>")
            if (child.tail or "").strip() and not spec.text:
                found.append(f"{where}: text after <{child.tag}> in <{element.tag}>")
            visit(child, where)

    visit(root, root.tag)
    return found
