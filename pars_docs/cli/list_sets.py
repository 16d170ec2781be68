"""``pars-docs list``: the instruction sets a site has, under the groups their YAML declares."""

from __future__ import annotations

import json

import click

from ..errors import ParsDocsError
from ..service.checks import by_group, site_library
from ..service.inputs import load_site
from ..service.translating import Library, review_of
from ._common import SITE_OPTION, Report, fail, script_options

# The heading of the sets whose YAML names no group.
UNGROUPED = "Other sets"


def describe_option(option: dict) -> str:
    """``sedation (default off)``, ``diabetes "Has diabetes" (default on)``, or ``(always
    on)`` for a fixed option."""
    label = f' "{option["label"]}"' if option["label"] != option["name"] else ""
    state = "on" if option["default"] else "off"
    return f"{option['name']}{label} ({'always' if option['fixed'] else 'default'} {state})"


def _reviews(library: Library, set_id: str, languages: list[str]) -> dict[str, dict]:
    """Each translation's review: status, and reviewer and date when reviewed."""
    found: dict[str, dict] = {}
    for tag in languages:
        translation = library.get(set_id, tag).translation
        if translation is None:
            continue
        review = review_of(
            translation.status, translation.reviewer, translation.date, tag, library.reviews
        )
        found[tag] = {"status": review.status, "reviewer": review.reviewer, "date": review.date}
        if review.by_site:
            found[tag]["by"] = "site"
    return found


def _shown(tag: str, review: dict | None) -> str:
    if review is None:
        return tag
    if review["status"] != "reviewed":
        return f"{tag} draft"
    return f"{tag} reviewed {review['date']}"


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@SITE_OPTION
@script_options
def list_sets(as_json: bool, site: str | None, errors: str, verbose: bool) -> None:
    """List the instruction sets by group: id, version, title, the languages each can print
    in (each translation marked draft or with the day of its review; --json: who reviewed
    it), the built-in set and version a clinic's set changes, and the options each declares."""
    report = Report.start(errors, verbose)
    try:
        library = site_library(load_site(site))
        sets = [library.get(set_id) for set_id in library.ids()]
        languages = {s.id: library.languages(s.id) for s in sets}
        reviews = {s.id: _reviews(library, s.id, languages[s.id]) for s in sets}
    except ParsDocsError as e:
        fail(report, e)
    out = report.env.stdout
    if as_json:
        rows = [
            {
                "id": s.id,
                "title": s.title,
                "group": s.group,
                "version": s.version,
                # A clinic's changes to a built-in set: that set and the version they were
                # made to (the clinic's own version is "version").
                "extends": (
                    {"set": s.based_on[0], "version": s.based_on[1]} if s.based_on else None
                ),
                "reviewed": s.reviewed,
                "languages": languages[s.id],
                "reviews": reviews[s.id],
                "options": s.options,
            }
            for s in sets
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False), file=out)
        return
    width = max((len(s.id) for s in sets), default=2)
    for number, (group, members) in enumerate(by_group(sets)):
        if number:
            click.echo("", file=out)
        click.echo(group or UNGROUPED, file=out)
        for s in members:
            click.echo(
                f"  {s.id:<{width}}  {s.version:<7}  {s.title}  "
                f"[{', '.join(_shown(tag, reviews[s.id].get(tag)) for tag in languages[s.id])}]",
                file=out,
            )
            if s.based_on:
                base, base_version = s.based_on
                click.echo(
                    f"  {'':<{width}}  the clinic's changes to built-in {base} {base_version}",
                    file=out,
                )
            if s.options:
                options = "; ".join(describe_option(o) for o in s.options)
                click.echo(f"  {'':<{width}}  options: {options}", file=out)
