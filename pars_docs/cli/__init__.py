"""The ``pars-docs`` command line. It parses and reports; the package does the work.

The group and :func:`main` live here; each command has its own module, and what they share is
in :mod:`._common`. Command modules import ``_common``, never each other.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import traceback
from importlib import import_module
from types import FrameType

import click

from ..environment import Environment
from ..errors import ExitStatus, Interrupted, OutputError, UsageError
from ._common import Report

__all__ = ["cli", "main"]


class _Commands(click.Group):
    """The commands, each imported from its module (command name → module) only when it is
    run or listed, so that `pars-docs make` does not load what `batch` or `serve` need."""

    MODULES = {
        "accounts": "accounts",
        "audit": "audit",
        "batch": "batch",
        "check": "check",
        "list": "list_sets",
        "listen": "listen",
        "make": "make",
        "serve": "serve",
        "translate": "translate",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = self.MODULES.get(cmd_name)
        if module is None:
            return None
        # Each module holds one command, named as the module is.
        command: click.Command = getattr(import_module(f".{module}", __name__), module)
        return command


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pars-docs", prog_name="pars-docs")
def cli() -> None:
    """Make personalised, printable patient handouts for pars defect procedures."""


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
    code = _run()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # AttributeError: started without it
            pass
    if getattr(atexit, "_ncallbacks", lambda: 1)() == 0:
        # Every file is written and closed, and nothing waits to run at exit: leave without
        # tearing the interpreter down object by object, a fifth of a `make`'s time.
        os._exit(code)
    sys.exit(code)


def _run() -> int:
    signal.signal(signal.SIGTERM, _terminated)
    env = Environment(process_ends=True)
    # Outside a command (a usage error, an interrupt) errors still follow --errors.
    report = Report(env, "json" if "json" in _errors_argument() else "text")
    try:
        code = cli.main(prog_name="pars-docs", standalone_mode=False, obj=env)
    except SystemExit as done:  # a command's own exit: its output is flushed below
        code = done.code
    except (click.exceptions.Abort, KeyboardInterrupt):
        report.note("interrupted")
        return ExitStatus.INTERRUPTED
    except Interrupted as stop:
        report.note("interrupted")
        return ExitStatus.for_signal(stop.signum)
    except click.UsageError as e:
        command = e.ctx.command_path if e.ctx else "pars-docs"
        report.error(UsageError(f"{e.format_message()} (see: {command} --help)"))
        return e.exit_code
    except click.ClickException as e:
        report.error(UsageError(e.format_message()))
        return e.exit_code
    except OSError as e:
        # A write no command caught: standard output on a full disk or a closed pipe.
        return _output_failed(report, e)
    except Exception as e:  # noqa: BLE001 - a fault in pars-docs: one line, or its stack
        return _unexpected(report, e)
    try:
        env.stdout.flush()
    except OSError as e:
        return _output_failed(report, e)
    return code if isinstance(code, int) else ExitStatus.SUCCESS


def _unexpected(report: Report, error: Exception) -> int:
    """A fault in pars-docs itself (not bad input): its stack with --traceback, else one line
    that says how to see it. The exit status is 1."""
    if report.env.traceback:
        traceback.print_exception(error, file=report.env.stderr)
    else:
        report.note(
            f"error: unexpected {type(error).__name__}; please report it (run again with "
            "--traceback to see where it happened)"
        )
    return ExitStatus.ERROR


def _output_failed(report: Report, error: OSError) -> int:
    """Report an output that could not be written; the exit status is 1. Standard output is
    pointed at the null device, so the interpreter's last flush does not fail again."""
    where = error.filename or "standard output"
    report.error(OutputError(f"output: cannot write {where} ({error.strerror or error})"))
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real stream (a test's), or already gone
    return ExitStatus.ERROR
