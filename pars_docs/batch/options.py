"""What a batch run is asked to make, and the rules the options must keep."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import UsageError
from ..read.visit import check_date_format
from ..write.names import DEFAULT_NAME, FILE_SUFFIXES, check_name_pattern


def max_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass
class Options:
    """A batch run's options: the ``pars-docs batch`` command's, for the Python API."""

    out_dir: Path | None = None
    name: str = DEFAULT_NAME
    merge: Path | None = None
    duplex: bool = False
    index: bool = False
    manifest: str | None = None
    fail_fast: bool = False
    skip_existing: bool = False
    jobs: int | None = None  # None: one process per core
    date_format: str | None = None
    paper: str | None = None
    output_format: str = "pdf"  # what each file in out_dir holds: pdf, text, json or ics
    sedation: bool | None = None  # for rows that do not say (FHIR never does)
    emit: str = "file"  # or "fhir": a Bundle of DocumentReferences to fhir_output
    verbose: bool = False  # patient values in row reasons
    # Where the Bundle goes; None: standard output, unless the documents go to a server.
    fhir_output: str | None = None
    fhir_bundle: str | None = None  # "transaction" for a server to accept; else "collection"
    also_language: str | None = None  # a second language for every handout (None: site's)
    # Files the run reads (lists, a column map, a code map): no output may replace one. The
    # site's files (profile, logo, sets, templates) are added by run_batch.
    inputs: tuple[str, ...] = ()
    as_of: datetime | None = None  # "now" (a reprint, a test); default SOURCE_DATE_EPOCH, else now
    include_past: bool = False  # make handouts for visits already over (reprints)
    # Who runs it, for the site's audit trail (``audit:``): given, each handout made and the
    # packet are recorded there. (The desk records its packets itself.)
    audit_user: str | None = None
    # A FHIR server's base URL: each DocumentReference is filed there (see write/fhir_post).
    fhir_server: str | None = None
    fhir_token_file: str | None = None  # else $PARS_DOCS_FHIR_TOKEN
    fhir_vendor: str | None = None  # a built-in vendor profile or a YAML file; else generic
    fhir_write: str | None = None  # "single" or "transaction"; else the vendor profile's

    @property
    def bundle_target(self) -> str | None:
        """Where the Bundle of DocumentReferences is written, if anywhere: ``fhir_output``,
        else standard output, unless they are filed on a server instead."""
        if self.emit != "fhir":
            return None
        return self.fhir_output or (None if self.fhir_server else "-")

    def validate(self) -> None:
        """Raise :class:`UsageError` for options that cannot work together, before any work."""
        for name in ("fhir_server", "fhir_token_file", "fhir_vendor", "fhir_write"):
            if getattr(self, name) and self.emit != "fhir":
                option = "--" + name.replace("_", "-")
                raise UsageError(f"{option} goes with --emit fhir", field=name)
        for name in ("fhir_token_file", "fhir_vendor", "fhir_write"):
            if getattr(self, name) and not self.fhir_server:
                option = "--" + name.replace("_", "-")
                raise UsageError(f"{option} goes with --fhir-server", field=name)
        if self.fhir_server and self.fhir_bundle:
            raise UsageError(
                "--fhir-bundle is for a file; with --fhir-server, --fhir-write says how the "
                "documents are posted",
                field="fhir_bundle",
            )
        if not self.out_dir and not self.merge and self.emit != "fhir":
            raise UsageError(
                "batch: give --out-dir DIR, --merge FILE or --emit fhir", field="output"
            )
        if self.fhir_bundle and self.emit != "fhir":
            raise UsageError("--fhir-bundle goes with --emit fhir", field="fhir_bundle")
        if self.manifest == "-" and self.bundle_target == "-":
            raise UsageError(
                "--manifest - and --fhir-output - would both write to standard output; "
                "send one of them to a file",
                field="manifest",
            )
        check_name_pattern(self.name)
        if self.date_format:
            check_date_format(self.date_format)
        if self.output_format not in FILE_SUFFIXES:
            raise UsageError(
                f"--output-format: '{self.output_format}' is not one of {', '.join(FILE_SUFFIXES)}",
                field="output_format",
            )
        self._check_distinct()
        if self.merge and self.output_format != "pdf":
            raise UsageError(
                "--merge makes a PDF packet; it cannot be used with --output-format "
                f"{self.output_format}",
                field="merge",
            )

    def _check_distinct(self) -> None:
        """Two outputs named as one file would overwrite each other."""
        files = {
            "--merge": self.merge,
            "--manifest": self.manifest,
            "--fhir-output": self.bundle_target,
        }
        seen: dict[str, str] = {}
        for option, path in files.items():
            if not path or str(path) == "-":
                continue
            real = os.path.normcase(os.path.realpath(path))
            if real in seen:
                raise UsageError(
                    f"{option}: {path} is also the file of {seen[real]}; give each output "
                    "its own file",
                    field=option.lstrip("-").replace("-", "_"),
                )
            seen[real] = option

    @property
    def workers(self) -> int:
        """How many processes render: ``jobs``, else one per core, and never more than the
        cores (more only wait for each other and multiply the memory a run takes)."""
        return min(self.jobs or max_jobs(), max_jobs())

    @property
    def suffix(self) -> str:
        """The suffix of each file in ``out_dir``."""
        return FILE_SUFFIXES[self.output_format]
