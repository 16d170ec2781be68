"""``pars-docs make``: one patient's handout, from options or a FHIR appointment."""

from __future__ import annotations

import gc
import json
from typing import TYPE_CHECKING, Any

import click

from ..errors import DataError, ParsDocsError, UsageError, plain
from ..service.inputs import Row, Source, one_appointment, parse_as_of
from ..service.outputs import (
    FILE_SUFFIXES,
    Inputs,
    bundle_of,
    default_filename,
    engine,
    filing_problem,
    server_writer,
    shaped,
    write_output,
)
from ..service.visits import MissingField, parse_options, visit_of
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

if TYPE_CHECKING:
    from ..service.inputs import Site


@click.command()
@click.argument("procedure", required=False)
@click.option("--patient", help="The patient's full name, as it should print.")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="Procedure date.")
@click.option(
    "--time", "clock", metavar="TIME", help="Start time in the site's time zone: 14:30 or 2:30 PM."
)
@click.option("--clinician", help="The clinician doing the procedure.")
@click.option("--dob", metavar="YYYY-MM-DD", help="Date of birth, printed for identification.")
@click.option("--mrn", metavar="ID", help="Medical record number, printed for identification.")
@click.option(
    "--sedation/--no-sedation",
    default=None,
    help="Whether sedation is planned (short for --option sedation=yes|no). Default: the "
    "instruction set's.",
)
@click.option(
    "--option",
    "set_options",
    multiple=True,
    metavar="NAME[=yes|no]",
    help="A visit option the instruction set declares (see `pars-docs list`), e.g. --option "
    "diabetic or --option inpatient=no; repeat for each.",
)
@click.option(
    "--medication",
    "medications",
    multiple=True,
    metavar="NAME",
    help="A medicine the patient takes (generic or brand); repeat for each. "
    "Its pause and restart days are printed.",
)
@click.option("--note", metavar="TEXT", help="A personal note printed near the top.")
@click.option(
    "--visit-id",
    metavar="ID",
    help="The appointment's id in the booking system: a calendar (--format ics) made again "
    "for the same id updates its events instead of adding new ones.",
)
@click.option(
    "--language",
    metavar="TAG",
    help="The patient's language, a BCP 47 tag such as es, es-US or vi (the nearest one "
    "pars-docs has is used). Default: FHIR Patient.communication, else the site's.",
)
@click.option(
    "--also-language",
    metavar="TAG",
    help="Print the handout again in a second language after the patient's (e.g. en). "
    "Default: the site's also_language.",
)
@click.option(
    "--fhir",
    "fhir_input",
    metavar="FILE|-",
    help="Read the visit from a FHIR R4 Appointment or Bundle (JSON or XML), or from an HL7 "
    "v2 SIU message. Options given as well fill in what it lacks and override what it says.",
)
@click.option(
    "--codes",
    "code_map",
    metavar="FILE",
    help="YAML list of {system, code, procedure}: a clinic's own procedure codes.",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="DATETIME",
    help="Make the handout as if it were this time (a reprint): YYYY-MM-DD[THH:MM], on the "
    "site's clock. Default: SOURCE_DATE_EPOCH, else now.",
)
@SITE_OPTION
@TIMEZONE_OPTION
@INCLUDE_PAST_OPTION
@PAPER_OPTION
@PDFA_OPTION
@LARGE_PRINT_OPTION
@click.option(
    "--format",
    "rendition",
    type=click.Choice(list(FILE_SUFFIXES)),
    default="pdf",
    show_default=True,
    help="pdf: the printable handout; text: the same handout as plain text; json: the "
    "computed timeline; ics: a calendar of the key moments.",
)
@click.option(
    "--emit",
    type=click.Choice(["file", "fhir"]),
    default="file",
    show_default=True,
    help="fhir: write a FHIR R4 DocumentReference (US Core) with the PDF attached.",
)
@FHIR_BUNDLE_OPTION
@apply(*FHIR_SERVER_OPTIONS)
@click.option(
    "-o",
    "--output",
    metavar="FILE|-",
    help="Where to write; - for standard output. Default: "
    "PROCEDURE-DATE-TIME.pdf (or .txt, .json, .ics) in the current folder.",
)
@script_options
def make(
    procedure: str | None,
    patient: str | None,
    day: str | None,
    clock: str | None,
    clinician: str | None,
    dob: str | None,
    mrn: str | None,
    sedation: bool | None,
    set_options: tuple[str, ...],
    medications: tuple[str, ...],
    note: str | None,
    visit_id: str | None,
    language: str | None,
    also_language: str | None,
    fhir_input: str | None,
    code_map: str | None,
    as_of: str | None,
    site: str | None,
    timezone: str | None,
    include_past: bool,
    paper: str | None,
    pdfa: bool,
    large_print: bool,
    rendition: str,
    emit: str,
    fhir_bundle: str | None,
    fhir_server: str | None,
    fhir_token_file: str | None,
    fhir_vendor: str | None,
    fhir_write: str | None,
    output: str | None,
    errors: str,
    verbose: bool,
) -> None:
    """Make one patient's handout for PROCEDURE (see `pars-docs list`), or for the
    appointment in a FHIR resource or an HL7 v2 SIU message (--fhir)."""
    report = Report.start(errors, verbose)
    if report.env.process_ends:
        # One handout, then the process ends: the cycle collector would only walk the
        # modules and fonts again and again while they load (a tenth of a cold `make`), and
        # what one handout leaves in cycles goes when the process does.
        gc.disable()
    flags: dict[str, Any] = {
        "procedure": procedure,
        "patient": patient,
        "date": day,
        "time": clock,
        "clinician": clinician,
        "dob": dob,
        "mrn": mrn,
        "medications": list(medications) or None,
        "note": note,
        "visit_id": visit_id,
        "language": language,
    }
    # The options fill in what an appointment lacks and override what it says.
    given = {name: value for name, value in flags.items() if value is not None}
    try:
        feed = "--fhir" if fhir_input else None
        site_profile = load_site_noting_default(site, report, timezone, feed, pdfa, large_print)
        # ReportLab, Jinja and Babel are imported only to make a handout.
        maker = engine(site_profile, parse_as_of(as_of), include_past)
        row = Row(1, given)
        if fhir_input:
            timed = day is not None or clock is not None
            found = one_appointment(
                Source(fhir_input, stdin=report.env.stdin_bytes),
                maker.site,
                maker.library,
                code_map=code_map,
                as_of=maker.as_of,
                include_past=include_past,
                # Fields given here (and the date and time when given) the file need not have.
                given=frozenset(given) | ({"date", "time"} if timed else frozenset()),
                warn=report.note,
            )
            row = _with_options(found, given, timed)
        try:
            chosen = parse_options(set_options)
            if sedation is None and "sedation" in chosen:
                sedation = chosen.pop("sedation")
            chosen.pop("sedation", None)
            visit = visit_of(row, sedation=sedation, also_language=also_language, options=chosen)
        except MissingField as e:
            options = ", ".join(
                "PROCEDURE" if name == "procedure" else f"--{name}" for name in e.missing
            )
            raise UsageError(
                plain(f"{e.missing[0]}: missing; give {options} (or --fhir)"), field=e.missing[0]
            ) from e
        _check_emit(emit, rendition, fhir_bundle, visit, row)
        poster = _server_writer(
            emit, fhir_bundle, fhir_server, fhir_token_file, fhir_vendor, fhir_write, site_profile
        )
        # A language the record system gave may fall back to the site's, as in a batch; one
        # asked for with --language may not.
        from_data = bool(fhir_input) and "language" not in given
        handout = maker.prepare(visit, fallback=from_data)
        if handout.requested_language:
            report.note(
                f"note: language: '{handout.requested_language}' is not available; used the "
                f"site's fallback language '{handout.language}'"
            )
        for warning in handout.warnings:
            report.note(f"warning: {warning}")
        if emit == "fhir":
            resource = handout.document_reference(handout.pdf(paper), row.refs or None)
            if fhir_bundle:
                resource = bundle_of([resource], fhir_bundle)
            data = (json.dumps(resource, indent=2, ensure_ascii=False) + "\n").encode()
            suffix = ".json"
        else:
            data, suffix = handout.render(rendition, paper), FILE_SUFFIXES[rendition]
        _audit(site_profile, handout, visit, data, rendition, emit)
        if poster:  # after the audit records it, as every write is
            _file_on_server(poster, resource, report)
        written = None
        if output or not poster:  # filed on a server: a file only if -o asks for one
            target = output or default_filename(visit, suffix)
            inputs = Inputs([fhir_input, code_map])
            inputs.add_site(site_profile)
            written = write_output(
                target,
                data,
                binary=rendition == "pdf" and emit == "file",
                env=report.env,
                inputs=inputs,
            )
    except ParsDocsError as e:
        fail(report, e)
    if written:
        report.note(f"wrote {written}")


