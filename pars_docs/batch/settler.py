"""Settling a batch run: each row's record is counted, reported and written, in input order,
and at the end the packet and the FHIR Bundle are finished.

The manifest tells the truth however the run ends. With a packet or a Bundle its records wait
for them, so that a handout whose only copy was lost with an unwritten packet or Bundle is
recorded as failed, never as made.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ..compose.composer import compose_packet
from ..environment import Environment
from ..errors import DataError, OutputError
from ..load.site import Site
from ..read.fhir_client import Answer
from ..write.fhir_out import BundleWriter
from ..write.fhir_post import ServerWriter, shaped
from ..write.output import Inputs
from .folder import FileRecord, FolderState
from .ledger import Manifest, Progress, Record, Status, Summary
from .options import Options
from .packet import Layout, Packet, index_pieces

RowReporter = Callable[[Record], None]


class Settler:
    """Owns what a run writes as rows finish: the summary, the manifest, the progress line,
    the FHIR Bundle, the folder's record and the handouts held for the packet."""

    def __init__(
        self,
        options: Options,
        site: Site,
        *,
        report: RowReporter | None = None,
        progress: Progress | None = None,
        env: Environment | None = None,
        state: FolderState | None = None,
        inputs: Inputs | None = None,
        poster: ServerWriter | None = None,
    ):
        self.options = options
        self.poster = poster  # files each DocumentReference on a FHIR server
        self.site = site
        self.report = report or (lambda record: None)
        self.progress = progress or Progress(False, None)
        self.state = state
        self.summary = Summary()
        self.settled: dict[int, Record] = {}
        # With --merge, each handout's document waits in a file with no name (see batch/packet.py).
        self.packet = Packet(options.merge) if options.merge else None
        self.held: list[Record] = []  # records waiting for the packet or the Bundle
        self.failure: OutputError | None = None  # the output the run stopped on
        self.packet_written = False
        self.manifest = Manifest(options.manifest, env, inputs, server=poster is not None)
        try:
            self.emitter = (
                BundleWriter(
                    options.bundle_target, options.fhir_bundle or "collection", env, inputs
                )
                if options.bundle_target
                else None
            )
        except BaseException:
            if self.manifest.output:
                self.manifest.output.abandon()
            if self.packet is not None:
                self.packet.discard()
            raise

    @property
    def keeps_others(self) -> bool:
        """Whether rows with no handout are kept to the end: only for a packet's index, which
        lists them. Otherwise a run of a million failing rows holds none of them."""
        return self.packet is not None and bool(self.options.index)

    @property
    def holding(self) -> bool:
        """Whether records wait for the packet, the Bundle or the server's answers before
        they are written."""
        return bool(self.options.merge or self.emitter or self.poster)

    def settle(self, record: Record) -> None:
        """Count, report and record one row. An output that cannot be written (the manifest,
        the Bundle) is kept in :attr:`failure`, and the run must stop."""
        self.summary.count(record.status)
        if record.tally:
            self.summary.reasons[record.status.value, record.tally] += 1
        if record.status.made or self.keeps_others:
            self.settled[record.row] = record  # a failed row is kept only for the index
        if record.status.reported or record.warnings:
            self.progress.clear()
            self.report(record)
        if self.state and record.output and record.made_from and record.sha256:
            self.state.record(Path(record.output).name, FileRecord(record.made_from, record.sha256))
        if self.packet is not None and record.document:
            self.packet.add(record, record.document)
            record.document = None  # on disk now: memory stays flat
        if self.holding:
            self.held.append(record)
        try:
            if self.emitter and record.fhir and not self.failure:
                self.emitter.add(record.fhir)
            if self.poster and record.fhir and not self.failure:
                self._post(record)
            if not self.holding:
                self.manifest.write(record)
        except OutputError as e:
            self.fail(e)
        record.fhir = None  # written; not held for the rest of the run
        self.progress.update(self.summary.rows)

    def _post(self, record: Record) -> None:
        """File ``record``'s DocumentReference on the server (or hold it for the next
        transaction); a document the vendor's server would refuse fails its row here."""
        assert self.poster is not None and record.fhir is not None
        try:
            resource = shaped(json.loads(record.fhir), self.poster.profile)
        except DataError as e:
            self._unfiled(record, e.public(self.options.verbose))
            return
        for key, answer in self.poster.add(record, resource):
            self._answered(key, answer)

    def _answered(self, record: Record, answer: Answer) -> None:
        """Keep the server's answer on the record; one that did not file it fails the row
        (its handout, if written to a file, stays)."""
        record.fhir_server = answer.as_dict()
        if not answer.ok:
            self._unfiled(record, f"not filed on the FHIR server: {answer.summary()}")

    def _unfiled(self, record: Record, reason: str) -> None:
        if record.status is not Status.FAILED:
            self.summary.recount(record.status, Status.FAILED)
        record.status, record.field, record.reason = Status.FAILED, "fhir_server", reason
        self.progress.clear()
        self.report(record)

    def made(self, row: int) -> Record | None:
        """Row ``row``'s record if its handout was made (or kept), else ``None``."""
        record = self.settled.get(row)
        return record if record is not None and record.status.made else None

    @property
    def has_packet(self) -> bool:
        """Whether there is a packet to write: ``merge`` was asked for and a handout made."""
        return self.packet is not None and len(self.packet) > 0

    def write_packet(self, jobs: int = 1) -> None:
        """One PDF of every handout in appointment order, behind an index (with ``index``)
        that lists every input row: the handouts, then the rows with none. It is laid out in
        parts on ``jobs`` processes and joined as it is written (see batch/packet.py)."""
        if self.packet is None or not len(self.packet):
            return
        records = self.packet.records()
        inside = {r.row for r in records}
        others = sorted(
            (r for r in self.settled.values() if r.row not in inside), key=lambda r: r.row
        )
        layout = Layout(
            paper=self.options.paper or self.site.paper,
            title=compose_packet([], self.site).get("title"),
            logo=self.site.logo,
            author=self.site.name,
            duplex=self.options.duplex,
            pdfa=self.site.pdfa,
        )
        pieces = index_pieces(records, others, self.site) if self.options.index else []
        try:
            digest = self.packet.write(layout, pieces, jobs)
        except OSError as e:
            raise OutputError(
                f"--merge: cannot write {self.options.merge} ({e.strerror or e})", field="merge"
            ) from e
        self.packet_written = True
        for record in records:
            if not record.output:
                record.output = str(self.options.merge)
                record.sha256 = digest

    def fail(self, error: OutputError) -> None:
        """The run stops on ``error``: an output that could not be written."""
        self.failure = self.failure or error

    def close(self) -> None:
        """Finish the Bundle, write the held records and close the outputs. Never raises for
        an output that cannot be written: the first such failure is kept in :attr:`failure`.
        A handout whose only copy was to be in a packet or Bundle that was not written is
        recorded as failed."""
        self.progress.finish()
        if self.poster and not self.failure:
            for key, answer in self.poster.close():
                self._answered(key, answer)
        bundle_written = False
        if self.emitter:
            try:
                self.emitter.close(commit=self.failure is None)
                bundle_written = self.failure is None
            except OutputError as e:
                self.fail(e)
        for record in sorted(self.held, key=lambda r: r.row):
            lost = self._lost(record, bundle_written)
            if lost:
                self.summary.recount(record.status, Status.FAILED)
                record.status, record.field, record.reason = Status.FAILED, "output", lost
                record.output = record.sha256 = None
        try:
            for record in sorted(self.held, key=lambda r: r.row):
                self.manifest.write(record)
            self.manifest.close()
        except OutputError as e:
            self.fail(e)
            if self.manifest.output:
                self.manifest.output.abandon()
        if self.state:
            self.state.close()
        if self.packet is not None:
            self.packet.discard()

    def _lost(self, record: Record, bundle_written: bool) -> str | None:
        """Why ``record``'s handout is not anywhere after all, or ``None`` if it is."""
        if not record.status.made or (record.output and record.output != str(self.options.merge)):
            return None  # not made, or its own file in the folder
        if self.options.merge and not self.packet_written:
            if self.failure and self.failure.field == "merge":
                return f"not in the packet: {self.failure.message}"
            return "not in the packet: the run stopped before the packet was written"
        if self.emitter and not bundle_written and not record.output:
            why = self.failure.message if self.failure else "the run stopped"
            return f"not in the FHIR output: {why}"
        return None
