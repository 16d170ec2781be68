"""`pars-docs batch` stopped part way: Ctrl-C and SIGTERM, in process and on a pool, and
resuming with ``--skip-existing``."""

import hashlib
import os
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import (
    INTERRUPTED,
    LISTS,
    REFERENCE_NAMES,
    SCRIPT,
    SITE,
    SUMMARY,
    assert_summary,
    by_row,
    folder_names,
    last_footer,
    many_rows,
    pdf_names,
    pdf_text,
    read_manifest,
    stderr_lines,
    text_of,
    write,
)

from pars_docs.batch.ledger import Manifest

# 10. Interrupted runs and resuming -----------------------------------------------------------


def test_resume_after_a_simulated_interruption(batch, tmp_path):
    source = LISTS / "appointments.csv"
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    assert batch(source, "--out-dir", out).exit_code == 0
    kept = [out / REFERENCE_NAMES[0], out / REFERENCE_NAMES[2]]
    lost = out / REFERENCE_NAMES[1]
    lost.unlink()
    for path in kept:
        os.utime(path, (1_000_000_000, 1_000_000_000))  # a rewrite would change this
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in kept}
    stale = write(out / f".{REFERENCE_NAMES[1]}.abc123.part", b"%PDF-1.4 half a handout")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))  # left by a run killed an hour ago
    # A part file written a moment ago may belong to another batch writing here: kept.
    fresh = write(out / f".{REFERENCE_NAMES[2]}.def456.part", b"%PDF-1.4 in progress")
    result = batch(source, "--out-dir", out, "--skip-existing", "--manifest", manifest)
    assert result.exit_code == 0, result.output
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in kept} == before
    assert lost.exists() and "Patient Ana Díaz" in text_of(lost)
    assert not stale.exists()
    assert fresh.exists()
    fresh.unlink()
    assert folder_names(out) == REFERENCE_NAMES
    records = by_row(read_manifest(manifest))
    assert [records[r]["status"] for r in (2, 3, 4)] == ["ok", "skipped", "skipped"]
    for row in (3, 4):
        data = Path(records[row]["output"]).read_bytes()
        assert records[row]["sha256"] == hashlib.sha256(data).hexdigest()
    assert_summary(result, rows=3, written=1, failed=0, extra="2 skipped")


def test_resume_with_merge_keeps_every_handout_in_the_packet(batch, tmp_path):
    source = LISTS / "appointments.csv"
    out, packet = tmp_path / "out", tmp_path / "packet.pdf"
    assert batch(source, "--out-dir", out).exit_code == 0
    (out / REFERENCE_NAMES[1]).unlink()
    result = batch(source, "--out-dir", out, "--merge", packet, "--skip-existing")
    assert result.exit_code == 0, result.output
    text = pdf_text(packet)
    for patient in ("Smith, John", "Ana Díaz", "Zoë Ødegård"):
        assert patient in text