def _with_options(found: Row, given: dict[str, Any], timed: bool) -> Row:
    """The appointment's row with the command line's values over it."""
    # A clock time given here is read as written.
    fold = 0 if timed else found.fold
    values = {**found.values, **given}
    if found.values.get("medications") and given.get("medications"):
        # The chart's medicines join those given here (the plan lists each once).
        values["medications"] = [*given["medications"], *found.values["medications"]]
    return Row(found.number, values, fold=fold, refs=found.refs, revision=found.revision)


def _server_writer(
    emit: str,
    fhir_bundle: str | None,
    url: str | None,
    token_file: str | None,
    vendor: str | None,
    mode: str | None,
    site: Site,
):
    """The writer for --fhir-server and its options, checked before the handout is made."""
    for option, value in (
        ("--fhir-token-file", token_file),
        ("--fhir-vendor", vendor),
        ("--fhir-write", mode),
    ):
        if value and not url:
            raise UsageError(
                f"{option} goes with --fhir-server", field=option[2:].replace("-", "_")
            )
    if not url:
        return None
    if emit != "fhir":
        raise UsageError("--fhir-server goes with --emit fhir", field="fhir_server")
    if fhir_bundle:
        raise UsageError(
            "--fhir-bundle is for a file; with --fhir-server, --fhir-write says how the "
            "document is posted",
            field="fhir_bundle",
        )
    return server_writer(url, token_file, vendor, mode, site)


