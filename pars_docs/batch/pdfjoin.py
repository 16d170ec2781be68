"""Join PDFs made by ReportLab into one file, one part at a time.

A merged packet can hold tens of thousands of handouts. Laying them all out in one ReportLab
document keeps every page in memory until the end, so a packet is made in parts instead and
the parts are joined here. :class:`PdfJoiner` copies each part's pages, and everything they
use, into the output as soon as the part is added, renumbering the objects; only the current
part and one number per object are held in memory.

It reads what ReportLab writes (a classic cross-reference table, no object streams, no
encryption) and refuses anything else, so it is no general PDF tool.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from typing import Protocol

_REF = re.compile(rb"(?<![\d.])(\d+) 0 R")
_STREAM = re.compile(rb">>\s*stream\r?\n")
_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[[^\]]*\]")
_STRUCT_PARENTS = re.compile(rb"(/StructParents?\s+)(\d+)")
_LANG = re.compile(rb"/Lang\s*(\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f]*>)")
_NUMS = re.compile(rb"/Nums\s*\[([^\]]*)\]")
_KIDS = re.compile(rb"/K\s*\[([^\]]*)\]")
# Catalog entries the joined file writes itself; the first part's others are copied.
_OWN_ENTRIES = re.compile(
    rb"/(?:Type\s*/Catalog|Pages\s+\d+ 0 R|StructTreeRoot\s+\d+ 0 R|Outlines\s+\d+ 0 R)"
)
_CATALOG, _PAGES, _INFO, _STRUCTURE, _DOCUMENT = 1, 2, 3, 4, 5  # the joined file's own objects


class Writable(Protocol):
    """Where a joined PDF goes: anything with ``write`` (a file, a :class:`~.output.NewFile`)."""

    def write(self, data: bytes, /) -> object: ...


class JoinError(ValueError):
    """Raised when a part is not a PDF of the kind ReportLab writes."""


def _parse(pdf: bytes) -> tuple[dict[int, bytes], int, int | None]:
    """The objects of ``pdf`` (number → body, without ``obj``/``endobj``), its catalog and
    its document information dictionary."""
    try:
        xref = int(pdf[pdf.rindex(b"startxref") + 9 :].split()[0])
        if not pdf.startswith(b"xref", xref):
            raise JoinError("no cross-reference table (object streams are not supported)")
        lines = iter(pdf[xref:].split(b"trailer", 1)[0].splitlines()[1:])
        spans: list[tuple[int, int]] = []
        for header in lines:
            if not header.strip():
                continue
            first, count = (int(n) for n in header.split())
            for number in range(first, first + count):
                at, _, kind = next(lines).split()
                if kind == b"n":
                    spans.append((int(at), number))
        trailer = pdf[xref:]
        root = int(_found(rb"/Root\s+(\d+) 0 R", trailer))
        info_match = re.search(rb"/Info\s+(\d+) 0 R", trailer)
    except (ValueError, TypeError, StopIteration) as e:
        raise JoinError(f"not a PDF this joiner can read ({e})") from e
    spans.sort()
    objects = {}
    for index, (offset, number) in enumerate(spans):
        end = spans[index + 1][0] if index + 1 < len(spans) else xref
        body = pdf[offset:end]
        objects[number] = body[body.index(b"obj") + 3 : body.rindex(b"endobj")].strip()
    return objects, root, int(info_match[1]) if info_match else None


def _found(pattern: re.Pattern[bytes] | bytes, data: bytes) -> bytes:
    """The first group of ``pattern`` in ``data``, or a :class:`JoinError`."""
    match = re.search(pattern, data)
    if match is None:
        raise JoinError("a part lacks an entry every ReportLab PDF has")
    return match[1]


def _split(body: bytes) -> tuple[bytes, bytes]:
    """A body as its dictionary (where references live) and its stream, copied untouched."""
    match = _STREAM.search(body)
    if match is None:
        return body, b""
    return body[: match.start() + 2], body[match.start() + 2 :]


def _refs(head: bytes) -> list[int]:
    return [int(m) for m in _REF.findall(head)]


def _entry(head: bytes, key: bytes) -> int | None:
    match = re.search(rb"/%s\s+(\d+) 0 R" % key, head)
    return int(match[1]) if match else None


@dataclass
class _PartStructure:
    """A part's structure tree: its document element, that element's children, its parent
    tree's (key, object) pairs, and the objects to copy for them."""

    document: int | None = None
    elements: list[int] = field(default_factory=list)
    nums: list[tuple[int, int]] = field(default_factory=list)
    root_head: bytes = b""
    start: list[int] = field(default_factory=list)

    @classmethod
    def read(
        cls, objects: dict[int, bytes], catalog: bytes, numbers: dict[int, int]
    ) -> _PartStructure:
        """Read it, and redirect the part's structure root and document element to the
        joined file's in ``numbers``."""
        structure = _entry(catalog, b"StructTreeRoot")
        if structure is None:
            return cls()
        root_head = objects[structure]
        document = _refs(_found(_KIDS, root_head))[0]
        numbers[structure] = _STRUCTURE
        numbers[document] = _DOCUMENT
        elements = _refs(_found(_KIDS, objects[document]))
        found = _NUMS.search(root_head)
        if found is None:
            raise JoinError("the part's parent tree is not written in its structure root")
        pairs = found[1].split()
        nums = [(int(pairs[i]), int(pairs[i + 1])) for i in range(0, len(pairs), 4)]
        start = [*elements, *(ref for _, ref in nums)]
        return cls(document, elements, nums, root_head, start)


