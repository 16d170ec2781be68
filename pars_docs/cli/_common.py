"""What every command shares: how errors are reported, the shared options, and ``fail``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from ..environment import Environment
from ..errors import STEERING, ParsDocsError, printable
from ..service.inputs import ENV_VAR, Site, load_site, site_for_run
from ..service.lists import Record, Status
from ..service.outputs import SCHEMA_VERSION

F = TypeVar("F", bound=Callable[..., Any])

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
    help="Make handouts for visits already over (reprints, marked so on page 1); otherwise "
    "one is refused, and FHIR and HL7 v2 appointments whose start has passed are skipped.",
)
FHIR_BUNDLE_OPTION = click.option(
    "--fhir-bundle",
    type=click.Choice(["collection", "transaction"]),
    help="With --emit fhir: the Bundle type. transaction: a POST per document, created only "
    "if no document has its identifier, for a FHIR server to accept.",
)
FHIR_SERVER_OPTIONS = (
    click.option(
        "--fhir-server",
        metavar="URL",
        help="With --emit fhir: file each DocumentReference on this FHIR R4 server (its base "
        "URL) instead of only writing it; the server's answers go to the manifest. Retried "
        "only when safe (a conditional create).",
    ),
    click.option(
        "--fhir-token-file",
        metavar="FILE",
        help="A file holding the bearer token for --fhir-server. Default: the "
        "PARS_DOCS_FHIR_TOKEN environment variable, else no token.",
    ),
    click.option(
        "--fhir-vendor",
        metavar="NAME|FILE",
        help="How the server takes documents: generic (default), medplum, oracle-health, or a "
        "vendor profile YAML (see docs/integration.md).",
    ),
    click.option(
        "--fhir-write",
        type=click.Choice(["transaction", "single"]),
        help="With --fhir-server: transaction Bundles of conditional creates, or a single POST "
        "per document. Default: the vendor profile's.",
    ),
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
LARGE_PRINT_OPTION = click.option(
    "--large-print",
    is_flag=True,
    default=False,
    help="Large print: body text 18 pt, larger headings, wider spacing (as the site setting "
    "large_print: true does; in a batch, a row's large_print column says otherwise).",
)


def traceback_option(command: F) -> F:
    """--traceback (every command has it: ``script_options`` adds it)."""
    return click.option(
        "--traceback",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_ask_for_traceback,
        help="On an unexpected error (a fault in pars-docs, not bad input), show its stack "
        "trace, and that of every batch row it stops.",
    )(command)


def script_options(command: F) -> F:
    """--errors, --verbose and --traceback, on every command."""
    command = traceback_option(command)
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


def _ask_for_traceback(context: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        context.ensure_object(Environment).traceback = True


def environment() -> Environment:
    """The running command's streams (made once per command, from the current ones)."""
    context = click.get_current_context(silent=True)
    if context is None:
        return Environment()
    return context.ensure_object(Environment)


class Report:
    """How errors reach standard error: one line of text each, or one JSON object per line
    with row, field and message (``errors="json"``). Patient values in messages are left
    out unless ``verbose`` asks for them or a person is watching the terminal."""

    def __init__(self, env: Environment, errors: str | None = "text", verbose: bool = False):
        self.env = env
        self.json = errors == "json"
        self.verbose = verbose or (not self.json and bool(env.stderr_isatty))

    @classmethod
    def start(cls, errors: str | None, verbose: bool) -> Report:
        """The report for the running command."""
        return cls(environment(), errors, verbose)

    def _echo(self, text: str) -> None:
        # One line each: a line break inside a value must not start a line of its own.
        click.echo(printable(text).replace("\n", "\\n"), file=self.env.stderr)

    def _json(self, item: dict) -> None:
        # JSON escapes C0 controls itself; C1 and bidirectional controls get \u escapes.
        # Each line names the contract it keeps (pars_docs/schemas/errors.schema.json).
        text = json.dumps({"schema_version": SCHEMA_VERSION, **item}, ensure_ascii=False)
        click.echo(STEERING.sub(lambda m: f"\\u{ord(m.group()):04x}", text), file=self.env.stderr)

    def error(self, error: ParsDocsError) -> None:
        if self.json:
            self._json(error.as_dict(self.verbose))
            return
        for line in error.public(self.verbose).splitlines() or [type(error).__name__]:
            self._echo(f"pars-docs: error: {line}")

    def row(self, record: Record) -> None:
        """A failed or duplicate batch row (its reason is already redacted as asked), or a
        row made with warnings."""
        if not record.status.reported:
            for warning in (record.warnings or "").split("; "):
                self.note(f"row {record.row}: warning: {warning}")
            return
        if self.json:
            self._json(
                {
                    "row": record.row,
                    "field": record.field,
                    "message": record.reason,
                    "status": record.status.value,
                }
            )
            return
        kind = "warning: " if record.status is Status.DUPLICATE else ""
        where = (
            f"{record.field}: "
            if record.field and not (record.reason or "").startswith(f"{record.field}:")
            else ""
        )
        self._echo(f"pars-docs: row {record.row}: {kind}{where}{record.reason}")
        if record.trace and self.env.traceback:
            click.echo(record.trace.rstrip("\n"), file=self.env.stderr)

    def note(self, text: str) -> None:
        if self.json:
            self._json({"note": text})
        else:
            self._echo(f"pars-docs: {text}")


def fail(report: Report, error: ParsDocsError) -> NoReturn:
    """Report ``error`` and exit with its status."""
    report.error(error)
    sys.exit(error.exit_code)


def load_site_noting_default(
    path: str | None,
    report: Report,
    zone: str | None = None,
    feed: str | None = None,
    pdfa: bool = False,
    large_print: bool = False,
    zone_option: bool = True,
) -> Site:
    """The site profile, on ``zone``'s clock if given, asked for PDF/A when ``pdfa`` and
    for large print when ``large_print``; a one-line note on stderr when the built-in
    default is used.

    ``feed`` names input whose times are instants (FHIR, HL7 v2): the built-in profile's
    clock is this computer's, which would print the wrong clock time, so without ``zone``
    it is refused for them. Without ``zone``, a profile on this computer's clock is refused
    when that clock names no place (UTC, ``Etc/*``, unknown). ``zone_option`` is False for a
    command that has no --timezone."""
    site = site_for_run(
        load_site(path),
        zone=zone,
        feed=feed,
        pdfa=pdfa,
        large_print=large_print,
        zone_option=zone_option,
    )
    if site.is_default:
        report.note(
            f"note: no site profile (--site or ${ENV_VAR}); using time zone "
            f"{site.timezone} and leaving the phone numbers blank"
        )
    return site


def apply(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Apply option decorators in the order they are listed (as they show in --help)."""

    def decorate(command: F) -> F:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return decorate
