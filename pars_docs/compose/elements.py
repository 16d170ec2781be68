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
class Element:
    """What one element may carry: its attributes, its child elements and whether it holds
    text (which may carry the marks of :mod:`.markup`)."""

    meaning: str
    attributes: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    text: bool = False


ITEMS = ("p", "bullet", "check", "step")

ELEMENTS: dict[str, Element] = {
    # A handout, and a bilingual handout's parts.
    "handouts": Element("every part of a bilingual handout", ("lang",), ("handout",)),
    "handout": Element(
        "one handout in one language; print='large' lays it out in large print",
        ("lang", "title", "print"),
        (
            "header",
            "patient",
            "keytimes",
            "note",
            "notice",
            "section",
            "questions",
            "callbox",
            "emergency",
            "footer",
        ),
    ),
    "header": Element(
        "the clinic and the handout's title",
        children=("logo", "clinic", "address", "title", "subtitle", "other"),
    ),
    "logo": Element("the site's logo, read as its alt text", ("alt",)),
    "clinic": Element("the clinic's name", text=True),
    "address": Element("the clinic's address, one line each", text=True),
    "title": Element("the instruction set's title", text=True),
    "subtitle": Element("what the handout is", text=True),
    "other": Element("where the other language's part is, in a bilingual handout", text=True),
    "patient": Element("the patient block", children=("field",)),
    "field": Element("one labelled value; wide='1' spans the block", ("label", "wide"), text=True),
    "keytimes": Element(
        "the key-times checklist of page 1", ("title", "continued"), ("p", "time", "phone")
    ),
    "time": Element("one key time: when, and what to do", ("at", "action", "alt"), text=True),
    "phone": Element("a labelled phone number (a write-in line when empty)", ("label",), text=True),
    "note": Element("the care team's own note, one line each", ("title",), text=True),
    "notice": Element("the notice to follow one's own clinician", text=True),
    "section": Element("a titled part of the instructions", ("title",), (*ITEMS, "group")),
    "group": Element("a titled group inside a section", ("title", "icon"), ITEMS),
    "p": Element("a paragraph", text=True),
    "bullet": Element("a bulleted item", text=True),
    "check": Element(
        "a checklist item; alt is how a screen reader reads its box", ("alt",), text=True
    ),
    "step": Element("a numbered step", text=True),
    "questions": Element("the questions area with writing lines", ("title", "lines"), ("p",)),
    "callbox": Element("when to call the clinic", ("title", "icon"), ("phone", "p", "bullet")),
    "emergency": Element("when to call 911", ("title", "icon"), ("p", "bullet")),
    "footer": Element("every page's footer", children=("left", "center", "made", "right", "draft")),
    "made": Element("the day the handout was made", text=True),
    "left": Element("the patient's identifiers", text=True),
    "center": Element("the page number and the day made", children=("page", "pages"), text=True),
    "right": Element("which instruction set made the handout", text=True),
    "draft": Element("the mark of a draft translation", text=True),
    "page": Element("this page's number"),
    "pages": Element("the number of pages"),
    # A packet's index (templates/packet.xml.j2).
    "packet": Element("a packet's index pages", ("lang", "title"), ("index",)),
    "index": Element("one table of the index", ("title",), ("columns", "row")),
    "columns": Element("the table's column heads", children=("col",)),
    "col": Element("a column head; width is its share of the page", ("width",), text=True),
    "row": Element("one row of the table", children=("cell",)),
    "cell": Element("one cell", text=True),
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
