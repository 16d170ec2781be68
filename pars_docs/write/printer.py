"""Sending a PDF to a CUPS printer queue, through CUPS's own ``lp`` command.

``lp`` (cups-client) is the interface CUPS keeps stable on every system that has CUPS; the PDF
goes on its standard input, so no copy is written to disk by pars-docs. The job's title is
given by the caller and must never hold a patient's name: it shows in the queue's list for
every user of the computer (``lpstat -o``).
"""

from __future__ import annotations

import re
import shutil
import subprocess

from ..errors import OutputError

LP_TIMEOUT = 60  # seconds for CUPS to accept a job


def send_to_printer(pdf: bytes, queue: str, *, title: str, duplex: bool = False) -> str:
    """Queue ``pdf`` on the CUPS queue ``queue``; the job's id (``front-desk-12``).
    :class:`~pars_docs.errors.OutputError` with one line when CUPS refuses it."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,127}", queue):
        raise OutputError(f"printer: '{queue}' is not a printer queue's name", field="printer")
    lp = shutil.which("lp")
    if lp is None:
        raise OutputError(
            "printer: this computer has no CUPS printing (the lp command is missing)",
            field="printer",
        )
    sides = "two-sided-long-edge" if duplex else "one-sided"
    command = [lp, "-d", queue, "-t", title[:100], "-o", f"sides={sides}", "-o", "media-type=auto"]
    try:
        done = subprocess.run(
            command, input=pdf, capture_output=True, timeout=LP_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise OutputError(
            f"printer: {queue} did not take the job within {LP_TIMEOUT} s", field="printer"
        ) from e
    except OSError as e:
        raise OutputError(f"printer: cannot run lp ({e.strerror})", field="printer") from e
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0:
        why = said[-1].removeprefix("lp: ") if said else f"lp exited {done.returncode}"
        raise OutputError(f"printer: {queue} refused the job ({why})", field="printer")
    found = re.search(rb"request id is (\S+)", done.stdout)
    return found.group(1).decode() if found else queue