def _used(objects: dict[int, bytes], wanted: set[int], numbers: dict[int, int]) -> set[int]:
    """``wanted`` and every object they refer to, however deep, but those in ``numbers``."""
    wanted = set(wanted)
    stack = list(wanted)
    while stack:
        for ref in _refs(_split(objects[stack.pop()])[0]):
            if ref not in wanted and ref not in numbers:
                wanted.add(ref)
                stack.append(ref)
    return wanted


def _renumbered(text: bytes, numbers: dict[int, int]) -> bytes:
    """``text`` with every indirect reference given its new number."""
    return _REF.sub(lambda match: b"%d 0 R" % numbers[int(match[1])], text)


class PdfJoiner:
    """Writes one PDF to ``out`` from parts added in order.

    ``duplex`` pads a part with an odd number of pages with a blank page, so every part (and
    so every handout in it) starts on the front of a sheet. The first part's document
    information, XMP metadata, viewer preferences and output intent become the joined file's,
    with the first language any part gives. Tagged parts make a tagged file: one document
    element holds every part's structure, and the pages' keys into the parent tree are
    renumbered. The file's ID is a digest of its content, so the same parts always give the
    same bytes.
    """

    def __init__(self, out: Writable, *, duplex: bool = False):
        self._out = out
        self._duplex = duplex
        self._position = 0
        # Where each object starts, for the cross-reference table. The joined file's own
        # objects (1-5) are written last; a part's are all written while it is added, so
        # their lines go to a scratch file then, and memory stays flat however many parts.
        self._own = [0] * _DOCUMENT
        self._first = _DOCUMENT + 1  # the first object number of the part being added
        self._pending: list[int] = []
        self._xref = tempfile.TemporaryFile()
        self._nodes: list[int] = []  # a page tree node per part
        self._count = 0
        self._catalog: bytes | None = None  # the first part's, renumbered, own entries out
        self._info: bytes | None = None
        self._document: bytes | None = None  # the first part's document element, if tagged
        self._lang: bytes | None = None  # the first language a part gives (an index has none)
        self._structure: list[int] = []  # the kids of the document element
        self._parent_tree: list[int] = []  # a number tree leaf per tagged part
        self._next_key = 0
        self._digest = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256()
        self._write(b"%PDF-1.4\n%\x93\x8c\x8b\x9e\n")

    @property
    def pages(self) -> int:
        """Pages written so far, blank padding pages included."""
        return self._count

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._digest.update(data)
        self.sha256.update(data)
        self._position += len(data)

    def _new(self) -> int:
        self._pending.append(0)
        return self._first + len(self._pending) - 1

    def _object(self, number: int, body: bytes) -> None:
        if number <= _DOCUMENT:
            self._own[number - 1] = self._position
        else:
            self._pending[number - self._first] = self._position
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def add(self, pdf: bytes) -> int:
        """Copy the pages of ``pdf``, and everything they and its structure tree use, to the
        end of the output; returns how many pages were added."""
        objects, root, info = _parse(pdf)
        catalog = objects[root]
        tree = _entry(catalog, b"Pages")
        if tree is None or tree not in objects:
            raise JoinError("the part has no page tree")
        kids = _refs(objects[tree].split(b"/Kids", 1)[1].split(b"]", 1)[0])
        node = self._new()
        # The part's own page tree, structure tree root and document element stand for the
        # joined file's: references to them are redirected, and they are not copied.
        numbers = {tree: node}
        part = _PartStructure.read(objects, catalog, numbers)
        start = [*kids, *part.start]
        extra = b""
        if self._catalog is None:
            extra = _OWN_ENTRIES.sub(b"", catalog.strip()[2:-2]).strip()
            start += _refs(extra)
            self._info = objects.get(info) if info else None
        wanted = _used(objects, {n for n in start if n not in numbers}, numbers)
        for old in sorted(wanted):
            numbers[old] = self._new()
        offset = self._next_key
        self._copy(objects, wanted, numbers, kids, part, offset)
        if self._catalog is None:
            self._catalog = _renumbered(extra, numbers)
        document = part.document
        if document is not None and (self._document is None or b"/Lang" not in self._document):
            self._document = _renumbered(objects[document], numbers)
        lang = _LANG.search(catalog)
        if self._lang is None and lang:
            self._lang = lang[0]
        if document is not None:
            self._add_parent_tree(part, numbers, offset, len(kids))
        return self._add_pages(node, [numbers[k] for k in kids], objects[kids[-1]] if kids else b"")

    def _lang_of_part(self, objects: dict[int, bytes], document: int | None) -> bytes | None:
        """The joined file's document element has the language of the first part that gives
        one; a part in another language passes its own (returned here) to its top elements."""
        own = _LANG.search(objects[document]) if document is not None else None
        if self._document is not None and b"/Lang" in self._document:
            packet = _LANG.search(self._document)
            return own[0] if own and packet and own[1] != packet[1] else None
        return None

    def _copy(
        self,
        objects: dict[int, bytes],
        wanted: set[int],
        numbers: dict[int, int],
        kids: list[int],
        part: _PartStructure,
        offset: int,
    ) -> None:
        """Write each wanted object under its new number, its references and structure
        parents renumbered."""
        lang_of_part = self._lang_of_part(objects, part.document)
        tops = set(part.elements)

        def shift(match: re.Match) -> bytes:
            return match[1] + b"%d" % (int(match[2]) + offset)

        for old in sorted(wanted):
            head, stream = _split(objects[old])
            head = _renumbered(head, numbers)
            if old in kids or b"/StructParent" in head:
                head = _STRUCT_PARENTS.sub(shift, head)
            if lang_of_part and old in tops and b"/Lang" not in head:
                head = head[: head.rindex(b">>")] + b" " + lang_of_part + b" >>"
            self._object(numbers[old], head + stream)

    def _add_parent_tree(
        self, part: _PartStructure, numbers: dict[int, int], offset: int, pages: int
    ) -> None:
        """The part's top structure elements join the document element's, and its parent
        tree becomes one leaf of the joined file's, its keys shifted past the parts before."""
        nums = part.nums
        self._structure += [numbers[e] for e in part.elements]
        leaf = self._new()
        entries = b" ".join(b"%d %d 0 R" % (k + offset, numbers[v]) for k, v in nums)
        limits = (nums[0][0] + offset, nums[-1][0] + offset) if nums else (offset, offset)
        self._object(leaf, b"<< /Limits [%d %d] /Nums [%s] >>" % (*limits, entries))
        self._parent_tree.append(leaf)
        next_key = re.search(rb"/ParentTreeNextKey\s+(\d+)", part.root_head)
        self._next_key += int(next_key[1]) if next_key else pages

    def _add_pages(self, node: int, page_numbers: list[int], last_page: bytes) -> int:
        """The part's page tree node (with a blank page after an odd count, for duplex);
        returns how many pages it holds."""
        if self._duplex and len(page_numbers) % 2:
            box = _MEDIA_BOX.search(last_page)
            blank = self._new()
            self._object(
                blank,
                b"<< /Type /Page /Parent %d 0 R %s /Resources << >> >>"
                % (node, box[0] if box else b"/MediaBox [ 0 0 612 792 ]"),
            )
            page_numbers = [*page_numbers, blank]
        kids_text = b" ".join(b"%d 0 R" % n for n in page_numbers)
        self._object(
            node,
            b"<< /Type /Pages /Parent %d 0 R /Kids [ %s ] /Count %d >>"
            % (_PAGES, kids_text, len(page_numbers)),
        )
        self._nodes.append(node)
        self._count += len(page_numbers)
        self._xref.write(b"".join(b"%010d 00000 n \n" % offset for offset in self._pending))
        self._first += len(self._pending)
        self._pending = []
        return len(page_numbers)

    def close(self) -> None:
        """Write the page tree, structure tree, catalog, document information and
        cross-reference table."""
        if not self._nodes:
            raise JoinError("nothing to join")
        kids = b" ".join(b"%d 0 R" % n for n in self._nodes)
        self._object(_PAGES, b"<< /Type /Pages /Kids [ %s ] /Count %d >>" % (kids, self._count))
        structure = b""
        if self._document is not None:
            elements = b" ".join(b"%d 0 R" % n for n in self._structure)
            self._object(_DOCUMENT, _KIDS.sub(lambda _: b"/K [%s]" % elements, self._document))
            leaves = b" ".join(b"%d 0 R" % n for n in self._parent_tree)
            self._object(
                _STRUCTURE,
                b"<< /Type /StructTreeRoot /K [%d 0 R] /ParentTree << /Kids [%s] >> "
                b"/ParentTreeNextKey %d >>" % (_DOCUMENT, leaves, self._next_key),
            )
            structure = b" /StructTreeRoot %d 0 R" % _STRUCTURE
        else:
            for number in (_STRUCTURE, _DOCUMENT):  # unused: free entries keep numbers dense
                self._object(number, b"null")
        entries = self._catalog or b""
        if self._lang and not _LANG.search(entries):
            entries += b" " + self._lang
        self._object(
            _CATALOG, b"<< /Type /Catalog /Pages %d 0 R%s %s >>" % (_PAGES, structure, entries)
        )
        self._object(_INFO, self._info if self._info is not None else b"<< >>")
        xref = self._position
        size = self._first  # objects 1 to size - 1, and the free object 0
        table = [b"xref\n0 %d\n0000000000 65535 f \n" % size]
        table.extend(b"%010d 00000 n \n" % offset for offset in self._own)
        self._write(b"".join(table))
        self._xref.seek(0)
        while chunk := self._xref.read(1 << 20):
            self._write(chunk)
        self._xref.close()
        file_id = self._digest.hexdigest().encode()
        self._write(
            b"trailer\n<< /ID [ <%s> <%s> ] /Info %d 0 R /Root %d 0 R /Size %d >>\n"
            b"startxref\n%d\n%%%%EOF\n" % (file_id, file_id, _INFO, _CATALOG, size, xref)
        )
