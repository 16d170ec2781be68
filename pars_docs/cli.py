"""The ``pars-docs`` command line. It parses and reports; the package does the work."""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
from pathlib import Path

import click

from . import __version__
from .errors import DataError, ParsDocsError, UsageError
from .handout import RENDITIONS, Engine
from .ledger import Interrupted
from .library import Library
from .output import write_output
from .rows import REQUIRED, Source
from .site import ENV_VAR, Site, check_zone, load_site
from .visit import make_visit, parse_as_of

SITE_OPTION = click.option(
    "--site",
    metavar="FILE",
    help=f"Site profile YAML (clinic, phones, time zone, paper). Default: ${ENV_VAR}, "
    "else the built-in profile.",
)
TIMEZONE_OPTION = click.option(
    "--timezone",
    metavar="ZONE",
    help="The clinic's IANA time zone, e.g. America/Chicago, instead of the site profile's. "
    "FHIR and HL7 v2 times are instants: they need this or a site profile.",
)
INCLUDE_PAST_OPTION = click.option(
    "--include-past",
    is_flag=True,
    help="Make handouts for FHIR and HL7 v2 appointments whose start has passed (reprints); "
    "otherwise they are skipped.",
)
FHIR_BUNDLE_OPTION = click.option(
    "--fhir-bundle",
    type=click.Choice(["collection", "transaction"]),
    help="With --emit fhir: the Bundle type. transaction: a POST per document, created only "
    "if no document has its identifier, for a FHIR server to accept.",
)
PAPER_OPTION = click.option(
    "--paper",
    type=click.Choice(["letter", "a4"]),
    help="Paper size. Default: the site profile's (letter).",
)
PDFA_OPTION = click.option(
    "--pdfa",
    is_flag=True,
    default=False,
    help="Write PDF/A-2b for archiving in a records system (as the site setting pdfa: true "
    "does). Handouts are always tagged for screen readers.",
)


class Report:
    """How errors reach standard error: one line of text each, or one JSON object per line
    with row, field and message (``--errors json``). Patient values in messages are left
    out unless ``--verbose`` asks for them or a person is watching the terminal."""

    json = False
    verbose = False

    @classmethod
    def configure(cls, errors: str | None, verbose: bool) -> None:
        cls.json = errors == "json"
        cls.verbose = verbose or (not cls.json and sys.stderr.isatty())

    @classmethod
    def error(cls, error: ParsDocsError) -> None:
        if cls.json:
            click.echo(json.dumps(error.as_dict(cls.verbose), ensure_ascii=False), err=True)
            return
        for line in error.public(cls.verbose).splitlines() or [type(error).__name__]:
            click.echo(f"pars-docs: error: {line}", err=True)

    @classmethod
    def row(cls, record) -> None:
        """A failed or duplicate batch row (its reason is already redacted as asked), or a
        row made with warnings."""
        if record.status not in ("failed", "duplicate"):
            for warning in (record.warnings or "").split("; "):
                cls.note(f"row {record.row}: warning: {warning}")
            return
        if cls.json:
            item = {
                "row": record.row,
                "field": record.field,
                "message": record.reason,
                "status": record.status,
            }
            click.echo(json.dumps(item, ensure_ascii=False), err=True)
            return
        kind = "warning: " if record.status == "duplicate" else ""
        where = (
            f"{record.field}: "
            if record.field and not (record.reason or "").startswith(f"{record.field}:")
            else ""
        )
        click.echo(f"pars-docs: row {record.row}: {kind}{where}{record.reason}", err=True)

    @classmethod
    def note(cls, text: str) -> None:
        if cls.json:
            click.echo(json.dumps({"note": text}, ensure_ascii=False), err=True)
        else:
            click.echo(f"pars-docs: {text}", err=True)


def fail(error: ParsDocsError) -> None:
    Report.error(error)
    sys.exit(error.exit_code)


def default_filename(visit, suffix: str = ".pdf") -> str:
    """A file name that says what and when, and nothing about who."""
    return f"{visit.procedure}-{visit.date.isoformat()}-{visit.time.strftime('%H%M')}{suffix}"


