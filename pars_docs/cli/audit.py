"""``pars-docs audit``: export and verify the audit trail (see :mod:`pars_docs.audit`)."""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING

import click

from ..errors import ExitStatus, ParsDocsError, UsageError
from ._common import SITE_OPTION, Report, environment, fail, script_options, traceback_option

if TYPE_CHECKING:
    from ..audit import AuditTrail

AUDIT_OPTION = click.option(
    "--audit",
    "audit_file",
    metavar="FILE",
    help="The audit trail's file. Default: the one the site profile names (audit:).",
)


def _open(audit_file: str | None, site: str | None) -> tuple[AuditTrail, object]:
    from pathlib import Path

    from ..audit import AuditTrail
    from ..service.inputs import load_site

    loaded = load_site(site)
    path = Path(audit_file) if audit_file else loaded.audit
    if path is None:
        raise UsageError(
            "no audit trail: give --audit FILE, or name one in the site profile "
            "(audit: FILE) and give --site",
            field="audit",
        )
    return AuditTrail(path, loaded.audit_patient), loaded.tz


def _since(value: str | None, zone) -> datetime | None:
    """YYYY-MM-DD (midnight on the clinic's clock) or an ISO date and time."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(datetime.fromisoformat(value).date(), time(0), zone)
        moment = datetime.fromisoformat(value)
    except ValueError as e:
        raise UsageError(
            f"--since: '{value}' is not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM)",
            field="since",
        ) from e
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@click.group(invoke_without_command=True)
@click.option("--since", metavar="WHEN", help="Only records from this date (YYYY-MM-DD) or time.")
@click.option("--user", metavar="NAME", help="Only this user's records.")
@click.option("--patient", metavar="TEXT", help="Only records whose patient identifier holds TEXT.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="CSV with a header line, or a JSON array.",
)
@AUDIT_OPTION
@SITE_OPTION
@script_options
@click.pass_context
def audit(
    ctx: click.Context,
    since: str | None,
    user: str | None,
    patient: str | None,
    fmt: str,
    audit_file: str | None,
    site: str | None,
    errors: str,
    verbose: bool,
) -> None:
    """Export the audit trail to standard output: who made, showed, downloaded or printed
    which handout for whom, and when. `pars-docs audit verify` checks its chain."""
    ctx.ensure_object(dict)
    ctx.obj = {"audit_file": audit_file, "site": site, "errors": errors, "verbose": verbose}
    if ctx.invoked_subcommand is not None:
        return
    report = Report.start(errors, verbose)
    try:
        trail, zone = _open(audit_file, site)
        found = trail.entries(_since(since, zone), user, patient)
    except ParsDocsError as e:
        fail(report, e)
    out = environment().stdout
    rows = [entry.as_dict() for entry in found]
    if fmt == "json":
        import json

        out.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    import csv

    from ..audit.trail import FIELDS

    writer = csv.DictWriter(out, fieldnames=[*FIELDS, "hash"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # A value starting with = + - @ would run as a formula in a spreadsheet.
        writer.writerow(
            {k: f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for k, v in row.items()}
        )


@audit.command()
@traceback_option
@click.option(
    "--head",
    metavar="HASH",
    help="A head hash written down earlier (printed by this command): it must still be in "
    "the trail, or records were removed from its end.",
)
@click.pass_obj
def verify(obj: dict, head: str | None) -> None:
    """Check that no record was changed or removed since it was written; print the trail's
    head (its last record's number and hash) to write down. Exit 1 on any break."""
    report = Report.start(obj["errors"], obj["verbose"])
    try:
        trail, _zone = _open(obj["audit_file"], obj["site"])
        problems = trail.verify(head)
        seq, last = trail.head()
    except ParsDocsError as e:
        fail(report, e)
    for problem in problems:
        report.error(ParsDocsError(f"{trail.path}: {problem}"))
    if problems:
        raise SystemExit(ExitStatus.ERROR)
    click.echo(f"{trail.path}: {seq} records, chain whole; head {last}", file=environment().stdout)
