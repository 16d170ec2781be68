"""A desk server killed with SIGKILL in the middle of a 200-row packet: its run and the run's
worker pool stop by themselves, and the next server to start removes the folder it left,
saying so in its log. A real `pars-docs serve`, real HTTP on loopback."""

import http.cookiejar
import re
import signal
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from helpers import many_rows, start_desk

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc"),
]


def descendants(pid: int) -> set[int]:
    """Every process under ``pid`` (Linux /proc)."""
    found: set[int] = set()
    queue = [pid]
    while queue:
        current = queue.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    queue.append(child)
    return found


def running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie has stopped; only its entry is left


def upload(address: str, content: bytes) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(address + "packet").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="input"; filename="day.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        address + "packet",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    response = opener.open(request)  # follows the redirect to the packet's page
    return response.geturl()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_server_leaves_no_run_and_the_next_start_tidies_up(tmp_path):
    process, address = start_desk(tmp_path)
    try:
        upload(address, many_rows(200).encode())
        end = time.monotonic() + 30
        while time.monotonic() < end and len(descendants(process.pid)) < 2:
            time.sleep(0.1)  # the run, and its worker pool
        under = descendants(process.pid)
        assert under, "no run started"
        [work] = list(tmp_path.iterdir())
        assert list(work.glob("job-*"))
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    end = time.monotonic() + 30
    while time.monotonic() < end and any(running(pid) for pid in under):
        time.sleep(0.2)
    assert not [pid for pid in under if running(pid)], "the run outlived its server"
    # The run removed its own folder on the way out; the server's own folder is left.
    assert [p.name for p in tmp_path.iterdir()] == [work.name]
    assert not list(work.glob("job-*"))

    later, _ = start_desk(tmp_path)
    later.send_signal(signal.SIGINT)
    log = "".join(later.before_address) + later.communicate(timeout=30)[1]
    assert f"removed {work.name}, left by a desk server that was stopped without tidying up" in log
    assert f"(process {process.pid};" in log
    assert list(tmp_path.iterdir()) == []
    assert "Patient" not in log


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_running_servers_folder_is_left_alone(tmp_path):
    first, _ = start_desk(tmp_path)
    second, _ = start_desk(tmp_path)
    try:
        assert len(list(tmp_path.iterdir())) == 2
    finally:
        for process in (second, first):
            process.send_signal(signal.SIGINT)
            log = "".join(process.before_address) + process.communicate(timeout=30)[1]
            assert "removed" not in log
    assert list(tmp_path.iterdir()) == []
