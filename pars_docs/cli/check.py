"""``pars-docs check``: instruction sets, medicine tables and site profiles, every problem
reported."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import ExitStatus, ParsDocsError, printable
from ..service.checks import Job, file_jobs, site_jobs, site_library
from ..service.inputs import load_site
from ._common import SITE_OPTION, Report, fail, script_options


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@SITE_OPTION
@script_options
def check(files: tuple[Path, ...], site: str | None, errors: str, verbose: bool) -> None:
    """Check instruction sets, medicine tables and site profiles and report every problem.

    With no FILE, checks everything the site uses: its profile, every instruction set and the
    medicine table, every translation (complete, not re-typed, not stale; drafts are noted),
    templates and labels in every language, and code map. A FILE is checked as whatever it
    holds."""
    report = Report.start(errors, verbose)
    failed = False
    try:
        profile = load_site(site)
        library = site_library(profile)
    except ParsDocsError as e:
        fail(report, e)
    jobs: list[Job] = file_jobs(library, files) if files else site_jobs(profile, library)
    for name, load in jobs:
        try:
            description = load()
        except ParsDocsError as e:
            failed = True
            report.error(e)
            continue
        # A clinic's changes to a built-in set are listed under it, one a line.
        first, *details = description.split("\n")
        click.echo(printable(f"ok  {first}  ({name})"), file=report.env.stdout)
        for line in details:
            click.echo(printable(f"      {line}"), file=report.env.stdout)
    sys.exit(ExitStatus.ERROR if failed else ExitStatus.SUCCESS)
