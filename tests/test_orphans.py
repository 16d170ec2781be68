"""Workers die with their parent (issue 25, item 7): a `batch` killed with SIGKILL leaves no
pool worker running."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SITE, many_rows, write


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_die_when_the_batch_is_killed(tmp_path):
    source = write(tmp_path / "list.csv", many_rows(3000))
    command = [sys.executable, "-m", "pars_docs", "batch", str(source), "--site", str(SITE)]
    command += ["--jobs", "2", "--out-dir", str(tmp_path / "out")]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    run = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(workers) < 2:
            workers = children(run.pid)
            time.sleep(0.2)
        assert len(workers) >= 2, "the pool did not start"
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(alive(w) for w in workers):
            time.sleep(0.2)
        assert not [w for w in workers if alive(w)], "workers outlived the killed batch"
    finally:
        for pid in [run.pid, *workers]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
