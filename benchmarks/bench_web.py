"""Benchmark `pars-docs serve` on a warm server, as a nurse and a scheduler use it.

    python benchmarks/bench_web.py             # 20 handouts, 3 × 200-row packets
    python benchmarks/bench_web.py --quick     # 8 handouts, 1 × 200-row packet
    python benchmarks/bench_web.py --cpu-only  # only the preview's server CPU

- Server CPU per preview: the desk application in this process (Flask's test client, so
  every CPU second counted is the server's): POST the form, the preview page, every page
  image. Against a baseline measured in the same run, rounds alternated: the same
  application with 0.1's page images (the PDF read again for each page, an RGB PNG).
  Target: at most 0.6× the baseline.

- Submit to preview: POST the form, follow the redirect to the preview page, and fetch every
  page image, as the browser does before the preview is shown. Target: under 0.5 s.
- A 200-row upload, from the POST until its result page and its packet are ready, against
  `pars-docs batch` on the same list with the same outputs (one PDF per row, a merged packet,
  a manifest), timed in the same run. Target: within 1.5× of the command.

Only loopback is contacted; every loop is bounded.
"""

from __future__ import annotations

import argparse
import datetime
import http.cookiejar
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import write_list  # noqa: E402

SITE = HERE.parent / "tests" / "data" / "site-ny.yaml"
SCRIPT = Path(sys.executable).with_name("pars-docs")
FORM = {
    "procedure": "pars-defect-injection",
    "patient": "Ana Díaz",
    # A month ahead, so the appointment is never already over.
    "date": (datetime.date.today() + datetime.timedelta(days=30)).isoformat(),
    "time": "08:00",
    "clinician": "Dr. Sam Lee",
    "mrn": "A-77",
    "medication": "Eliquis",
    "sedation": "yes",
}


class Client:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> bytes:
        with self.opener.open(self.base + path.lstrip("/"), timeout=120) as response:
            return response.read()

    def csrf(self, path: str = "/") -> str:
        return re.search(rb'name="csrf" value="([^"]+)"', self.get(path)).group(1).decode()

    def post(self, path: str, body: bytes, content_type: str) -> tuple[str, bytes]:
        request = urllib.request.Request(
            self.base + path.lstrip("/"), data=body, headers={"Content-Type": content_type}
        )
        with self.opener.open(request, timeout=300) as response:  # follows the 303
            return response.geturl(), response.read()


