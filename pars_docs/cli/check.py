"""``pars-docs check``: instruction sets, medicine tables and site profiles, every problem
reported."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import click

from ..errors import ExitStatus, ParsDocsError
from ..library import Library
from ..site import Site, load_site
from ._common import SITE_OPTION, Report, fail, script_options


def _check_codes(profile: Site, library: Library) -> str:
    from ..fhir import CodeMap

    codes = CodeMap.build(library, profile.procedure_codes, strict=True)
    return f"code map, {len(codes.entries)} codes"


def _check_templates(profile: Site) -> str:
    """The site's templates: date formats and calendar wording load and render."""
    from ..compose import templates_for
    from ..ics import calendar_wording

    templates = templates_for(profile.templates_dir, profile.language)
    calendar_wording(templates)
    return f"templates ({', '.join(str(d) for d in templates.dirs)})"


def _describe(library: Library, set_id: str) -> str:
    return library.describe(library.get(set_id))


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@SITE_OPTION
@script_options
def check(files: tuple[Path, ...], site: str | None, errors: str, verbose: bool) -> None:
    """Check instruction sets, medicine tables and site profiles and report every problem.

    With no FILE, checks everything the site uses: its profile, every instruction set and the
    medicine table, templates and code map. A FILE is checked as whatever it holds."""
    report = Report.start(errors, verbose)
    failed = False
    try:
        profile = load_site(site)
        library = Library(profile.instructions_dir)
    except ParsDocsError as e:
        fail(report, e)
    jobs: list[tuple[str, Callable[[], str]]]
    if files:
        jobs = [(str(f), partial(library.check_file, f)) for f in files]
    else:
        jobs = [
            (str(profile.path), lambda: f"site profile, {profile.timezone}"),
            (str(library.table_path), lambda: library.check_file(library.table_path)),
        ]
        jobs += [(set_id, partial(_describe, library, set_id)) for set_id in library.ids()]
        jobs.append(("templates", lambda: _check_templates(profile)))
        if profile.procedure_codes:
            jobs.append((str(profile.procedure_codes), lambda: _check_codes(profile, library)))
    for name, load in jobs:
        try:
            description = load()
        except ParsDocsError as e:
            failed = True
            report.error(e)
            continue
        click.echo(f"ok  {description}  ({name})", file=report.env.stdout)
    sys.exit(ExitStatus.ERROR if failed else ExitStatus.SUCCESS)
