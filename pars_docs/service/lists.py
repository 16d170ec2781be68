"""The front door's lists: a batch run over rows from any input, its options, its records
and its summary (see :mod:`pars_docs.batch`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..batch.ledger import Progress, Record, Status, Summary
from ..batch.options import Options
from ..load.site import Site

if TYPE_CHECKING:
    from ..read.rows import RowResult

__all__ = ["Options", "Progress", "Record", "Status", "Summary", "join_packet", "run_batch"]


def run_batch(rows: Iterable[RowResult], site: Site, options: Options, **how: Any) -> Summary:
    """:func:`pars_docs.batch.run_batch`: the run's process pool and ReportLab are imported
    only when a run starts."""
    from ..batch.run import run_batch as run

    return run(rows, site, options, **how)


def join_packet(
    made: list,
    others: list,
    files: Mapping[str, bytes],
    site: Site,
    *,
    paper: str | None = None,
    duplex: bool = False,
    index: bool = False,
) -> bytes:
    """A packet joined from handouts already made: the index first when ``index`` (``made``
    the handouts' records, each with ``row``, ``start``, ``patient``, ``procedure_title`` and
    ``output``, in the order they are joined; ``others`` the rows with no handout, each with
    ``row``, ``patient``, ``status`` and ``reason``), then each handout's PDF, ``files`` by
    ``output``."""
    import io
    from xml.etree import ElementTree as ET

    from ..batch.packet import index_pieces
    from ..batch.pdfjoin import PdfJoiner
    from ..compose.composer import compose_packet
    from ..render.pdf import render_pdf

    buffer = io.BytesIO()
    joiner = PdfJoiner(buffer, duplex=duplex)
    if index:
        for group in index_pieces(made, others, site):
            joiner.add(
                render_pdf(
                    [],
                    paper=paper or site.paper,
                    logo=site.logo,
                    title=compose_packet([], site).get("title"),
                    author=site.name,
                    duplex=duplex,
                    index=[ET.fromstring(piece) for piece in group],
                    pdfa=site.pdfa,
                )
            )
    for record in made:
        joiner.add(files[record.output])
    joiner.close()
    return buffer.getvalue()