def start_server() -> tuple[subprocess.Popen, str]:
    command = [str(SCRIPT), "serve", "--port", "0", "--site", str(SITE)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if not match:
        process.kill()
        raise SystemExit(f"the server did not start: {line}")
    return process, match.group(0)


def submit_to_preview(client: Client, csrf: str) -> float:
    body = urllib.parse.urlencode({**FORM, "csrf": csrf}).encode()
    started = time.perf_counter()
    url, page = client.post("/handout", body, "application/x-www-form-urlencoded")
    images = re.findall(rb'<img src="([^"]+\.png)"', page)
    if "/handout/" not in url or not images:
        raise SystemExit("the form did not lead to a preview")
    for image in images:
        client.get(image.decode())
    return time.perf_counter() - started


def multipart(fields: dict[str, str], name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="input"; filename="{name}"\r\n'
        f"Content-Type: text/csv\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload(client: Client, listing: Path) -> float:
    body, kind = multipart({"csrf": client.csrf("/packet")}, listing.name, listing.read_bytes())
    started = time.perf_counter()
    url, _ = client.post("/packet", body, kind)
    path = urllib.parse.urlparse(url).path
    for _ in range(6000):  # at most 10 minutes
        status = client.get(path + "/status")
        if b'"running"' not in status and b'"packing"' not in status:
            break
        time.sleep(0.1)
    page = client.get(path)
    client.get(path + "/packet.pdf")
    seconds = time.perf_counter() - started
    if b"FAILED" in page or b"No packet was made" in page:
        raise SystemExit("the upload did not make every handout")
    return seconds


def command_batch(listing: Path, work: Path, run: int) -> float:
    out = work / f"cli-{run}"
    command = [
        str(SCRIPT),
        "batch",
        str(listing),
        "--site",
        str(SITE),
        "--no-progress",
        "--out-dir",
        str(out / "handouts"),
        "--merge",
        str(out / "packet.pdf"),
        "--manifest",
        str(out / "manifest.jsonl"),
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def page_image_01(self, key: str, page: int) -> bytes | None:
    """0.1's page image, the baseline: the PDF read again for each page, an RGB PNG."""
    import io

    import pypdfium2

    from pars_docs.web.desk import PREVIEW_SCALE

    made = self.get(key)
    if made is None or not 1 <= page <= made.pages:
        return None
    if page not in made.images:
        with self.lock:
            document = pypdfium2.PdfDocument(made.pdf)
            try:
                image = document[page - 1].render(scale=PREVIEW_SCALE).to_pil()
            finally:
                document.close()
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=1)
        made.images[page] = out.getvalue()
    return made.images[page]


def preview_cpu(rounds: int) -> None:
    """Server CPU per submit-to-preview, now and with 0.1's page images, in this process."""
    from pars_docs import load_site
    from pars_docs.web.desk import Desk
    from pars_docs.web.server import build

    now_image = Desk.page_image
    with tempfile.TemporaryDirectory() as folder:
        app = build(load_site(SITE), "127.0.0.1", 8765, None, Path(folder))
        client = app.test_client()
        base = "http://127.0.0.1:8765"
        page = client.get("/", base_url=base).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)

        def one() -> float:
            started = time.process_time()
            made = client.post("/handout", base_url=base, data={**FORM, "csrf": csrf})
            location = made.headers["Location"]
            preview = client.get(location, base_url=base).text
            images = re.findall(r'<img src="([^"]+\.png)"', preview)
            if not images:
                raise SystemExit("the form did not lead to a preview")
            for image in images:
                if client.get(image, base_url=base).status_code != 200:
                    raise SystemExit("a page image was not served")
            spent = time.process_time() - started
            client.post(location + "/forget", base_url=base, data={"csrf": csrf})
            return spent

        timings: dict[str, list[float]] = {"now": [], "0.1": []}
        try:
            for turn in range(rounds + 1):  # alternated; the first round of each warms up
                for name, method in (("0.1", page_image_01), ("now", now_image)):
                    Desk.page_image = method  # type: ignore[method-assign]
                    spent = one()
                    if turn:
                        timings[name].append(spent)
        finally:
            Desk.page_image = now_image  # type: ignore[method-assign]
    now, then = statistics.median(timings["now"]), statistics.median(timings["0.1"])
    ratio = now / then
    verdict = "PASS" if ratio <= 0.6 else "FAIL"
    print(
        f"server CPU per preview: now median {now * 1000:.0f} ms, 0.1's page images "
        f"{then * 1000:.0f} ms = {ratio:.2f}x over {rounds} rounds each "
        f"(target <= 0.6x: {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--cpu-only", action="store_true", help="only the preview's CPU")
    args = parser.parse_args()
    preview_cpu(8 if args.quick else 20)
    if args.cpu_only:
        return
    handouts, packets = (8, 1) if args.quick else (20, 3)
    process, base = start_server()
    try:
        client = Client(base)
        csrf = client.csrf()
        submit_to_preview(client, csrf)  # warm: the first request of a session
        times = [submit_to_preview(client, csrf) for _ in range(handouts)]
        median = statistics.median(times)
        verdict = "PASS" if median < 0.5 else "FAIL"
        print(
            f"submit to preview: median {median * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
            f"over {handouts} handouts (4 pages each; target < 500 ms: {verdict})"
        )
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            listing = work / "list-200.csv"
            write_list(listing, 200)
            web, cli = [], []
            for run in range(packets):  # alternated, so both see the same machine load
                cli.append(command_batch(listing, work, run))
                web.append(upload(client, listing))
            ratio = statistics.median(web) / statistics.median(cli)
            verdict = "PASS" if ratio <= 1.5 else "FAIL"
            print(
                f"200-row upload: web median {statistics.median(web):.2f} s, pars-docs batch "
                f"median {statistics.median(cli):.2f} s = {ratio:.2f}x "
                f"(target <= 1.5x: {verdict}; runs web {', '.join(f'{t:.2f}' for t in web)}, "
                f"command {', '.join(f'{t:.2f}' for t in cli)})"
            )
    finally:
        process.terminate()
        process.wait(30)


if __name__ == "__main__":
    main()