def _file_on_server(poster, resource: dict, report: Report) -> None:
    """File the DocumentReference on the server; its answer is a note, or the error."""
    ((_, answer),) = poster.add(1, shaped(resource, poster.profile)) + poster.close()
    if not answer.ok:
        raise DataError(
            f"fhir_server: not filed on the FHIR server: {answer.summary()}", field="fhir_server"
        )
    report.note(f"filed on the FHIR server: {answer.summary()}")


def _check_emit(emit: str, rendition: str, fhir_bundle: str | None, visit, row: Row) -> None:
    """--emit, --format and --fhir-bundle agree, and a DocumentReference can be filed."""
    if emit == "fhir" and rendition != "pdf":
        raise UsageError("--emit fhir attaches the PDF; leave out --format", field="format")
    if fhir_bundle and emit != "fhir":
        raise UsageError("--fhir-bundle goes with --emit fhir", field="fhir_bundle")
    if emit == "fhir":
        unfiled = filing_problem(visit, row.refs)
        if unfiled:
            raise unfiled


def _audit(site, handout, visit, data: bytes, rendition: str, emit: str) -> None:
    """Record the handout in the site's audit trail, if it keeps one, before it is written:
    if the record cannot be written, the handout is not either."""
    if site.audit is None:
        return
    import hashlib

    from ..audit import AuditTrail, command_user, patient_id

    iset = handout.instruction_set
    pdf = rendition == "pdf" and emit == "file"
    AuditTrail(site.audit, site.audit_patient).record(
        "handout-made",
        command_user(),
        channel="make",
        set_id=iset.id,
        set_version=iset.version,
        language=handout.language,
        patient=patient_id(visit, site.audit_patient),
        pdf_sha256=hashlib.sha256(data).hexdigest() if pdf else None,
        detail=None if pdf else f"as {'FHIR' if emit == 'fhir' else rendition}",
    )
