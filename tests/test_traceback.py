"""--traceback: an unexpected error (a fault in pars-docs, not bad input) shows its stack on
every command, a batch row's included; without it, one line. Logs get the trace without the
error's message, which may quote a patient's value."""

import gc
import sys

import click
import pytest
from click.testing import CliRunner
from helpers import DATA

from pars_docs import cli as command_line
from pars_docs.batch.worker import Renderer
from pars_docs.cli import cli
from pars_docs.errors import trace_without_values
from pars_docs.handout import Engine

MAKE = ["make", "pars-defect-injection", "--patient", "Ana Díaz", "--date", "2026-12-03"]
MAKE += ["--time", "8:00 AM", "--clinician", "Dr. Lee", "--site", str(DATA / "site-ny.yaml")]


NAME = "Ana Díaz"


def _fault(*args, **kwargs):
    raise KeyError(NAME)  # as a fault would quote a row's value


@pytest.fixture
def broken_make(monkeypatch, tmp_path):
    monkeypatch.setattr(Engine, "prepare", _fault)
    yield [*MAKE, "--as-of", "2026-11-20", "-o", str(tmp_path / "h.pdf")]
    gc.enable()  # `make` in a process that ends turns the cycle collector off


def test_an_unexpected_error_is_one_line(broken_make, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["pars-docs", *broken_make])
    assert command_line._run() == 1
    assert capsys.readouterr().err == (
        "pars-docs: error: unexpected KeyError; please report it (run again with --traceback "
        "to see where it happened)\n"
    )


def test_traceback_shows_the_stack(broken_make, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["pars-docs", *broken_make, "--traceback"])
    assert command_line._run() == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "in _fault" in err and err.endswith("KeyError: 'Ana Díaz'\n")


def test_bad_input_is_still_one_line_with_traceback(monkeypatch, capsys, tmp_path):
    args = [*MAKE, "--as-of", "2026-11-20", "--language", "xx", "-o", str(tmp_path / "h.pdf")]
    monkeypatch.setattr(sys, "argv", ["pars-docs", *args, "--traceback"])
    try:
        assert command_line._run() == 2
    finally:
        gc.enable()
    assert "Traceback" not in capsys.readouterr().err


def leaf_commands(group: click.Group, context: click.Context) -> list[click.Command]:
    found = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            found += leaf_commands(command, context)
        elif command is not None:
            found.append(command)
    return found


def test_every_command_takes_traceback():
    commands = leaf_commands(cli, click.Context(cli))
    assert len(commands) >= 7
    for command in commands:
        assert any("--traceback" in p.opts for p in command.params), command.name


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_batch_row_sends_its_trace_to_the_parent(monkeypatch, tmp_path, jobs):
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "patient,date,time,procedure,clinician\n"
        "Ana Díaz,2026-12-03,8:00 AM,pars-defect-injection,Dr. Lee\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(Renderer, "_render", _fault)
    args = ["batch", str(rows), "--out-dir", str(tmp_path / "out"), "--jobs", jobs]
    args += ["--site", str(DATA / "site-ny.yaml")]
    plain = CliRunner().invoke(cli, args)
    assert plain.exit_code == 1
    assert "Traceback" not in plain.stderr
    assert "row 2: could not make this handout (KeyError); please report it" in plain.stderr
    traced = CliRunner().invoke(cli, [*args, "--traceback"])
    assert traced.exit_code == 1
    trace = traced.stderr.split("please report it\n", 1)[1].split("pars-docs: 1 row")[0]
    assert trace.startswith("Traceback (most recent call last):")
    assert "in _fault" in trace and trace.rstrip().endswith("builtins.KeyError")
    assert "Ana" not in trace  # the error's message is left out unless --verbose


def test_a_log_trace_leaves_out_the_message():
    try:
        _fault()
    except KeyError as e:
        trace = trace_without_values(e)
    assert "in _fault" in trace and "raise KeyError(NAME)" in trace and "Ana" not in trace
    assert trace.endswith("builtins.KeyError")
