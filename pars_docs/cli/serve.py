"""``pars-docs serve``: the nurse's desk, a local web page (see :mod:`pars_docs.web`)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ParsDocsError
from ._common import SITE_OPTION, Report, fail, load_site_noting_default, script_options


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback needs an access token "
    "($PARS_DOCS_TOKEN or --token-file).",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port."
)
@SITE_OPTION
@click.option(
    "--token-file",
    metavar="FILE",
    help="File holding the access token browsers sign in with (needed for a --host other "
    "than loopback). Default: $PARS_DOCS_TOKEN.",
)
@click.option(
    "--accounts",
    "accounts_file",
    metavar="FILE",
    help="Accounts file (pars-docs accounts add): every page then needs a signed-in user. "
    "Default: the site profile's accounts:, else no sign-in (loopback only).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
@script_options
def serve(
    host: str,
    port: int,
    site: str | None,
    token_file: str | None,
    accounts_file: str | None,
    open_browser: bool,
    errors: str,
    verbose: bool,
) -> None:
    """Serve the nurse's desk: a web page to fill in, preview and print one handout, or to
    upload an appointment list and get its packet. Ctrl-C stops it."""
    report = Report.start(errors, verbose)
    try:
        from ..web import security
        from ..web.server import serve as run

        token = security.read_token(token_file)
        run(
            load_site_noting_default(site, report, zone_option=False),
            host,
            port,
            token=token,
            open_browser=open_browser,
            note=report.note,
            accounts_file=Path(accounts_file) if accounts_file else None,
            # A token file given for a loopback address is used, not silently ignored.
            token_on_loopback=token_file is not None,
        )
    except ParsDocsError as e:
        fail(report, e)
