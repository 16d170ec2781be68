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
from typing import Any

from reportlab.pdfbase.pdfdoc import (
    PDFDictionary,
    PDFDocument,
    PDFFile,
    PDFIndirectObject,
    PDFName,
    PDFObjectReference,
    PDFPage,
    PDFTrailer,
)
from reportlab.pdfgen.canvas import Canvas

# Structure types with content of their own, as opposed to grouping types (Document, Sect,
# L, LI, Table, TR, Div) whose kids are other elements.
CONTENT_ROLES = frozenset({"P", "H1", "H2", "H3", "H4", "Lbl", "LBody", "TH", "TD", "Figure"})

# Attributes an element may carry and the PDF key each is written under.
_STRINGS = {"lang": "Lang", "alt": "Alt", "actual_text": "ActualText", "title": "T"}
# Layout and table attributes, written in an /A attribute dictionary with its owner.
_OWNED = {"scope": ("Table", "Scope"), "numbering": ("List", "ListNumbering")}


_NONE: dict[str, str] = {}


class Element:
    """One structure element: its role (``P``, ``H2``, ``LI``…), attributes and kids.

    Kids are other elements, in reading order; content elements instead collect the
    marked-content sequences they are drawn as, ``(page index, MCID)`` pairs in drawing order.
    """

    __slots__ = ("role", "parent", "kids", "content", "attrs", "ref")

    def __init__(self, role: str, parent: Element | None = None, **attrs: str) -> None:
        self.role = role
        self.parent = parent
        self.kids: list[Element] = []
        self.content: list[tuple[int, int]] = []
        self.attrs = {k: v for k, v in attrs.items() if v} if attrs else _NONE
        self.ref = b""  # its object reference, once written

    def add(self, role: str, **attrs: str) -> Element:
        """A new last kid of this element."""
        kid = Element(role, self, **attrs)
        self.kids.append(kid)
        return kid

    @contextmanager
    def marked(self, canvas: Canvas) -> Iterator[None]:
        """Mark what is drawn on ``canvas`` inside the block as this element's content."""
        opened = self.begin(canvas)
        yield
        if opened:
            canvas.addLiteral("EMC")

    def begin(self, canvas: Canvas) -> bool:
        """Start marking what is drawn on ``canvas`` as this element's content; whether a
        sequence was opened, to be closed with ``EMC``.

        Nothing is marked on a canvas that is not tagging, nor inside an artifact (a table
        header repeated on a new page is drawn again as page furniture, not read twice).
        """
        structure: Structure | None = getattr(canvas, "structure", None)
        if structure is None or getattr(canvas, _DEPTH, False):
            return False
        mcid = structure.claim(canvas, self)
        canvas.addLiteral(f"/{self.role} <</MCID {mcid}>> BDC")
        return True

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
        if kind == "Layout":  # the default kind of artifact: no need to say so
            canvas.addLiteral("/Artifact BMC")
        else:
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

    def write(self, doc: Any) -> None:
        """Add the structure tree to ``doc``: call after the last page, before saving.

        Elements that were never drawn (and grouping elements left with no kids) are left
        out; the catalog gets ``/StructTreeRoot`` and ``/MarkInfo``, every page with content
        its ``/StructParents``.
        """
        pages: list[Any] = doc.Pages.pages
        numbers = doc.idToObjectNumberAndVersion
        page_refs = [b"%d 0 R" % numbers[f"Page{n + 1}"][0] for n in range(len(pages))]
        drawn: list[Element] = []
        _collect(self.root, drawn)
        marked = sorted(self._marks)
        # The objects are numbered before they are written, so each can be written once,
        # references and all, as plain bytes (no object per element for the garbage
        # collector to walk): the elements in reading order, each page's list of the
        # elements its MCIDs belong to, then the tree root.
        base = doc.objectcounter
        for number, element in enumerate(drawn, base + 1):
            element.ref = b"%d 0 R" % number
        first_list = base + len(drawn) + 1
        tree_ref = b"%d 0 R" % (first_list + len(marked))
        objects = [
            _element(element, element.parent.ref if element.parent else tree_ref, page_refs)
            for element in drawn
        ]
        nums = []
        for number, index in enumerate(marked, first_list):
            page = pages[index]
            page.__class__ = _TaggedPage
            page.StructParents = index
            page.Tabs = PDFName("S")
            objects.append(b"[%s]" % b" ".join([e.ref for e in self._marks[index]]))
            nums.append(b"%d %d 0 R" % (index, number))
        objects.append(
            b"<< /Type /StructTreeRoot /K [%s] /ParentTree << /Nums [%s] >> "
            b"/ParentTreeNextKey %d >>" % (self.root.ref, b" ".join(nums), len(pages))
        )
        # ReportLab would write each of these thousands of objects through its general path
        # (a wrapper object, a name, a lookup and a format call apiece); the document writes
        # them instead as one run of ready bytes (see _TaggedDocument).
        doc.objectcounter = base + len(objects)
        doc.__class__ = _TaggedDocument
        doc.structure_objects = (base + 1, objects)
        # The root is named only so the catalog can refer to it (written in the run).
        numbers["StructTreeRoot"] = (base + len(objects), 0)
        doc.Catalog.StructTreeRoot = PDFObjectReference("StructTreeRoot")
        doc.Catalog.MarkInfo = PDFDictionary({"Marked": "true"})