@contextmanager
def running_batch(source: Path, out: Path):
    """`pars-docs batch` as a separate process with two workers, killed if a test fails."""
    env = {k: v for k, v in os.environ.items() if k != "PARS_DOCS_SITE"}
    args = [str(SCRIPT), "batch", str(source), "--site", str(SITE), "--out-dir", str(out)]
    process = subprocess.Popen(
        [*args, "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # a process group of its own, workers included
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def wait_for_handouts(process: subprocess.Popen, out: Path, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(pdf_names(out)) < count:
        assert process.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "no handouts after 30 s"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.skipif(not SCRIPT.exists(), reason="pars-docs is not installed in this Python")
@pytest.mark.parametrize(
    "signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_real_interruption_leaves_whole_handouts_and_resumes(batch, tmp_path, signum, code):
    # Enough rows that the run is still going when the signal comes: at most the rows in
    # flight (4 per worker) are finished after it.
    rows = 40
    source = write(tmp_path / "list.csv", many_rows(rows))
    out = tmp_path / "out"
    with running_batch(source, out) as process:
        wait_for_handouts(process, out, 3)
        process.send_signal(signum)
        stderr = process.communicate(timeout=60)[1].decode()
    assert process.returncode == code, stderr
    assert stderr.splitlines()[-2] == INTERRUPTED
    assert SUMMARY.fullmatch(stderr.splitlines()[-1])
    assert "Traceback" not in stderr
    made = pdf_names(out)
    assert 0 < len(made) < rows
    assert folder_names(out) == made  # no .part file left behind
    for name in made:
        page, pages, count = last_footer(out / name)
        assert page == pages == count, name
    before = {name: (out / name).read_bytes() for name in made}
    manifest = tmp_path / "m.jsonl"
    result = batch(source, "--out-dir", out, "--skip-existing", "--manifest", manifest, jobs=2)
    assert result.exit_code == 0, result.output
    assert len(pdf_names(out)) == rows
    assert {name: (out / name).read_bytes() for name in made} == before
    statuses = [r["status"] for r in read_manifest(manifest)]
    assert statuses.count("skipped") == len(made)
    assert statuses.count("ok") == rows - len(made)
    assert_summary(result, rows, rows - len(made), 0, extra=f"{len(made)} skipped")


@pytest.mark.slow
@pytest.mark.skipif(not SCRIPT.exists(), reason="pars-docs is not installed in this Python")
def test_sigterm_to_the_whole_process_group_stops_cleanly(tmp_path):
    source = write(tmp_path / "list.csv", many_rows(40))
    out = tmp_path / "out"
    with running_batch(source, out) as process:
        wait_for_handouts(process, out, 3)
        # Pause the parent so the workers drain their queue and wait for work, as they do
        # whenever the parent is busy, then stop the whole group.
        os.kill(process.pid, signal.SIGSTOP)
        time.sleep(0.5)
        os.killpg(process.pid, signal.SIGTERM)
        os.killpg(process.pid, signal.SIGCONT)
        stderr = process.communicate(timeout=15)[1].decode()
    assert process.returncode == 143
    assert stderr.splitlines()[0] == INTERRUPTED
    assert SUMMARY.fullmatch(stderr.splitlines()[1]) and len(stderr.splitlines()) == 2


def interrupt_after(monkeypatch, row: int) -> None:
    """Deliver Ctrl-C to this process as soon as ``row``'s record has been written."""
    write_record = Manifest.write

    def write_then_interrupt(self, record):
        write_record(self, record)
        if record.row == row:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(Manifest, "write", write_then_interrupt)


def test_interruption_in_process_exit_code_and_message(batch, tmp_path, monkeypatch):
    interrupt_after(monkeypatch, 3)
    source = write(tmp_path / "list.csv", many_rows(10))
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    result = batch(source, "--out-dir", out, "--manifest", manifest)
    assert result.exit_code == 130
    assert INTERRUPTED in stderr_lines(result)
    assert [r["row"] for r in read_manifest(manifest)] == [2, 3]
    assert len(pdf_names(out)) == 2
    assert folder_names(out) == pdf_names(out)


def test_interrupted_run_still_ends_with_the_summary(batch, tmp_path, monkeypatch):
    interrupt_after(monkeypatch, 3)
    source = write(tmp_path / "list.csv", many_rows(10))
    result = batch(source, "--out-dir", tmp_path / "out", "--manifest", tmp_path / "m.jsonl")
    assert result.exit_code == 130
    assert_summary(result, rows=2, written=2, failed=0)


def test_interrupted_parallel_run_records_every_handout_it_wrote(batch, tmp_path, monkeypatch):
    interrupt_after(monkeypatch, 4)
    source = write(tmp_path / "list.csv", many_rows(40))
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    result = batch(source, "--out-dir", out, "--manifest", manifest, jobs=2)
    assert result.exit_code == 130
    listed = {Path(r["output"]).name for r in read_manifest(manifest) if r["status"] == "ok"}
    assert set(pdf_names(out)) == listed
