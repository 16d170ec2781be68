"""Settling a batch run: each row's record is counted, reported and written, in input order,
and at the end the packet and the FHIR Bundle are finished."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable

from ..compose import compose_packet
from ..environment import Environment
from ..fhir_out import BundleWriter
from ..ledger import Manifest, Progress, Record, Summary
from ..output import write_atomic
from ..pdf import render_pdf
from ..site import Site
from .options import Options

Report = Callable[[Record], None]


class Settler:
    """Owns what a run writes as rows finish: the summary, the manifest, the progress line,
    the FHIR Bundle, and the handouts held for the packet."""

    def __init__(
        self,
        options: Options,
        site: Site,
        *,
        report: Report | None = None,
        progress: Progress | None = None,
        env: Environment | None = None,
    ):
        self.options = options
        self.site = site
        self.report = report or (lambda record: None)
        self.progress = progress or Progress(False, None)
        self.summary = Summary()
        self.settled: dict[int, Record] = {}
        self.merged: list[Record] = []  # handouts for the packet
        self.held: list[Record] = []  # with --merge, records wait for the packet's hash
        self.manifest = Manifest(options.manifest, env)
        try:
            self.emitter = (
                BundleWriter(options.fhir_output, options.fhir_bundle or "collection", env)
                if options.emit == "fhir"
                else None
            )
        except BaseException:
            self.manifest.close()
            raise

    def settle(self, record: Record) -> None:
        """Count, report and record one row."""
        self.summary.count(record.status)
        if record.tally:
            self.summary.reasons[record.status.value, record.tally] += 1
        self.settled[record.row] = record
        if record.status.reported or record.warnings:
            self.progress.clear()
            self.report(record)
        if self.emitter and record.fhir:
            self.emitter.add(record.fhir)
        if self.options.merge:
            if record.document:
                self.merged.append(record)
            self.held.append(record)
        else:
            self.manifest.write(record)
        self.progress.update(self.summary.rows)

    def made(self, row: int) -> Record | None:
        """Row ``row``'s record if its handout was made (or kept), else ``None``."""
        record = self.settled.get(row)
        return record if record is not None and record.status.made else None

    @property
    def has_packet(self) -> bool:
        """Whether there is a packet to write: ``merge`` was asked for and a handout made."""
        return bool(self.options.merge and self.merged)

    def write_packet(self) -> None:
        """One PDF of every handout in appointment order, fonts embedded once."""
        if not self.options.merge or not self.merged:
            return
        records = sorted(self.merged, key=lambda r: (r.start or "", r.row))
        # Each record holds <handouts> with one part per language, the patient's first.
        documents = [part for r in records for part in ET.fromstring(r.document or "")]
        packet = compose_packet(records, self.site)
        data = render_pdf(
            documents,
            paper=self.options.paper or self.site.paper,
            logo=self.site.logo,
            author=self.site.name,
            duplex=self.options.duplex,
            title=packet.get("title"),
            index=packet.find("index") if self.options.index else None,
            pdfa=self.site.pdfa,
        )
        write_atomic(self.options.merge, data)
        digest = hashlib.sha256(data).hexdigest()
        for record in records:
            if not record.output:
                record.output = str(self.options.merge)
                record.sha256 = digest

    def close(self, finished: bool) -> None:
        """Write the held records and close the outputs; a run that did not finish wrote no
        packet, so no record points into one."""
        self.progress.finish()
        if not finished and self.options.merge:
            for record in self.held:
                if record.output == str(self.options.merge):
                    record.output = record.sha256 = None
        for record in sorted(self.held, key=lambda r: r.row):
            self.manifest.write(record)
        self.manifest.close()
        if self.emitter:
            self.emitter.close()
