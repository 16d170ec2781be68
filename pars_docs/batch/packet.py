"""Merged packets of any length in flat memory.

A packet is made in three steps, none of which holds more than a bounded part of it:

1. **Spool.** As each row's handout is composed, its document goes to a file with no name
   (deleted by the system when the run ends, however it ends); the run keeps only where it
   is and the row's record.
2. **Parts.** In appointment order, the handouts are laid out in parts of
   :data:`PART_HANDOUTS` (fonts embedded once per part) and the index in pieces of
   :data:`INDEX_ROWS`, on every core.
3. **Join.** :class:`~pars_docs.batch.pdfjoin.PdfJoiner` copies each finished part into the packet,
   in order, as it is written; for duplex it pads a part to an even page count, so every
   handout starts on the front of a sheet.

Part boundaries depend only on the rows, never on the number of workers, so the same list
gives the same packet, byte for byte, under ``SOURCE_DATE_EPOCH``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..environment import die_with_parent
from ..write.output import NewFile
from .pdfjoin import PdfJoiner

# Handouts per part. Each part embeds its own font subsets (about 40 KB); at 100 handouts
# that adds a few per cent to the packet, and a part takes a few MB of memory to lay out.
PART_HANDOUTS = 100
# Index rows per part: a long table is laid out in time and memory that grow faster than
# its rows, so the index is made in pieces too. Each piece but the last ends part-way down
# its last page.
INDEX_ROWS = 1000


@dataclass
class Layout:
    """How every part of a packet is laid out."""

    paper: str
    title: str | None
    logo: Path | str | None = None
    author: str = ""
    duplex: bool = False
    pdfa: bool = False


@dataclass
class Part:
    """One part to lay out: handouts from the spool (a file descriptor, which forked workers
    share), and pieces of the index before them."""

    spool: int
    spans: list[tuple[int, int]] = field(default_factory=list)
    index: list[str] = field(default_factory=list)  # index pieces' XML


@dataclass
class _Entry:
    start: str
    row: int
    span: tuple[int, int]
    record: object


class Packet:
    """Collects a batch's handouts and writes them as one packet to ``target``.

    Call :meth:`add` for each handout as it is made, then :meth:`write` once; call
    :meth:`discard` in any case to close the spool.
    """

    def __init__(self, target: Path):
        self.target = Path(target)
        # Beside the packet, where the run was asked to write patient data; without a name
        # where the system allows it (Linux), so nothing is left behind.
        self._spool = tempfile.TemporaryFile(
            prefix=f".{self.target.name}.", suffix=".part", dir=self.target.parent
        )
        self._entries: list[_Entry] = []

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, record, document: str) -> None:
        """Spool ``document`` (a composed handout's XML); ``record`` needs ``start``,
        ``row``, ``patient`` and ``procedure_title``."""
        data = document.encode("utf-8")
        offset = self._spool.tell()
        self._spool.write(data)
        self._entries.append(_Entry(record.start or "", record.row, (offset, len(data)), record))

    def records(self) -> list:
        """The records in packet order: appointment time, then row."""
        self._entries.sort(key=lambda e: (e.start, e.row))
        return [e.record for e in self._entries]

    def parts(self, index_pieces: list[list[str]]) -> list[Part]:
        """Every part in packet order: the index pieces, then the handouts. The index's
        last piece shares the first handouts' part (and its fonts), so a packet of up to
        PART_HANDOUTS handouts and a short index is one part, fonts embedded once."""
        self.records()
        spool = self._spool.fileno()
        out = [Part(spool, index=group) for group in index_pieces]
        for first in range(0, len(self._entries), PART_HANDOUTS):
            spans = [e.span for e in self._entries[first : first + PART_HANDOUTS]]
            if first == 0 and out:
                out[-1].spans = spans
            else:
                out.append(Part(spool, spans))
        return out

    def write(self, layout: Layout, index_pieces: list[list[str]], jobs: int = 1) -> str:
        """Lay out every part on ``jobs`` processes and join them into ``target``, which
        takes its name only when it is whole. Returns the packet's SHA-256."""
        self._spool.flush()
        new = NewFile(self.target)
        try:
            joiner = PdfJoiner(new, duplex=layout.duplex)
            for pdf in _laid_out(self.parts(index_pieces), layout, jobs):
                joiner.add(pdf)
            joiner.close()
            new.place()
        except BaseException:
            new.discard()
            raise
        new.close()
        return joiner.sha256.hexdigest()

    def discard(self) -> None:
        self._spool.close()


def index_pieces(records: list, others: list, site) -> list[list[str]]:
    """The packet's index (see templates/packet.xml.j2): the handouts' table, then the table
    of rows with no handout, as groups of pieces (XML strings) of at most
    :data:`INDEX_ROWS` rows in all, each group laid out as one part. Only the first piece of
    each table has its title, and a short table of failed rows follows the handouts' table on
    the same page rather than starting a sheet of its own."""
    from ..compose.composer import compose_packet

    groups: list[list[str]] = []
    room = 0
    for table, rows in ((0, records), (-1, others)):
        first = 0
        while first < len(rows):
            if room == 0:
                groups.append([])
                room = INDEX_ROWS
            chunk = rows[first : first + room]
            composed = (
                compose_packet(chunk, site) if table == 0 else compose_packet([], site, chunk)
            )
            index = composed.findall("index")[table]
            if first:
                index.attrib.pop("title", None)
            groups[-1].append(ET.tostring(index, encoding="unicode"))
            first += len(chunk)
            room -= len(chunk)
    return groups


def _lay_out(part: Part, layout: Layout) -> bytes:
    from ..render.pdf import render_pdf

    documents: list[ET.Element] = []
    for offset, length in part.spans:
        document = ET.fromstring(os.pread(part.spool, length, offset).decode("utf-8"))
        # A row's document is <handouts>, one part per language, the patient's first.
        documents.extend(document if document.tag == "handouts" else [document])
    return render_pdf(
        documents,
        paper=layout.paper,
        logo=layout.logo,
        title=layout.title,
        author=layout.author,
        duplex=layout.duplex,
        index=[ET.fromstring(piece) for piece in part.index] or None,
        pdfa=layout.pdfa,
    )


def _quiet_worker(parent: int) -> None:
    # The parent decides when to stop; a worker finishes the part it has, and dies with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    die_with_parent(parent)


def _laid_out(parts: list[Part], layout: Layout, jobs: int):
    """Each part's PDF, in order, laid out on ``jobs`` forked processes (which share the
    spool's file descriptor) with a few parts in flight."""
    if jobs <= 1 or len(parts) <= 1 or sys.platform == "win32":
        for part in parts:
            yield _lay_out(part, layout)
        return
    context = multiprocessing.get_context("fork")
    pending: deque = deque()
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_quiet_worker, initargs=(os.getpid(),)
    ) as pool:
        try:
            for part in parts:
                pending.append(pool.submit(_lay_out, part, layout))
                while len(pending) > 2 * jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
