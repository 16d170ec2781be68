"""``pars-docs list``: the instruction sets a site has."""

from __future__ import annotations

import json

import click

from ..errors import ParsDocsError
from ..load.library import Library
from ..load.site import load_site
from ._common import SITE_OPTION, Report, fail, script_options


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@SITE_OPTION
@script_options
def list_sets(as_json: bool, site: str | None, errors: str, verbose: bool) -> None:
    """List the instruction sets: id, version, title and the languages each can print in."""
    report = Report.start(errors, verbose)
    try:
        library = Library(load_site(site).instructions_dir)
        sets = [library.get(set_id) for set_id in library.ids()]
        languages = {s.id: library.languages(s.id) for s in sets}
    except ParsDocsError as e:
        fail(report, e)
    rows = [
        {
            "id": s.id,
            "title": s.title,
            "version": s.version,
            "reviewed": s.reviewed,
            "languages": languages[s.id],
        }
        for s in sets
    ]
    out = report.env.stdout
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False), file=out)
        return
    width = max((len(r["id"]) for r in rows), default=2)
    for row in rows:
        click.echo(
            f"{row['id']:<{width}}  {row['version']:<7}  {row['title']}  "
            f"[{', '.join(row['languages'])}]",
            file=out,
        )
