"""Tagged PDF: the logical structure tree and the marked content that belongs to it.

ReportLab has no tagging API, so this module is the one place that writes it. The builder
makes the structure (a tree of :class:`Element`) in reading order while it makes the story;
each flowable then draws its content inside :meth:`Element.marked`, which wraps it in a
``/Role <</MCID n>> BDC … EMC`` sequence and records which element the sequence belongs to.
Anything decorative (rules, box borders, the footer) is drawn inside :func:`artifact`. When
the canvas saves, :meth:`Structure.write` turns the tree into ``/StructTreeRoot`` with its
``/ParentTree``, and gives each page its ``/StructParents`` key.

Content that continues on the next page stays in its element: the element simply gains a
marked-content reference on that page too.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from contextlib import contextmanager

from reportlab.pdfbase.pdfdoc import (
    PDFDictionary,
    PDFDocument,
    PDFName,
    PDFObject,
    PDFObjectReference,
    PDFPage,
)
from reportlab.pdfgen.canvas import Canvas

# Structure types with content of their own, as opposed to grouping types (Document, Sect,
# L, LI, Table, TR, Div) whose kids are other elements.
CONTENT_ROLES = frozenset({"P", "H1", "H2", "H3", "H4", "Lbl", "LBody", "TH", "TD", "Figure"})

# Attributes an element may carry and the PDF key each is written under.
_STRINGS = {"lang": "Lang", "alt": "Alt", "actual_text": "ActualText", "title": "T"}
# Layout and table attributes, written in an /A attribute dictionary with its owner.
_OWNED = {"scope": ("Table", "Scope"), "numbering": ("List", "ListNumbering")}


class Element:
    """One structure element: its role (``P``, ``H2``, ``LI``…), attributes and kids.

    Kids are other elements, in reading order; content elements instead collect the
    marked-content sequences they are drawn as, ``(page index, MCID)`` pairs in drawing order.
    """

    __slots__ = ("role", "parent", "kids", "content", "attrs")

    def __init__(self, role: str, parent: Element | None = None, **attrs: str) -> None:
        self.role = role
        self.parent = parent
        self.kids: list[Element] = []
        self.content: list[tuple[int, int]] = []
        self.attrs = {k: v for k, v in attrs.items() if v}

    def add(self, role: str, **attrs: str) -> Element:
        """A new last kid of this element."""
        kid = Element(role, self, **attrs)
        self.kids.append(kid)
        return kid

    @contextmanager
    def marked(self, canvas: Canvas) -> Iterator[None]:
        """Mark what is drawn on ``canvas`` inside the block as this element's content.

        Nothing is marked on a canvas that is not tagging, nor inside an artifact (a table
        header repeated on a new page is drawn again as page furniture, not read twice).
        """
        structure: Structure | None = getattr(canvas, "structure", None)
        if structure is None or getattr(canvas, _DEPTH, 0):
            yield
            return
        mcid = structure.claim(canvas, self)
        canvas.addLiteral(f"/{self.role} <</MCID {mcid}>> BDC")
        yield
        canvas.addLiteral("EMC")

    def walk(self) -> Iterator[Element]:
        """This element and all below it, in reading order."""
        yield self
        for kid in self.kids:
            yield from kid.walk()

    def __repr__(self) -> str:
        return f"Element({self.role!r}, {len(self.kids)} kids, {len(self.content)} marks)"


_DEPTH = "_artifact_depth"  # how many artifacts the canvas is inside


def begin_artifact(canvas: Canvas, kind: str = "Layout", subtype: str | None = None) -> None:
    """Start marking what is drawn on ``canvas`` as an artifact: page furniture
    (``Pagination``, with ``subtype`` ``Footer``…) or decoration (``Layout``: rules, box
    borders). Artifacts nest; only the outermost is written."""
    if getattr(canvas, "structure", None) is None:
        return
    depth = getattr(canvas, _DEPTH, 0)
    if not depth:
        extra = f" /Subtype /{subtype}" if subtype else ""
        canvas.addLiteral(f"/Artifact <</Type /{kind}{extra}>> BDC")
    setattr(canvas, _DEPTH, depth + 1)


def end_artifact(canvas: Canvas) -> None:
    """End the artifact :func:`begin_artifact` started."""
    if getattr(canvas, "structure", None) is None:
        return
    depth = getattr(canvas, _DEPTH, 0) - 1
    setattr(canvas, _DEPTH, depth)
    if not depth:
        canvas.addLiteral("EMC")


@contextmanager
def artifact(canvas: Canvas, kind: str = "Layout", subtype: str | None = None) -> Iterator[None]:
    """Mark what is drawn on ``canvas`` inside the block as an artifact."""
    begin_artifact(canvas, kind, subtype)
    yield
    end_artifact(canvas)


class Structure:
    """The structure tree of one PDF and the marked content drawn for it, page by page."""

    def __init__(self, lang: str | None = None) -> None:
        self.root = Element("Document", lang=lang or "")
        # For each page index, the element each MCID (the list index) belongs to.
        self._marks: dict[int, list[Element]] = {}

    def claim(self, canvas: Canvas, element: Element) -> int:
        """The next MCID on ``canvas``'s current page, recorded as ``element``'s content."""
        page = canvas.getPageNumber() - 1
        marks = self._marks.setdefault(page, [])
        element.content.append((page, len(marks)))
        marks.append(element)
        return len(marks) - 1

    def write(self, doc: PDFDocument) -> None:
        """Add the structure tree to ``doc``: call after the last page, before saving.

        Elements that were never drawn (and grouping elements left with no kids) are left
        out; the catalog gets ``/StructTreeRoot`` and ``/MarkInfo``, every page with content
        its ``/StructParents``.
        """
        pages: list[PDFPage] = doc.Pages.pages
        names: dict[int, str] = {}  # id(element) → its object's name
        tree = _Raw()
        doc.Reference(tree, "StructTreeRoot")
        top = self._write(self.root, "StructTreeRoot", doc, names)
        nums = []
        for index in sorted(self._marks):
            page = pages[index]
            page.__class__ = _TaggedPage
            page.StructParents = index
            page.Tabs = PDFName("S")
            parents = _Raw(b"[", *(names[id(e)] for e in self._marks[index]), b"]")
            doc.Reference(parents, f"ParentTree.{index}")
            nums += [f"{index}".encode(), f"ParentTree.{index}"]
        tree.parts = [
            b"<< /Type /StructTreeRoot /K [",
            *([top] if top else []),
            b"] /ParentTree << /Nums [",
            *nums,
            f"] >> /ParentTreeNextKey {len(pages)} >>".encode(),
        ]
        doc.Catalog.StructTreeRoot = PDFObjectReference("StructTreeRoot")
        doc.Catalog.MarkInfo = PDFDictionary({"Marked": "true"})

    def _write(
        self, element: Element, parent: str, doc: PDFDocument, names: dict[int, str]
    ) -> str | None:
        """Register ``element`` and its drawn kids as objects; return its object's name, or
        ``None`` when nothing of it was drawn."""
        kids: list[bytes | str] = []
        first = element.content[0][0] if element.content else None
        for page, mcid in element.content:
            if page == first:
                kids.append(b"%d" % mcid)
            else:
                kids += [b"<< /Type /MCR /Pg", _page_name(page), b"/MCID %d >>" % mcid]
        raw = _Raw()
        name = f"SE{len(names) + 1}"
        names[id(element)] = name
        for kid in element.kids:
            kid_name = self._write(kid, name, doc, names)
            if kid_name is not None:
                kids.append(kid_name)
        if not kids:
            del names[id(element)]
            return None
        doc.Reference(raw, name)
        parts: list[bytes | str] = [
            b"<< /Type /StructElem /S /%s /P" % element.role.encode(),
            parent,
        ]
        if first is not None:
            parts += [b"/Pg", _page_name(first)]
        parts += [b"/K [", *kids, b"]"]
        owned: dict[str, list[bytes]] = {}
        for key, value in element.attrs.items():
            if key in _STRINGS:
                parts.append(b"/%s %s" % (_STRINGS[key].encode(), _string(value)))
            elif key in _OWNED:
                owner, attribute = _OWNED[key]
                owned.setdefault(owner, []).append(
                    b"/%s /%s" % (attribute.encode(), value.encode())
                )
        if owned:
            dictionaries = [
                b"<< /O /%s %s >>" % (owner.encode(), b" ".join(entries))
                for owner, entries in owned.items()
            ]
            many = len(dictionaries) > 1
            parts += [b"/A", *([b"["] if many else []), *dictionaries, *([b"]"] if many else [])]
        parts.append(b">>")
        raw.parts = parts
        return name


def _page_name(index: int) -> str:
    # ReportLab names the n-th page object "Page<n>" (PDFDocument.thisPageName).
    return f"Page{index + 1}"


def _string(text: str) -> bytes:
    """``text`` as a PDF text string (UTF-16 with a byte order mark, so any script works)."""
    data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return b"<" + data.hex().encode() + b">"


class _Raw(PDFObject):
    """A PDF object written from bytes and the names of other objects, which become
    references: the structure tree has thousands of small objects in a packet, and ReportLab's
    general dictionaries were most of the time tagging took."""

    __RefOnly__ = 1

    def __init__(self, *parts: bytes | str) -> None:
        self.parts: list[bytes | str] = list(parts)

    def format(self, document: PDFDocument) -> bytes:
        numbers = document.idToObjectNumberAndVersion
        return b" ".join(
            part if isinstance(part, bytes) else b"%d 0 R" % numbers[part][0] for part in self.parts
        )


class _TaggedPage(PDFPage):
    """A page that writes its ``/StructParents`` key and ``/Tabs`` order."""

    __NoDefault__ = [*PDFPage.__NoDefault__, "StructParents", "Tabs"]
