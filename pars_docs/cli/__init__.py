"""The ``pars-docs`` command line. It parses and reports; the package does the work.

The group and :func:`main` live here; each command has its own module, and what they share is
in :mod:`._common`. Command modules import ``_common``, never each other.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import NoReturn

import click

from .._version import __version__
from ..environment import Environment
from ..errors import ExitStatus, OutputError, UsageError
from ..ledger import Interrupted
from ._common import Report
from .batch import batch
from .check import check
from .list_sets import list_sets
from .make import make
from .serve import serve

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pars-docs")
def cli() -> None:
    """Make personalised, printable patient handouts for pars defect procedures."""


cli.add_command(make)
cli.add_command(batch)
cli.add_command(list_sets)
cli.add_command(check)
cli.add_command(serve)


def _errors_argument() -> str:
    args = sys.argv[1:]
    for index, arg in enumerate(args):
        if arg == "--errors" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--errors="):
            return arg.split("=", 1)[1]
    return "text"


def _terminated(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


def main() -> None:
    """Run the CLI; usage errors are one line, like every other error. SIGTERM unwinds like
    Ctrl-C, so temporary copies of the input are removed."""
    signal.signal(signal.SIGTERM, _terminated)
    env = Environment()
    # Outside a command (a usage error, an interrupt) errors still follow --errors.
    report = Report(env, "json" if "json" in _errors_argument() else "text")
    try:
        code = cli.main(prog_name="pars-docs", standalone_mode=False, obj=env)
    except SystemExit as done:  # a command's own exit: its output is flushed below
        code = done.code
    except (click.exceptions.Abort, KeyboardInterrupt):
        report.note("interrupted")
        sys.exit(ExitStatus.INTERRUPTED)
    except Interrupted as stop:
        report.note("interrupted")
        sys.exit(ExitStatus.for_signal(stop.signum))
    except click.UsageError as e:
        command = e.ctx.command_path if e.ctx else "pars-docs"
        report.error(UsageError(f"{e.format_message()} (see: {command} --help)"))
        sys.exit(e.exit_code)
    except click.ClickException as e:
        report.error(UsageError(e.format_message()))
        sys.exit(e.exit_code)
    except OSError as e:
        # A write no command caught: standard output on a full disk or a closed pipe.
        _output_failed(report, e)
    try:
        env.stdout.flush()
    except OSError as e:
        _output_failed(report, e)
    sys.exit(code if isinstance(code, int) else ExitStatus.SUCCESS)


def _output_failed(report: Report, error: OSError) -> NoReturn:
    """Report an output that could not be written, and exit 1. Standard output is pointed at
    the null device, so the interpreter's last flush does not fail again."""
    where = error.filename or "standard output"
    report.error(OutputError(f"output: cannot write {where} ({error.strerror or error})"))
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real stream (a test's), or already gone
    sys.exit(ExitStatus.ERROR)
