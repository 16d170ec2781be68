"""``pars-docs batch``: an appointment list in, handouts out (see :mod:`pars_docs.batch`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import ExitStatus, Interrupted, OutputError, ParsDocsError
from ..service.inputs import (
    FORMATS,
    Source,
    check_pages,
    input_rows,
    parse_as_of,
    read_mapping,
)
from ..service.lists import Options, Summary, run_batch
from ..service.outputs import DEFAULT_NAME, FILE_SUFFIXES
from ._common import (
    FHIR_BUNDLE_OPTION,
    FHIR_SERVER_OPTIONS,
    INCLUDE_PAST_OPTION,
    LARGE_PRINT_OPTION,
    PAPER_OPTION,
    PDFA_OPTION,
    SITE_OPTION,
    TIMEZONE_OPTION,
    Report,
    apply,
    fail,
    load_site_noting_default,
    script_options,
)

# Each option's name is the Options field it sets, or one of the reading options below.
OPTIONS = (
    click.argument("inputs", metavar="INPUT...", nargs=-1, required=True),
    click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        help="Input format. Default: from the extension, else from the content.",
    ),
    click.option(
        "--map",
        "map_file",
        type=click.Path(exists=True, dir_okay=False),
        help="YAML or JSON file of field: Header pairs naming the export's columns.",
    ),
    click.option(
        "--column",
        "columns",
        multiple=True,
        metavar="FIELD=HEADER",
        help="Name one export column, e.g. --column patient='Patient Name'. Repeatable.",
    ),
    click.option(
        "--date-format",
        metavar="FMT",
        help="How dates (and dates of birth) are written, e.g. %m/%d/%Y. Default: YYYY-MM-DD.",
    ),
    click.option(
        "--encoding",
        metavar="ENC",
        help="Text encoding of INPUT, e.g. cp1252. Default: UTF-8 (a BOM is fine).",
    ),
    click.option(
        "--out-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Write one PDF per row into this folder (created if missing).",
    ),
    click.option(
        "--name",
        default=DEFAULT_NAME,
        show_default=True,
        help="File name pattern for --out-dir, from {date} {time} {procedure} {mrn} "
        "{row} {id} {patient}; {id} is the MRN, else row<N>.",
    ),
    click.option(
        "--merge",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Also (or instead) write one packet PDF, in appointment order.",
    ),
    click.option(
        "--duplex",
        is_flag=True,
        help="In the packet, start every handout on a new sheet for two-sided printing.",
    ),
    click.option(
        "--index",
        is_flag=True,
        help="Begin the packet with a page listing time, patient and procedure.",
    ),
    click.option(
        "--manifest",
        metavar="FILE|-",
        help="One record per input row: JSON lines, or CSV if FILE ends in .csv.",
    ),
    click.option("--fail-fast", is_flag=True, help="Stop at the first bad row."),
    click.option(
        "--skip-existing",
        is_flag=True,
        help="Keep handouts already in --out-dir (resume an interrupted run).",
    ),
    click.option(
        "--jobs",
        "-j",
        type=click.IntRange(min=1),
        metavar="N",
        help="Processes to render with, at most the number of cores. Default: the number of cores.",
    ),
    click.option(
        "--progress/--no-progress",
        default=None,
        help="Show a progress bar. Default: when standard error is a terminal.",
    ),
    SITE_OPTION,
    TIMEZONE_OPTION,
    INCLUDE_PAST_OPTION,
    PAPER_OPTION,
    PDFA_OPTION,
    LARGE_PRINT_OPTION,
    click.option(
        "--sedation/--no-sedation",
        default=None,
        help="For rows that do not say (a FHIR appointment never does): whether sedation is "
        "planned. Default: each instruction set's.",
    ),
    click.option(
        "--output-format",
        type=click.Choice(list(FILE_SUFFIXES)),
        default="pdf",
        show_default=True,
        help="What each file in --out-dir holds: the PDF handout, the same handout as text, "
        "the JSON timeline, or an iCalendar file.",
    ),
    click.option(
        "--codes",
        "code_map",
        metavar="FILE",
        help="For FHIR and HL7 v2 input: YAML list of {system, code, procedure} for local codes.",
    ),
    click.option(
        "--emit",
        type=click.Choice(["file", "fhir"]),
        default="file",
        show_default=True,
        help="fhir: also write a FHIR R4 Bundle of DocumentReferences, one per "
        "handout with its PDF attached, to --fhir-output.",
    ),
    click.option(
        "--also-language",
        metavar="TAG",
        help="Print every handout again in a second language after the patient's (e.g. en). "
        "Default: the site's also_language. The patient's language comes from a language "
        "column, FHIR Patient.communication, HL7 PID-15, or the site.",
    ),
    click.option(
        "--fhir-output",
        metavar="FILE|-",
        help="Where --emit fhir writes its Bundle. Default: standard output, or with "
        "--fhir-server no Bundle.",
    ),
    FHIR_BUNDLE_OPTION,
    *FHIR_SERVER_OPTIONS,
    click.option(
        "--as-of",
        "as_of",
        metavar="DATETIME",
        help="Make the handouts as if it were this time: YYYY-MM-DD[THH:MM], on the site's "
        "clock. It decides what is late and which FHIR and HL7 v2 appointments have passed. "
        "Default: SOURCE_DATE_EPOCH, else now.",
    ),
    script_options,
)


@click.command()
@apply(*OPTIONS)
def batch(
    inputs: tuple[str, ...],
    fmt: str | None,
    map_file: str | None,
    columns: tuple[str, ...],
    encoding: str | None,
    progress: bool | None,
    site: str | None,
    timezone: str | None,
    include_past: bool,
    pdfa: bool,
    large_print: bool,
    code_map: str | None,
    errors: str,
    **given: Any,
) -> None:
    """Make a handout for every row of an appointment list (CSV, TSV, JSON, NDJSON, a FHIR
    Bundle, or HL7 v2 SIU messages; - for standard input). Several FHIR files are read
    together as the pages of one search. Bad rows are reported and skipped; exit status 1
    if any failed."""
    report = Report.start(errors, given["verbose"])
    try:
        given["as_of"] = parse_as_of(given["as_of"])
    except ParsDocsError as e:
        fail(report, e)
    # Every other option is an Options field. The manifest is a file: only --verbose itself
    # puts patient values in it.
    # The batch machinery (ReportLab, Jinja, process pools) is imported only to run one
    # (service.lists.run_batch).
    from ..audit import command_user

    options = Options(
        **given,
        include_past=include_past,
        inputs=(*inputs, map_file or "-", code_map or "-"),
        audit_user=command_user(),  # recorded when the site keeps an audit trail
    )
    env = report.env
    show = bool(env.stderr_isatty) if progress is None else progress
    sources: list[Source] = []
    try:
        options.validate()
        for name in inputs:
            sources.append(Source(name, fmt, encoding, stdin=env.stdin_bytes))
        source, pages = sources[0], tuple(sources[1:])
        check_pages(source, pages)
        kind = {"fhir": "FHIR input", "hl7": "HL7 v2 input"}.get(source.format)
        site_profile = load_site_noting_default(site, report, timezone, kind, pdfa, large_print)
        mapping = read_mapping(map_file, columns)
        rows, feed = input_rows(
            source,
            site_profile,
            pages=pages,
            mapping=mapping,
            code_map=code_map,
            include_past=include_past,
            as_of=options.as_of,
        )
        total = sum(1 for _ in rows()) if show else None
        if feed:
            feed.warn = report.note  # once, however often the rows are read
        summary = run_batch(
            rows(),
            site_profile,
            options,
            report=report.row,
            progress_total=total,
            show_progress=show,
            env=env,
        )
    except Interrupted as stop:
        report.note(
            "interrupted; handouts already written are complete. Run the same "
            "command with --skip-existing to resume."
        )
        if isinstance(stop.summary, Summary):
            if stop.summary.output_error:
                report.note(f"error: {stop.summary.output_error}")
            report.note(stop.summary.line())
        sys.exit(ExitStatus.for_signal(stop.signum))
    except OutputError as e:
        # The run stopped on an output it could not write; what it did is still summed up.
        report.error(e)
        if isinstance(e.summary, Summary):
            report.note(e.summary.line())
        sys.exit(e.exit_code)
    except ParsDocsError as e:
        fail(report, e)
    finally:
        for each in sources:
            each.close()
    report.note(summary.line())
    sys.exit(ExitStatus.ERROR if summary.failed else ExitStatus.SUCCESS)
