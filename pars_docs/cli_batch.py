"""``pars-docs batch``: an appointment list in, handouts out (see :mod:`pars_docs.batch`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .batch import Options, run_batch
from .cli import (
    FHIR_BUNDLE_OPTION,
    INCLUDE_PAST_OPTION,
    PAPER_OPTION,
    PDFA_OPTION,
    SITE_OPTION,
    TIMEZONE_OPTION,
    Report,
    fail,
    load_site_noting_default,
    script_options,
)
from .errors import ParsDocsError, UsageError
from .handout import RENDITIONS, Engine
from .ledger import Interrupted
from .names import DEFAULT_NAME
from .rows import FEEDS, FORMATS, Source, read_mapping, read_rows


@click.command()
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Input format. Default: from the extension, else from the content.",
)
@click.option(
    "--map",
    "map_file",
    type=click.Path(exists=True, dir_okay=False),
    help="YAML or JSON file of field: Header pairs naming the export's columns.",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="FIELD=HEADER",
    help="Name one export column, e.g. --column patient='Patient Name'. Repeatable.",
)
@click.option(
    "--date-format",
    metavar="FMT",
    help="How dates (and dates of birth) are written, e.g. %m/%d/%Y. Default: YYYY-MM-DD.",
)
@click.option(
    "--encoding",
    metavar="ENC",
    help="Text encoding of INPUT, e.g. cp1252. Default: UTF-8 (a BOM is fine).",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one PDF per row into this folder (created if missing).",
)
@click.option(
    "--name",
    "name_pattern",
    default=DEFAULT_NAME,
    show_default=True,
    help="File name pattern for --out-dir, from {date} {time} {procedure} {mrn} "
    "{row} {id} {patient}; {id} is the MRN, else row<N>.",
)
@click.option(
    "--merge",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also (or instead) write one packet PDF, in appointment order.",
)
@click.option(
    "--duplex",
    is_flag=True,
    help="In the packet, start every handout on a new sheet for two-sided printing.",
)
@click.option(
    "--index",
    "with_index",
    is_flag=True,
    help="Begin the packet with a page listing time, patient and procedure.",
)
@click.option(
    "--manifest",
    metavar="FILE|-",
    help="One record per input row: JSON lines, or CSV if FILE ends in .csv.",
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first bad row.")
@click.option(
    "--skip-existing",
    is_flag=True,
    help="Keep handouts already in --out-dir (resume an interrupted run).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    metavar="N",
    help="Processes to render with. Default: the number of cores.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar. Default: when standard error is a terminal.",
)
@SITE_OPTION
@TIMEZONE_OPTION
@INCLUDE_PAST_OPTION
@PAPER_OPTION
@PDFA_OPTION
@click.option(
    "--sedation/--no-sedation",
    default=None,
    help="For rows that do not say (a FHIR appointment never does): whether sedation is "
    "planned. Default: each instruction set's.",
)
@click.option(
    "--output-format",
    type=click.Choice(list(RENDITIONS)),
    default="pdf",
    show_default=True,
    help="What each file in --out-dir holds: the PDF handout, the same handout as text, the "
    "JSON timeline, or an iCalendar file.",
)
@click.option(
    "--codes",
    "code_map",
    metavar="FILE",
    help="For FHIR and HL7 v2 input: YAML list of {system, code, procedure} for local codes.",
)
@click.option(
    "--emit",
    type=click.Choice(["file", "fhir"]),
    default="file",
    show_default=True,
    help="fhir: also write a FHIR R4 Bundle of DocumentReferences, one per "
    "handout with its PDF attached, to --fhir-output.",
)
@click.option(
    "--fhir-output",
    default="-",
    metavar="FILE|-",
    show_default=True,
    help="Where --emit fhir writes its Bundle.",
)
@FHIR_BUNDLE_OPTION
@script_options
def batch(
    inputs,
    fmt,
    map_file,
    columns,
    date_format,
    encoding,
    out_dir,
    name_pattern,
    merge,
    duplex,
    with_index,
    manifest,
    fail_fast,
    skip_existing,
    jobs,
    progress,
    site,
    timezone,
    include_past,
    paper,
    pdfa,
    sedation,
    output_format,
    code_map,
    emit,
    fhir_output,
    fhir_bundle,
    errors,
    verbose,
) -> None:
    """Make a handout for every row of an appointment list (CSV, TSV, JSON, NDJSON, a FHIR
    Bundle, or HL7 v2 SIU messages; - for standard input). Several FHIR files are read
    together as the pages of one search. Bad rows are reported and skipped; exit status 1
    if any failed."""
    Report.configure(errors, verbose)
    if not out_dir and not merge and emit != "fhir":
        fail(UsageError("batch: give --out-dir DIR, --merge FILE or --emit fhir", field="output"))
    if fhir_bundle and emit != "fhir":
        fail(UsageError("--fhir-bundle goes with --emit fhir", field="fhir_bundle"))
    if emit == "fhir" and manifest == "-" and fhir_output == "-":
        fail(
            UsageError(
                "--manifest - and --fhir-output - would both write to standard output; "
                "send one of them to a file",
                field="manifest",
            )
        )
    options = Options(
        out_dir=out_dir,
        name=name_pattern,
        merge=merge,
        duplex=duplex,
        index=with_index,
        manifest=manifest,
        fail_fast=fail_fast,
        skip_existing=skip_existing,
        jobs=jobs or 0,
        date_format=date_format,
        paper=paper,
        output_format=output_format,
        sedation=sedation,
        emit=emit,
        fhir_output=fhir_output,
        fhir_bundle=fhir_bundle or "collection",
        verbose=verbose,  # the manifest is a file: only the flag puts patient values in it
    )
    show = sys.stderr.isatty() if progress is None else progress
    sources: list[Source] = []
    try:
        for name in inputs:
            sources.append(Source(name, fmt, encoding))
        source, pages = sources[0], tuple(sources[1:])
        kind = {"fhir": "FHIR input", "hl7": "HL7 v2 input"}.get(source.format)
        site_profile = load_site_noting_default(site, timezone, kind, pdfa)
        mapping = read_mapping(map_file, columns)
        feed = None
        if source.format in FEEDS:
            from .ehr import Feed
            from .fhir import CodeMap

            library = Engine(site_profile).library
            codes = CodeMap.build(library, code_map or site_profile.procedure_codes)
            feed = Feed.for_site(site_profile, codes, include_past=include_past)
        total = sum(1 for _ in read_rows(source, mapping, feed, pages)) if show else None
        if feed:
            feed.warn = Report.note  # once, however often the rows are read
        summary = run_batch(
            read_rows(source, mapping, feed, pages),
            site_profile,
            options,
            report=Report.row,
            progress_total=total,
            show_progress=show,
        )
    except Interrupted as stop:
        Report.note(
            "interrupted; handouts already written are complete. Run the same "
            "command with --skip-existing to resume."
        )
        if stop.summary:
            Report.note(stop.summary.line())
        sys.exit(128 + stop.signum)
    except ParsDocsError as e:
        fail(e)
    finally:
        for each in sources:
            each.close()
    Report.note(summary.line())
    sys.exit(1 if summary.failed else 0)