def _collect(element: Element, out: list[Element]) -> bool:
    """Append to ``out`` ``element`` and its kids that were drawn, in reading order; whether
    anything of ``element`` was drawn."""
    at = len(out)
    out.append(element)
    drawn = bool(element.content)
    for kid in element.kids:
        drawn = _collect(kid, out) or drawn
    if not drawn:
        del out[at:]
    return drawn


def _element(element: Element, parent: bytes, page_refs: list[bytes]) -> bytes:
    """One structure element dictionary."""
    content = element.content
    if len(content) == 1 and not element.kids and not element.attrs:
        # Most elements: a paragraph, label or cell drawn in one piece.
        index, mcid = content[0]
        return b"%s%s /Pg %s /K %d >>" % (
            _HEAD.get(element.role) or _head(element.role),
            parent,
            page_refs[index],
            mcid,
        )
    kids = []
    page = b""
    if content:
        first = content[0][0]
        page = b" /Pg " + page_refs[first]
        for index, mcid in element.content:
            if index == first:
                kids.append(b"%d" % mcid)
            else:
                kids.append(b"<< /Type /MCR /Pg %s /MCID %d >>" % (page_refs[index], mcid))
    kids += [kid.ref for kid in element.kids if kid.ref]
    extra = b""
    if element.attrs:
        owned: dict[str, list[bytes]] = {}
        for key, value in element.attrs.items():
            if key in _STRINGS:
                extra += b" /%s %s" % (_STRINGS[key].encode(), _string(value))
            elif key in _OWNED:
                owner, attribute = _OWNED[key]
                owned.setdefault(owner, []).append(
                    b"/%s /%s" % (attribute.encode(), value.encode())
                )
        dictionaries = [b"<< /O /%s %s >>" % (o.encode(), b" ".join(e)) for o, e in owned.items()]
        if len(dictionaries) == 1:
            extra += b" /A " + dictionaries[0]
        elif dictionaries:
            extra += b" /A [%s]" % b" ".join(dictionaries)
    return b"%s%s%s /K [%s]%s >>" % (
        _HEAD.get(element.role) or _head(element.role),
        parent,
        page,
        b" ".join(kids),
        extra,
    )


_HEAD: dict[str, bytes] = {}


def _head(role: str) -> bytes:
    _HEAD[role] = b"<< /S /%s /P " % role.encode()  # /Type /StructElem is optional
    return _HEAD[role]


def _string(text: str) -> bytes:
    """``text`` as a PDF text string (UTF-16 with a byte order mark, so any script works)."""
    data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return b"<" + data.hex().encode() + b">"


class _TaggedPage(PDFPage):
    """A page that writes its ``/StructParents`` key and ``/Tabs`` order."""

    __NoDefault__ = [*PDFPage.__NoDefault__, "StructParents", "Tabs"]


class _TaggedDocument(PDFDocument):
    """A document that writes its structure tree's objects as one run of ready bytes.

    ``structure_objects`` holds the number of the first and the objects' bytes, numbered on
    from there. Everything else is written as :meth:`PDFDocument.format` writes it (this is
    that method, with the run and a cross-reference table by number), so the file is the same
    byte for byte as if each object had been registered on its own. (ReportLab's debugging
    comments, ``rl_config.pdfComments``, off by default, are not written.)
    """

    structure_objects: tuple[int, list[bytes]]

    def format(self) -> bytes:
        doc: Any = self  # ReportLab's document sets most of its attributes untyped
        doc.encrypt.prepare(self)
        catalog, info = doc.Catalog, doc.info
        self.Reference(catalog)
        self.Reference(info)
        encryption = doc.encrypt.info()
        encrypt_ref = self.Reference(encryption) if encryption else None
        first, objects = self.structure_objects
        after = first + len(objects)
        numbers, objects_by_name = self.numberToId, self.idToObject
        offsets: list[int] = []  # by object number, from 1
        # New objects (font subsets, widths) are registered while others are written.
        self.__accum__ = file = PDFFile(doc._pdfVersion)
        counter = 1
        while counter in numbers or first <= counter < after:
            if counter == first:
                offset = file.offset
                run = []
                for number, data in enumerate(objects, first):
                    offsets.append(offset)
                    written = b"%d 0 obj\n%s\nendobj\n" % (number, data)
                    offset += len(written)
                    run.append(written)
                file.write(b"".join(run))
                file.offset = offset
                counter = after
                continue
            name = numbers[counter]
            written = PDFIndirectObject(name, objects_by_name[name]).format(self)
            offset = file.add(written)
            self.idToOffset[name] = offset
            offsets.append(offset)
            counter += 1
        del self.__accum__
        if counter - 1 != len(numbers) + len(objects):
            raise ValueError(f"{counter - 1} objects written, {len(numbers) + len(objects)} made")
        entries = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        xref = b"xref\n0 %d\n0000000000 65535 f \n%s" % (len(offsets) + 1, entries)
        trailer = PDFTrailer(
            startxref=file.add(xref),
            Size=len(offsets) + 1,
            Root=self.Reference(catalog),
            Info=self.Reference(info),
            Encrypt=encrypt_ref,
            ID=self.ID(),
        )
        file.add(trailer.format(self))
        for signature in getattr(self, "_digiSigs", []):
            signature.sign(file)
        return file.format(self)
