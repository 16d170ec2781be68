"""Lay composed handouts out as a PDF with ReportLab.

The package knows about pages, boxes and type; it writes no wording of its own.

- :mod:`.flowables`: the flowables, and the only code that uses ReportLab's private APIs;
- :mod:`.document`: the document and page template, and the footer canvas;
- :mod:`.builder`: composed XML → a platypus story and its structure tree;
- :mod:`.tagging`: the structure tree and marked content of the tagged PDF (PDF/UA-1);
- :mod:`.metadata`: XMP metadata, and PDF/A's output intent and colour profile;
- here: :func:`render_pdf`, which puts them together.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from functools import partial
from pathlib import Path

from reportlab.platypus.doctemplate import LayoutError

from ..._version import version
from ...clock import reproducible
from ...errors import InstructionError
from .builder import Builder
from .document import FooterCanvas, HandoutDocTemplate
from .flowables import HandoutStart
from .fonts import register_fonts
from .styles import FOOTER_SIZE, FRAME_BOTTOM, LARGE_FOOTER_SIZE, MARGIN, PAPER, stylesheet
from .tagging import Structure

__all__ = ["render_pdf"]


def render_pdf(
    handouts: list[ET.Element],
    *,
    paper: str = "letter",
    logo: Path | str | None = None,
    title: str | None = None,
    author: str = "",
    duplex: bool = False,
    index: ET.Element | list[ET.Element] | None = None,
    pdfa: bool = False,
    tagged: bool = True,
) -> bytes:
    """One PDF holding ``handouts`` in order, each starting on a new page (a new sheet when
    ``duplex``), fonts embedded once.

    ``index`` (a packet's index, or its tables, see templates/packet.xml.j2) comes first. A
    handout whose root has ``print="large"`` is laid out in large print. The PDF is tagged
    for screen readers (PDF/UA-1) unless ``tagged`` is false, which is there to measure what
    tagging costs; ``pdfa`` makes it PDF/A-2b as well, for archiving. With
    ``SOURCE_DATE_EPOCH`` set the output is byte-for-byte reproducible.
    """
    if pdfa and not tagged:
        raise ValueError("a PDF/A handout is always tagged")
    # A site writes its language en_US or en-US; PDF wants the BCP 47 form.
    lang = _bcp47(handouts[0].get("lang")) if handouts else None
    pagesize = PAPER[paper]
    width = pagesize[0] - 2 * MARGIN
    buffer = io.BytesIO()
    doc = HandoutDocTemplate(
        buffer,
        pagesize=pagesize,
        new_sheets=duplex,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=FRAME_BOTTOM,
        title=title or (handouts[0].get("title") if handouts else "Patient handouts"),
        author=author or "pars-docs",
        subject="",
        keywords="",
        creator=f"pars-docs {version()}",
        invariant=1 if reproducible() else 0,
        # Start every page in the bundled font, so no unembedded base-14 font is referenced.
        initialFontName=register_fonts()[0],
        lang=lang,
    )
    structure = Structure(lang)
    # Regular and large print (a handout marked print="large") each have their own styles.
    builders = {
        large: Builder(stylesheet(large_print=large), width, logo, doc.height, large)
        for large in (False, True)
    }
    tables = [index] if isinstance(index, ET.Element) else index or []
    story = [f for table in tables for f in builders[False].index(table, structure.root)]
    for key, handout in enumerate(handouts):
        large = handout.get("print") == "large"
        builder = builders[large]
        footer_size = LARGE_FOOTER_SIZE if large else FOOTER_SIZE
        story.append(HandoutStart(key, handout.find("footer"), footer_size))
        # Each handout is a part of the document, in its own language when that differs.
        own = _bcp47(handout.get("lang"))
        part = structure.root.add("Part", lang=own if own and own != lang else "")
        story.extend(builder.build(handout, part))
    canvas = partial(FooterCanvas, structure=structure if tagged else None, pdfa=pdfa)
    try:
        doc.build(story, canvasmaker=canvas)
    except LayoutError as e:
        raise InstructionError(f"the handout could not be laid out on the page ({e})") from e
    return buffer.getvalue()


def _bcp47(language: str | None) -> str | None:
    return language.replace("_", "-") if language else None
