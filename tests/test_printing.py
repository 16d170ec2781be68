"""Printing to a real CUPS queue: cups-pdf, a printer that writes each job it is sent as a
PDF, which is read back to check that the job arrived whole.

`.ci/run` installs CUPS and cups-pdf, starts cupsd and adds the queue `pars-docs-pdf`. Where
CUPS cannot run (no cupsd, no queue) these tests are skipped with the reason, except under
CI, where they must run."""

import os
import re
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from helpers import pdf_text, squash
from pypdf import PdfReader

from pars_docs.errors import OutputError
from pars_docs.write.printer import send_to_printer

QUEUE = os.environ.get("PARS_DOCS_TEST_QUEUE", "pars-docs-pdf")


def cups_missing() -> str | None:
    """Why CUPS cannot be used here, or None."""
    if shutil.which("lpstat") is None or shutil.which("lp") is None:
        return "no CUPS client here (lp, lpstat)"
    running = subprocess.run(["lpstat", "-r"], capture_output=True, text=True, check=False)
    if "is running" not in running.stdout or "not running" in running.stdout:
        return "the CUPS scheduler (cupsd) is not running"
    queue = subprocess.run(["lpstat", "-p", QUEUE], capture_output=True, text=True, check=False)
    if queue.returncode != 0:
        return f"CUPS has no queue {QUEUE} (.ci/run adds it with cups-pdf)"
    return None


@pytest.fixture(scope="module")
def cups():
    reason = cups_missing()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI must print to a real CUPS queue: {reason}")
    if reason:
        pytest.skip(reason)
    return QUEUE


def cups_pdf_folder() -> Path:
    """Where cups-pdf writes the jobs of the user running the tests (its ``Out`` setting)."""
    out = "${HOME}/PDF"
    conf = Path("/etc/cups/cups-pdf.conf")
    if conf.is_file():
        for line in conf.read_text(encoding="utf-8", errors="replace").splitlines():
            if re.match(r"\s*Out\s", line):
                out = line.split(None, 1)[1].strip()
    return Path(
        out.replace("${HOME}", str(Path.home())).replace("${USER}", os.environ.get("USER", "root"))
    )


def whole_pdf(path: Path) -> bool:
    """Whether ``path`` is a PDF that reads to its end (cups-pdf writes it in steps)."""
    try:
        return path.stat().st_size > 0 and len(PdfReader(path).pages) > 0
    except Exception:  # noqa: BLE001 - still being written
        return False


def printed(title: str, timeout: float = 120) -> Path:
    """The PDF cups-pdf wrote for the job titled ``title``, once it is whole."""
    folder = cups_pdf_folder()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(folder.glob(f"{title}*.pdf")) if folder.is_dir() else []
        if found and whole_pdf(found[0]):
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"cups-pdf wrote no whole {title}*.pdf in {folder} in {timeout} s")


@pytest.fixture(scope="module")
def handout_pdf():
    from helpers import DATA

    from pars_docs import load_site
    from pars_docs.handout import Engine
    from pars_docs.read.visit import make_visit

    engine = Engine(load_site(DATA / "site-ny.yaml"))
    visit = make_visit(
        # ASCII: Ghostscript, through which cups-pdf prints, keeps no text mapping for the
        # subset font's other letters, so "í" would not read back as text.
        "pars-defect-injection",
        "Ana Moss",
        "2026-12-03",
        "08:00",
        "Dr. Sam Lee",
        mrn="A-77",
    )
    return engine.prepare(visit, include_past=True).render("pdf")


def test_a_handout_sent_to_the_queue_arrives_whole(cups, handout_pdf):
    title = f"pars-docs-test-{secrets.token_hex(4)}"
    job = send_to_printer(handout_pdf, cups, title=title, duplex=True)
    assert re.fullmatch(rf"{re.escape(cups)}-\d+", job)
    path = printed(title)
    try:
        # cups-pdf prints the job again through Ghostscript: the same pages, the same words.
        pages = len(PdfReader(_bytes(handout_pdf)).pages)
        assert len(PdfReader(path).pages) == pages
        words = squash(pdf_text(path.read_bytes()))
        assert words.count("Ana Moss") == squash(pdf_text(handout_pdf)).count("Ana Moss") > 1
        assert f"Page {pages} of {pages}" in words  # the last page too
    finally:
        path.unlink(missing_ok=True)


def test_a_queue_cups_does_not_have_is_one_line(cups, handout_pdf):
    with pytest.raises(OutputError) as raised:
        send_to_printer(handout_pdf, "no-such-queue-here", title="pars-docs-test")
    message = raised.value.message
    assert message.startswith("printer: no-such-queue-here refused the job (")
    assert "\n" not in message


def test_a_queue_name_that_is_not_one_is_refused_before_cups_is_asked():
    with pytest.raises(OutputError, match="is not a printer queue's name"):
        send_to_printer(b"%PDF", "front desk; rm -rf /", title="x")


def _bytes(data: bytes):
    import io

    return io.BytesIO(data)
