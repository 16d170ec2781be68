"""``pars-docs accounts``: the desk's named users (see :mod:`pars_docs.web.accounts`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..errors import AccountError, ParsDocsError, UsageError
from ._common import SITE_OPTION, Report, environment, fail, script_options

if TYPE_CHECKING:
    from ..web.accounts import Accounts

ACCOUNTS_OPTION = click.option(
    "--accounts",
    "accounts_file",
    metavar="FILE",
    help="The accounts file. Default: the one the site profile names (accounts:).",
)


def _open(accounts_file: str | None, site: str | None) -> Accounts:
    from pathlib import Path

    from ..service.inputs import load_site
    from ..web.accounts import Accounts

    if accounts_file:
        return Accounts(Path(accounts_file))
    named = load_site(site).accounts
    if named is None:
        raise UsageError(
            "no accounts file: give --accounts FILE, or name one in the site profile "
            "(accounts: FILE) and give --site",
            field="accounts",
        )
    return Accounts(named)


def _password() -> str:
    """Typed twice at a terminal; otherwise the first line of standard input (scripts)."""
    env = environment()
    if env.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt="Again")
    line = env.stdin.readline()
    if not line:
        raise AccountError("no password on standard input", field="password")
    return line.rstrip("\r\n")


@click.group()
def accounts() -> None:
    """Add, list, disable and reset the desk's named users. With an accounts file (the site
    profile's accounts:, or serve --accounts), every desk page needs a signed-in user."""


@accounts.command()
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["nurse", "scheduler", "editor", "admin"]),
    required=True,
    help="nurse: single handouts; scheduler: also packets and the clinic's list; editor: "
    "single handouts; admin: everything, everyone's handouts.",
)
@ACCOUNTS_OPTION
@SITE_OPTION
@script_options
def add(
    name: str, role: str, accounts_file: str | None, site: str | None, errors: str, verbose: bool
) -> None:
    """Add the user NAME. The password is typed twice, or read from standard input."""
    report = Report.start(errors, verbose)
    try:
        store = _open(accounts_file, site)
        store.add(name, role, _password())
    except ParsDocsError as e:
        fail(report, e)
    report.note(f"added {name} ({role}) to {store.path}")


@accounts.command("list")
@ACCOUNTS_OPTION
@SITE_OPTION
@script_options
def list_accounts(accounts_file: str | None, site: str | None, errors: str, verbose: bool) -> None:
    """List the users: name, role, whether disabled, last changed."""
    report = Report.start(errors, verbose)
    try:
        found = _open(accounts_file, site).list()
    except ParsDocsError as e:
        fail(report, e)
    out = environment().stdout
    for account in found:
        state = "disabled" if account.disabled else "active"
        click.echo(f"{account.name}\t{account.role}\t{state}\t{account.changed}", file=out)


@accounts.command()
@click.argument("name")
@ACCOUNTS_OPTION
@SITE_OPTION
@script_options
def disable(name: str, accounts_file: str | None, site: str | None, errors: str, verbose: bool):
    """Refuse NAME's sign-in from now on; a session it has open ends at its next page."""
    report = Report.start(errors, verbose)
    try:
        _open(accounts_file, site).disable(name)
    except ParsDocsError as e:
        fail(report, e)
    report.note(f"disabled {name}")


@accounts.command()
@click.argument("name")
@ACCOUNTS_OPTION
@SITE_OPTION
@script_options
def reset(name: str, accounts_file: str | None, site: str | None, errors: str, verbose: bool):
    """Give NAME a new password (typed twice, or read from standard input); a disabled
    account is enabled again."""
    report = Report.start(errors, verbose)
    try:
        _open(accounts_file, site).reset(name, _password())
    except ParsDocsError as e:
        fail(report, e)
    report.note(f"new password set for {name}")