def script_options(command):
    """--errors and --verbose, on every command."""
    command = click.option(
        "--verbose",
        is_flag=True,
        help="Show patient values in error messages (they are left out of logs otherwise).",
    )(command)
    return click.option(
        "--errors",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="How errors are written to standard error: text lines or JSON lines with row, "
        "field and message.",
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pars-docs")
def cli() -> None:
    """Make personalised, printable patient handouts for pars defect procedures."""


def load_site_noting_default(
    path, zone: str | None = None, feed: str | None = None, pdfa: bool = False
) -> Site:
    """The site profile, on ``zone``'s clock if given, asked for PDF/A when ``pdfa``; a
    one-line note on stderr when the built-in default is used.

    ``feed`` names input whose times are instants (FHIR, HL7 v2): the built-in profile's
    clock is this computer's, which would print the wrong clock time, so without ``zone``
    it is refused for them."""
    site = load_site(path)
    if pdfa:
        site = dataclasses.replace(site, pdfa=True)
    if zone:
        try:
            site = dataclasses.replace(site, tz=check_zone(zone))
        except ParsDocsError as e:
            raise UsageError(f"--timezone: {e.message.split(': ', 1)[1]}", field="timezone") from e
    elif feed and site.is_default:
        raise UsageError(
            f"{feed}: its times are instants, and without a site profile the handout would "
            f"print them on this computer's clock ({site.timezone}); give the clinic's time "
            "zone with --timezone (e.g. America/Chicago) or a site profile (--site)",
            field="timezone",
        )
    if site.is_default:
        Report.note(
            f"note: no site profile (--site or ${ENV_VAR}); using time zone "
            f"{site.timezone} and leaving the phone numbers blank"
        )
    return site


@cli.command()
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
    help="Whether sedation is planned. Default: the instruction set's.",
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
    "--fhir",
    "fhir_input",
    metavar="FILE|-",
    help="Read the visit from a FHIR R4 Appointment or Bundle (JSON or XML). Options given "
    "as well fill in what it lacks and override what it says.",
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
@click.option(
    "--format",
    "rendition",
    type=click.Choice(list(RENDITIONS)),
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
@click.option(
    "-o",
    "--output",
    metavar="FILE|-",
    help="Where to write; - for standard output. Default: "
    "PROCEDURE-DATE-TIME.pdf (or .txt, .json, .ics) in the current folder.",
)
@script_options
def make(
    procedure,
    patient,
    day,
    clock,
    clinician,
    dob,
    mrn,
    sedation,
    medications,
    note,
    visit_id,
    fhir_input,
    code_map,
    as_of,
    site,
    timezone,
    include_past,
    paper,
    pdfa,
    rendition,
    emit,
    fhir_bundle,
    output,
    errors,
    verbose,
) -> None:
    """Make one patient's handout for PROCEDURE (see `pars-docs list`), or for the
    appointment in a FHIR resource (--fhir)."""
    Report.configure(errors, verbose)
    try:
        feed = "--fhir" if fhir_input else None
        engine = Engine(load_site_noting_default(site, timezone, feed, pdfa), parse_as_of(as_of))
        given = {
            "procedure": procedure,
            "patient": patient,
            "date": day,
            "time": clock,
            "clinician": clinician,
            "dob": dob,
            "mrn": mrn,
            "note": note,
            "visit_id": visit_id,
        }
        refs = None
        if fhir_input:
            supplied = {k for k, v in given.items() if v is not None}
            if day is not None or clock is not None:
                supplied |= {"date", "time"}
            row = _one_appointment(fhir_input, engine, code_map, supplied, include_past)
            refs = row.pop("_fhir", None)
            given = {**row, **{k: v for k, v in given.items() if v is not None}}
            if day is not None or clock is not None:
                given["fold"] = 0  # a clock time given here is read as written
        missing = [name for name in REQUIRED if given.get(name) is None]
        if missing:
            options = ", ".join(
                "PROCEDURE" if name == "procedure" else f"--{name}" for name in missing
            )
            raise UsageError(f"{missing[0]}: missing; give {options} (or --fhir)", field=missing[0])
        visit = make_visit(
            given["procedure"],
            given["patient"],
            given["date"],
            given["time"],
            given["clinician"],
            dob=given.get("dob"),
            mrn=given.get("mrn"),
            sedation=sedation,
            medications=medications,
            note=given.get("note"),
            fold=given.get("fold", 0),
            visit_id=given.get("visit_id"),
            revision=given.get("revision"),
        )
        if emit == "fhir" and rendition != "pdf":
            raise UsageError("--emit fhir attaches the PDF; leave out --format", field="format")
        if fhir_bundle and emit != "fhir":
            raise UsageError("--fhir-bundle goes with --emit fhir", field="fhir_bundle")
        handout = engine.prepare(visit)
        for warning in handout.warnings:
            Report.note(f"warning: {warning}")
        if emit == "fhir":
            from .fhir_out import bundle_of

            resource = handout.document_reference(handout.pdf(paper), refs)
            if fhir_bundle:
                resource = bundle_of([resource], fhir_bundle)
            data, suffix = (
                (json.dumps(resource, indent=2, ensure_ascii=False) + "\n").encode(),
                ".json",
            )
        else:
            data, suffix = handout.render(rendition, paper), RENDITIONS[rendition]
        target = output or default_filename(visit, suffix)
        written = write_output(target, data, binary=rendition == "pdf" and emit == "file")
    except ParsDocsError as e:
        fail(e)
    if written:
        Report.note(f"wrote {written}")


def _check_codes(profile, library) -> str:
    from .fhir import CodeMap

    codes = CodeMap.build(library, profile.procedure_codes, strict=True)
    return f"code map, {len(codes.entries)} codes"


def _check_templates(profile) -> str:
    """The site's templates: date formats and calendar wording load and render."""
    from .compose import templates_for
    from .ics import calendar_wording

    templates = templates_for(profile.templates_dir, profile.language)
    calendar_wording(templates)
    return f"templates ({', '.join(str(d) for d in templates.dirs)})"


def _one_appointment(name: str, engine: Engine, code_map, given: set, include_past: bool) -> dict:
    """The single appointment to make in a FHIR file, as a row. ``given`` names the fields
    the command line supplies: the file need not have them."""
    from .ehr import Feed, Skip
    from .fhir import CodeMap, appointment_rows, read_resource

    source = Source(name)
    try:
        if source.format not in ("fhir", "json", "ndjson"):
            raise DataError(
                f"--fhir: {source.label} is not a FHIR Appointment or Bundle (JSON or XML); "
                f"it reads as {source.format}",
                field="fhir",
            )
        with source.open_text() as text:
            data = read_resource(text.read(), source.label)
    finally:
        source.close()
    codes = CodeMap.build(engine.library, code_map or engine.site.procedure_codes)
    feed = Feed.for_site(engine.site, codes, include_past=include_past, given=frozenset(given))
    rows = list(appointment_rows([(data, source.label)], feed))
    usable = [(n, r) for n, r in rows if not isinstance(r, Skip)]
    if not usable:
        reasons = "; ".join(r.reason for _, r in rows)
        raise DataError(f"{source.label}: no appointment to make a handout for: {reasons}")
    if len(usable) > 1:
        skipped = len(rows) - len(usable)
        also = f" (and {skipped} not to make)" if skipped else ""
        raise UsageError(
            f"{source.label}: holds {len(usable)} appointments to make{also}; use "
            "pars-docs batch for more than one",
            field="fhir",
        )
    number, row = usable[0]
    if isinstance(row, ParsDocsError):
        raise row
    return row


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@SITE_OPTION
@script_options
def list_sets(as_json: bool, site, errors, verbose) -> None:
    """List the instruction sets: id, version and title."""
    Report.configure(errors, verbose)
    try:
        library = Library(load_site(site).instructions_dir)
        sets = [library.get(set_id) for set_id in library.ids()]
    except ParsDocsError as e:
        fail(e)
    rows = [
        {"id": s.id, "title": s.title, "version": s.version, "reviewed": s.reviewed} for s in sets
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max((len(r["id"]) for r in rows), default=2)
    for row in rows:
        click.echo(f"{row['id']:<{width}}  {row['version']:<7}  {row['title']}")


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@SITE_OPTION
@script_options
def check(files, site, errors, verbose) -> None:
    """Check instruction sets, medicine tables and site profiles and report every problem.

    With no FILE, checks everything the site uses: its profile, every instruction set and the
    medicine table, templates and code map. A FILE is checked as whatever it holds."""
    Report.configure(errors, verbose)
    failed = False
    try:
        profile = load_site(site)
        library = Library(profile.instructions_dir)
    except ParsDocsError as e:
        fail(e)
    if files:
        jobs = [(str(f), lambda f=f: library.check_file(f)) for f in files]
    else:
        jobs = [
            (str(profile.path), lambda: f"site profile, {profile.timezone}"),
            (str(library.table_path), lambda: library.check_file(library.table_path)),
        ]
        jobs += [
            (set_id, lambda i=set_id: library.describe(library.get(i))) for set_id in library.ids()
        ]
        jobs.append(("templates", lambda: _check_templates(profile)))
        if profile.procedure_codes:
            jobs.append((str(profile.procedure_codes), lambda: _check_codes(profile, library)))
    for name, load in jobs:
        try:
            description = load()
        except ParsDocsError as e:
            failed = True
            Report.error(e)
            continue
        click.echo(f"ok  {description}  ({name})")
    sys.exit(1 if failed else 0)


def _register() -> None:
    from .cli_batch import batch
    from .cli_serve import serve

    cli.add_command(batch)
    cli.add_command(serve)


_register()


def _errors_argument() -> str:
    args = sys.argv[1:]
    for index, arg in enumerate(args):
        if arg == "--errors" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--errors="):
            return arg.split("=", 1)[1]
    return "text"


def _terminated(signum, _frame):
    raise Interrupted(signum)


def main() -> None:
    """Run the CLI; usage errors are one line, like every other error. SIGTERM unwinds like
    Ctrl-C, so temporary copies of the input are removed."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        code = cli.main(prog_name="pars-docs", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        Report.note("interrupted")
        sys.exit(130)
    except Interrupted as stop:
        Report.note("interrupted")
        sys.exit(128 + stop.signum)
    except click.UsageError as e:
        command = e.ctx.command_path if e.ctx else "pars-docs"
        Report.configure("json" if "json" in _errors_argument() else "text", False)
        Report.error(UsageError(f"{e.format_message()} (see: {command} --help)"))
        sys.exit(e.exit_code)
    except click.ClickException as e:
        Report.error(UsageError(e.format_message()))
        sys.exit(e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
