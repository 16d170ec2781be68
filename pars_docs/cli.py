"""The ``pars-docs`` command line. It parses and reports; the package does the work."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .errors import ParsDocsError
from .handout import Engine
from .instructions import Library
from .output import write_output
from .site import ENV_VAR, load_site
from .visit import make_visit

SITE_OPTION = click.option(
    "--site",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar=ENV_VAR,
    help=f"Site profile YAML (clinic, phones, time zone, paper). Default: ${ENV_VAR}, "
    "else the built-in profile.",
)


def fail(error: ParsDocsError) -> None:
    for line in str(error).splitlines() or [type(error).__name__]:
        click.echo(f"pars-docs: error: {line}", err=True)
    sys.exit(error.exit_code)


def default_filename(procedure: str, visit) -> str:
    """A file name that says what and when, and nothing about who."""
    return f"{procedure}-{visit.date.isoformat()}-{visit.time.strftime('%H%M')}.pdf"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pars-docs")
def cli() -> None:
    """Make personalised, printable patient handouts for pars defect procedures."""


@cli.command()
@click.argument("procedure")
@click.option("--patient", required=True, help="The patient's full name, as it should print.")
@click.option("--date", "day", required=True, metavar="YYYY-MM-DD", help="Procedure date.")
@click.option(
    "--time",
    "clock",
    required=True,
    metavar="TIME",
    help="Start time in the site's time zone: 14:30 or 2:30 PM.",
)
@click.option("--clinician", required=True, help="The clinician doing the procedure.")
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
@SITE_OPTION
@click.option(
    "--paper",
    type=click.Choice(["letter", "a4"]),
    help="Paper size. Default: the site profile's (letter).",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE|-",
    help="Where to write the PDF; - for standard output. Default: "
    "PROCEDURE-DATE-TIME.pdf in the current folder.",
)
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
    site,
    paper,
    output,
) -> None:
    """Make one patient's handout for PROCEDURE (see `pars-docs list`)."""
    try:
        engine = Engine(load_site(site))
        visit = make_visit(
            procedure,
            patient,
            day,
            clock,
            clinician,
            dob=dob,
            mrn=mrn,
            sedation=sedation,
            medications=medications,
            note=note,
        )
        handout = engine.prepare(visit)
        pdf = handout.pdf(paper)
        written = write_output(output or default_filename(procedure, visit), pdf)
    except ParsDocsError as e:
        fail(e)
    if written:
        click.echo(f"Wrote {written}", err=True)


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@SITE_OPTION
def list_sets(as_json: bool, site) -> None:
    """List the instruction sets: id, title and version."""
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
def check(files, site) -> None:
    """Check instruction sets (default: every set the site uses) and report every problem."""
    failed = False
    try:
        library = Library(load_site(site).instructions_dir)
        library.medicine_table()
    except ParsDocsError as e:
        fail(e)
    targets = list(files) or [None] * 0
    jobs = [(str(f), lambda f=f: library.load_file(f)) for f in targets] or [
        (set_id, lambda i=set_id: library.get(i)) for set_id in library.ids()
    ]
    for name, load in jobs:
        try:
            iset = load()
        except ParsDocsError as e:
            failed = True
            for line in str(e).splitlines():
                click.echo(line, err=True)
            continue
        click.echo(f"ok  {iset.id} {iset.version}  ({name})")
    sys.exit(1 if failed else 0)


def main() -> None:
    cli(prog_name="pars-docs")
