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
from typing import BinaryIO

# An indirect reference, its /Parent form picked out so a page can be re-parented.
_REFS = re.compile(rb"(/Parent\s+)(\d+) 0 R|(?<![\d.])(\d+) 0 R")
_STREAM = re.compile(rb">>\s*stream\r?\n")
_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[[^\]]*\]")
_LANG = re.compile(rb"/Lang\s*\((?:[^()\\]|\\.)*\)")
_CATALOG, _PAGES, _INFO = 1, 2, 3  # the joined file's own objects


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
                offset, _, kind = next(lines).split()
                if kind == b"n":
                    spans.append((int(offset), number))
        trailer = pdf[xref:]
        root = int(re.search(rb"/Root\s+(\d+) 0 R", trailer)[1])
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


def _split(body: bytes) -> tuple[bytes, bytes]:
    """A body as its dictionary (where references live) and its stream, copied untouched."""
    match = _STREAM.search(body)
    if match is None:
        return body, b""
    return body[: match.start() + 2], body[match.start() + 2 :]


def _refs(head: bytes) -> list[int]:
    return [int(m[3]) for m in _REFS.finditer(head) if m[3]]


class PdfJoiner:
    """Writes one PDF to ``out`` from parts added in order.

    ``duplex`` pads a part with an odd number of pages with a blank page, so every part (and
    so every handout in it) starts on the front of a sheet. The first part's document
    information (title, author, dates) and language become the joined file's. The file's ID
    is a digest of its content, so the same parts always give the same bytes.
    """

    def __init__(self, out: BinaryIO, *, duplex: bool = False):
        self._out = out
        self._duplex = duplex
        self._position = 0
        self._offsets: list[int] = [0, 0, 0]  # object N at index N-1; 1-3 are written last
        self._nodes: list[int] = []
        self._count = 0
        self._catalog: bytes | None = None
        self._info: bytes | None = None
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
        self._offsets.append(0)
        return len(self._offsets)

    def _object(self, number: int, body: bytes) -> None:
        self._offsets[number - 1] = self._position
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def add(self, pdf: bytes) -> int:
        """Copy the pages of ``pdf`` to the end of the output; returns how many were added."""
        objects, root, info = _parse(pdf)
        pages_root = _refs(_split(objects[root])[0])
        tree = next((n for n in pages_root if b"/Pages" in objects.get(n, b"")), None)
        if tree is None:
            raise JoinError("the part has no page tree")
        kids = _refs(objects[tree].split(b"/Kids", 1)[1].split(b"]", 1)[0])
        if self._catalog is None:
            self._catalog = objects[root]
            self._info = objects.get(info) if info else None
        # Everything the pages use, found by following references (not /Parent, which
        # leads back up to the part's catalog).
        wanted, stack = set(kids), list(kids)
        while stack:
            for ref in _refs(_split(objects[stack.pop()])[0]):
                if ref not in wanted:
                    wanted.add(ref)
                    stack.append(ref)
        node = self._new()
        numbers = {old: self._new() for old in sorted(wanted)}

        def renumber(match: re.Match) -> bytes:
            if match[1]:
                return match[1] + b"%d 0 R" % node
            return b"%d 0 R" % numbers[int(match[3])]

        for old in sorted(wanted):
            head, stream = _split(objects[old])
            self._object(numbers[old], _REFS.sub(renumber, head) + stream)
        page_numbers = [numbers[k] for k in kids]
        if self._duplex and len(kids) % 2:
            box = _MEDIA_BOX.search(objects[kids[-1]])
            blank = self._new()
            self._object(
                blank,
                b"<< /Type /Page /Parent %d 0 R %s /Resources << >> >>"
                % (node, box[0] if box else b"/MediaBox [ 0 0 612 792 ]"),
            )
            page_numbers.append(blank)
        kids_text = b" ".join(b"%d 0 R" % n for n in page_numbers)
        self._object(
            node,
            b"<< /Type /Pages /Parent %d 0 R /Kids [ %s ] /Count %d >>"
            % (_PAGES, kids_text, len(page_numbers)),
        )
        self._nodes.append(node)
        self._count += len(page_numbers)
        return len(page_numbers)

    def close(self) -> None:
        """Write the page tree, catalog, document information and cross-reference table."""
        if not self._nodes:
            raise JoinError("nothing to join")
        kids = b" ".join(b"%d 0 R" % n for n in self._nodes)
        self._object(_PAGES, b"<< /Type /Pages /Kids [ %s ] /Count %d >>" % (kids, self._count))
        lang = _LANG.search(self._catalog or b"")
        self._object(
            _CATALOG,
            b"<< /Type /Catalog /Pages %d 0 R /PageMode /UseNone%s >>"
            % (_PAGES, b" " + lang[0] if lang else b""),
        )
        self._object(_INFO, self._info if self._info is not None else b"<< >>")
        xref = self._position
        table = [b"xref\n0 %d\n0000000000 65535 f \n" % (len(self._offsets) + 1)]
        table.extend(b"%010d 00000 n \n" % offset for offset in self._offsets)
        self._write(b"".join(table))
        file_id = self._digest.hexdigest().encode()
        self._write(
            b"trailer\n<< /ID [ <%s> <%s> ] /Info %d 0 R /Root %d 0 R /Size %d >>\n"
            b"startxref\n%d\n%%%%EOF\n"
            % (file_id, file_id, _INFO, _CATALOG, len(self._offsets) + 1, xref)
        )
