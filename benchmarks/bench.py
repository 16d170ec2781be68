"""Measure pars-docs against a hand-coded ReportLab baseline, side by side in one run.

    python benchmarks/bench.py                 # everything; packets at 1k, 5k, 10k and 20k rows
    python benchmarks/bench.py --quick         # smaller lists, for a smoke run
    python benchmarks/bench.py --only start    # start, cold, handout, batch or packet
    python benchmarks/bench.py --packet-rows 1000,20000

The baseline is ``benchmarks/baseline_handout.py``: the same injection handout (same pages,
fonts, wording and boxes) written directly against ReportLab, with no pars-docs code. The
run first checks that its text and page count match pars-docs' handout, then reports:

- start: ``--version``, ``--help`` and ``list`` against ``python -c pass`` (target < 0.15 s);
- cold: CPU of one ``make`` against one run of the baseline script, with no cache folder
  (``PARS_DOCS_CACHE=off``) and with a warm one (target <= 1.3x each);
- handout: CPU per handout in one warm process against the baseline (target <= 1.2x), and
  ``make`` latency warm (a running server) and cold (a fresh process);
- batch: handouts per second of ``pars-docs batch`` with the default jobs against the baseline
  in one process, both from a list to PDF files on disk (target >= 1.7x);
- packet: peak memory of the whole process tree (RSS, and PSS, which counts pages shared
  with forked workers once), time, size, ``qpdf --check`` and every page read back of
  ``--merge --duplex --index`` at each size, and the same list without ``--merge``
  (target: the 10k-row peak <= 1.5x the 1k-row peak).

Machines are noisy: every ratio is against a baseline measured in the same run, and each
figure is the median of several runs where a run is short.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PARS_DOCS = str(BIN / "pars-docs")
PYTHON = sys.executable
BASELINE = HERE / "baseline_handout.py"
NAMES = [
    "Ana Díaz",
    "Nguyễn Thị Ánh",
    "Łukasz Żółć",
    "Ελένη Παπαδοπούλου",
    "Дмитрий Ёлкин",
    "John O'Brien",
    "Zoë Quinn",
    "Mary-Jane Smith",
]
# "Now" for every run (SOURCE_DATE_EPOCH, which pars-docs also reads as the time the handouts
# are made, and which makes both scripts' output repeatable): November 2023, before every visit
# the lists hold (December 2026), so no instruction has passed whatever day the benchmark runs
# and pars-docs writes the same handout as the baseline.
NOW = "1700000000"
MEDICINES = ["", "Eliquis", "Advil;aspirin", "warfarin", "Plavix;fish oil", ""]
MAKE = [
    "make",
    "pars-defect-injection",
    "--patient",
    "Ana Díaz",
    "--date",
    "2026-12-03",
    "--time",
    "8:00 AM",
    "--clinician",
    "Dr. Sam Lee",
    "--sedation",
    "--medication",
    "Eliquis",
]


def morning(i: int) -> datetime:
    """A start the baseline handles (7:00 to 11:59), varied by row."""
    return datetime(2026, 12, 1 + (i // 40) % 28, 7 + (i * 7 % 300) // 60, (i * 7) % 60)


def run_cpu(
    command: list[str], repeat: int, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Median CPU seconds (user + system) and median wall seconds of ``command``."""
    cpu, wall = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        )
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(cpu), statistics.median(wall)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def pdf_text(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def check_same(work: Path) -> None:
    """Whether the baseline's handout has pars-docs' text, page for page. When pars-docs'
    handout has changed since the baseline was written, the run goes on and says so: every
    ratio then compares pars-docs' handout with an older, simpler one."""
    ours, theirs = work / "ours.pdf", work / "baseline.pdf"  # made at NOW (see main)
    subprocess.run([PARS_DOCS, *MAKE, "-o", str(ours)], check=True, stderr=subprocess.DEVNULL)
    subprocess.run([PYTHON, str(BASELINE), "-o", str(theirs)], check=True)
    a, b = pdf_text(ours), pdf_text(theirs)
    if a == b:
        print(f"same handout: {len(a)} pages, text identical")
        return
    words = len(" ".join(a).split()), len(" ".join(b).split())
    print(
        f"NOT THE SAME HANDOUT: pars-docs {len(a)} pages and {words[0]} words, the baseline "
        f"{len(b)} pages and {words[1]} words; bring the baseline up to date "
        "(benchmarks/update_baseline.py, and its layout by hand) before trusting the ratios"
    )


def bench_start(repeat: int) -> None:
    bare_cpu, bare = run_cpu([PYTHON, "-c", "pass"], repeat)
    print(f"start: python -c pass {bare:.3f} s wall, {bare_cpu:.3f} s CPU")
    for args in (["--version"], ["--help"], ["list"]):
        cpu, wall = run_cpu([PARS_DOCS, *args], repeat)
        print(
            f"start: pars-docs {' '.join(args):9s} {wall:.3f} s wall, {cpu:.3f} s CPU "
            f"({wall - bare:+.3f} s over python; target < 0.15 s: {verdict(wall < 0.15)})"
        )


def bench_cold(repeat: int, work: Path) -> None:
    """One fresh process each, the commands taking turns so that a busy spell on the machine
    costs all alike: the baseline script, ``make`` with no cache folder at all
    (``PARS_DOCS_CACHE=off``, as in a container or with a home folder thrown away: only the
    records shipped in the package), and ``make`` with a warm cache of the user's own."""
    base = [PYTHON, str(BASELINE), "-o", str(work / "b.pdf")]
    ours = [PARS_DOCS, *MAKE, "-o", str(work / "m.pdf")]
    warm_cache = work / "warm-cache"
    no_cache = {**os.environ, "PARS_DOCS_CACHE": "off"}
    warm = {**os.environ, "PARS_DOCS_CACHE": str(warm_cache)}
    run_cpu(ours, 1, warm)  # fills the user's cache
    runs: dict[str, list[tuple[float, float]]] = {"base": [], "off": [], "warm": []}
    for _ in range(repeat):
        runs["base"].append(run_cpu(base, 1))
        runs["off"].append(run_cpu(ours, 1, no_cache))
        runs["warm"].append(run_cpu(ours, 1, warm))
    base_cpu, base_wall = (statistics.median(x) for x in zip(*runs["base"], strict=True))
    print(f"cold: baseline script {base_cpu:.3f} s CPU ({base_wall:.3f} s wall)")
    for name, label in (("off", "no cache folder"), ("warm", "warm user cache")):
        cpu, wall = (statistics.median(x) for x in zip(*runs[name], strict=True))
        print(
            f"cold: pars-docs make, {label}: {cpu:.3f} s CPU ({wall:.3f} s wall) = "
            f"{cpu / base_cpu:.2f}x (target <= 1.3x: {verdict(cpu <= 1.3 * base_cpu)})"
        )


def load_baseline():
    spec = importlib.util.spec_from_file_location("baseline_handout", BASELINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.register_fonts()
    return module


def bench_handout(count: int) -> None:
    """CPU per handout in one warm process, pars-docs against the baseline, interleaved in
    rounds so that a busy spell on the machine costs both alike."""
    from pars_docs.handout import Engine
    from pars_docs.read.visit import make_visit

    baseline = load_baseline()
    styles = baseline.styles()
    engine = Engine()

    def ours(i: int) -> None:
        start = morning(i)
        visit = make_visit(
            "pars-defect-injection",
            f"{NAMES[i % len(NAMES)]} {i}",
            start.date(),
            start.time(),
            "Dr. Sam Lee",
            sedation=True,
            medications=["Eliquis"],
        )
        engine.prepare(visit).pdf()

    def theirs(i: int) -> None:
        baseline.handout(
            io.BytesIO(), f"{NAMES[i % len(NAMES)]} {i}", morning(i), "Dr. Sam Lee", styles
        )

    for i in range(5):  # warm both
        ours(i)
        theirs(i)
    totals = {ours: 0.0, theirs: 0.0}
    latencies = []
    rounds = 10
    for r in range(rounds):
        for make in (ours, theirs):
            began = time.process_time()
            for i in range(r * count // rounds, (r + 1) * count // rounds):
                if make is ours:
                    wall = time.perf_counter()
                    make(i)
                    latencies.append(time.perf_counter() - wall)
                else:
                    make(i)
            totals[make] += time.process_time() - began
    per_ours, per_base = totals[ours] / count * 1000, totals[theirs] / count * 1000
    print(
        f"handout: baseline {per_base:.1f} ms CPU, pars-docs {per_ours:.1f} ms CPU "
        f"= {per_ours / per_base:.2f}x (target <= 1.2x: {verdict(per_ours <= 1.2 * per_base)})"
    )
    print(
        f"handout: warm make latency {statistics.median(latencies) * 1000:.1f} ms median, "
        f"{sorted(latencies)[int(len(latencies) * 0.95)] * 1000:.1f} ms 95th percentile"
    )


def write_list(path: Path, rows: int, same_as_baseline: bool = False) -> None:
    """A CSV list of ``rows`` appointments: both procedures, names in several scripts and
    mixed medicines, or (``same_as_baseline``) only the baseline's handout."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["procedure", "patient", "date", "time", "clinician", "mrn", "sedation", "medications"]
        )
        for i in range(rows):
            start = morning(i)
            if same_as_baseline:
                procedure, sedation, medicines = "pars-defect-injection", "yes", "Eliquis"
            else:
                procedure = "pars-defect-decompression" if i % 4 == 0 else "pars-defect-injection"
                sedation = "" if i % 4 == 0 else ("yes" if i % 3 == 0 else "no")
                medicines = MEDICINES[i % len(MEDICINES)]
            writer.writerow(
                [
                    procedure,
                    f"{NAMES[i % len(NAMES)]} {i}",
                    f"{start:%Y-%m-%d}",
                    f"{start:%H:%M}",
                    "Dr. Sam Lee",
                    f"M{i:06d}",
                    sedation,
                    medicines,
                ]
            )


def tree_memory_kib(pid: int) -> tuple[int, int]:
    """Resident memory (RSS) and proportional set size (PSS: shared pages split between the
    processes sharing them) of a process and all its descendants, in KiB (Linux /proc).
    Forked workers share their parent's pages, which the RSS sum counts once per process."""
    rss = pss = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return rss, pss


def run_watched(command: list[str]) -> tuple[float, int, int]:
    """Wall seconds, and peak RSS and peak PSS (KiB, whole process tree) of ``command``."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_rss = peak_pss = 0
    while process.poll() is None:
        rss, pss = tree_memory_kib(process.pid)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return seconds, peak_rss, peak_pss


def bench_batch(rows: int, work: Path) -> None:
    listing = work / f"same-{rows}.csv"
    write_list(listing, rows, same_as_baseline=True)
    base_dir, out_dir = work / "base-out", work / "batch-out"
    base_dir.mkdir()
    base_seconds, *_ = run_watched(
        [PYTHON, str(BASELINE), "--count", str(rows), "--out-dir", str(base_dir)]
    )
    seconds, *_ = run_watched(
        [PARS_DOCS, "batch", str(listing), "--no-progress", "--out-dir", str(out_dir)]
    )
    base_rate, rate = rows / base_seconds, rows / seconds
    print(
        f"batch: {rows} rows to PDF files, baseline one process {base_rate:.0f}/s, "
        f"pars-docs batch ({os.cpu_count()} cores, default jobs) {rate:.0f}/s "
        f"= {rate / base_rate:.2f}x (target >= 1.7x: {verdict(rate >= 1.7 * base_rate)})"
    )
    mixed = work / f"mixed-{rows}.csv"
    write_list(mixed, rows, same_as_baseline=False)
    seconds, *_ = run_watched(
        [PARS_DOCS, "batch", str(mixed), "--no-progress", "--out-dir", str(work / "mixed-out")]
    )
    print(f"batch: {rows} rows of both procedures and mixed medicines: {rows / seconds:.0f}/s")
    shutil.rmtree(base_dir)
    shutil.rmtree(out_dir)
    shutil.rmtree(work / "mixed-out")


def qpdf_check(path: Path) -> str:
    if not shutil.which("qpdf"):
        return "qpdf not installed"
    done = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    return "qpdf --check clean" if done.returncode == 0 else f"qpdf --check: {done.stdout[-200:]}"


def read_back(path: Path) -> str:
    """The packet read back page by page: its page count (pdfinfo), and the text of each
    page extracted (pdftotext)."""
    if not shutil.which("pdftotext"):
        return "not read back (poppler-utils not installed)"
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    sheets = 0
    with subprocess.Popen(["pdftotext", "-q", str(path), "-"], stdout=subprocess.PIPE) as reader:
        assert reader.stdout is not None
        while chunk := reader.stdout.read(1 << 20):
            sheets += chunk.count(b"\f")  # pdftotext ends each page's text with a form feed
    verdict = "every page" if sheets == pages else f"only {sheets} of {pages} pages"
    return f"{pages} pages, text of {verdict} read back"


def part_overhead(count: int, work: Path) -> None:
    """The size the packet pays for its parts: the same handouts laid out as one document
    (fonts once, as before packets were made in parts) and in parts, joined."""
    from pars_docs.batch.packet import PART_HANDOUTS, Layout, Packet
    from pars_docs.handout import Engine
    from pars_docs.read.visit import make_visit
    from pars_docs.render.pdf import render_pdf

    engine = Engine()
    documents = []
    target = work / "overhead.pdf"
    packet = Packet(target)
    try:
        for i in range(count):
            start = morning(i)
            procedure = "pars-defect-decompression" if i % 4 == 0 else "pars-defect-injection"
            visit = make_visit(
                procedure, f"{NAMES[i % len(NAMES)]} {i}", start.date(), start.time(), "Dr. Sam Lee"
            )
            handout = engine.prepare(visit)
            documents.append(handout.document)
            record = type("R", (), {"start": start.isoformat(), "row": i})()
            packet.add(record, ET.tostring(handout.document, encoding="unicode"))
        whole = len(render_pdf(documents, title="Packet"))
        packet.write(Layout(paper="letter", title="Packet"), [], jobs=1)
        parts = target.stat().st_size
    finally:
        packet.discard()
    print(
        f"packet: {count} handouts as one document {whole / 2**20:.2f} MiB, in parts of "
        f"{PART_HANDOUTS} joined {parts / 2**20:.2f} MiB ({(parts / whole - 1) * 100:+.1f}%)"
    )


def bench_packets(sizes: list[int], work: Path) -> None:
    part_overhead(300, work)
    peaks = {}
    for rows in sizes:
        listing = work / f"mixed-{rows}.csv"
        write_list(listing, rows, same_as_baseline=False)
        packet = work / f"packet-{rows}.pdf"
        seconds, rss, pss = run_watched(
            [
                PARS_DOCS,
                "batch",
                str(listing),
                "--no-progress",
                "--merge",
                str(packet),
                "--duplex",
                "--index",
            ]
        )
        peaks[rows] = rss, pss
        size = packet.stat().st_size
        print(
            f"packet: {rows} rows --merge --duplex --index: peak RSS {rss / 1024:.0f} MiB, "
            f"PSS {pss / 1024:.0f} MiB, {seconds:.1f} s ({rows / seconds:.0f}/s), "
            f"{size / 2**20:.1f} MiB ({size / rows / 1024:.1f} KiB a handout), "
            f"{qpdf_check(packet)}, {read_back(packet)}"
        )
        packet.unlink()
        out = work / f"files-{rows}"
        seconds, rss, pss = run_watched(
            [PARS_DOCS, "batch", str(listing), "--no-progress", "--out-dir", str(out)]
        )
        print(
            f"files: {rows} rows without --merge: peak RSS {rss / 1024:.0f} MiB, "
            f"PSS {pss / 1024:.0f} MiB, {seconds:.1f} s ({rows / seconds:.0f}/s)"
        )
        shutil.rmtree(out)
    small = min(sizes)
    for rows in sorted(sizes):
        if rows == small:
            continue
        rss = peaks[rows][0] / peaks[small][0]
        pss = peaks[rows][1] / peaks[small][1]
        # The targets: 10k rows within 1.5x the 1k peak; 20k rows within 1 GB of memory.
        target = ""
        if rows <= 10000:
            target = f" (target <= 1.5x: {verdict(max(rss, pss) <= 1.5)})"
        if rows >= 20000:
            target = f" (target: fits in 1 GB: {verdict(peaks[rows][0] < 1e9 / 1024)})"
        print(
            f"packet: peak at {rows} rows is {rss:.2f}x (RSS), {pss:.2f}x (PSS) the peak at "
            f"{small}{target}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller lists, for a smoke run")
    parser.add_argument(
        "--only",
        choices=["start", "cold", "handout", "batch", "packet"],
        action="append",
        help="run only these parts (repeatable)",
    )
    parser.add_argument("--packet-rows", help="comma-separated list sizes for the packets")
    args = parser.parse_args()
    if not Path(PARS_DOCS).exists():
        raise SystemExit(f"install pars-docs first ({PARS_DOCS} not found)")
    os.environ["SOURCE_DATE_EPOCH"] = NOW
    parts = set(args.only or ["start", "cold", "handout", "batch", "packet"])
    repeat = 5 if args.quick else 15
    sizes = [200, 1000] if args.quick else [1000, 5000, 10000, 20000]
    if args.packet_rows:
        sizes = [int(n) for n in args.packet_rows.split(",")]
    print(
        f"pars-docs benchmarks, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        check_same(work)
        if "start" in parts:
            bench_start(repeat)
        if "cold" in parts:
            bench_cold(repeat, work)
        if "handout" in parts:
            bench_handout(100 if args.quick else 300)
        if "batch" in parts:
            bench_batch(300 if args.quick else 1000, work)
        if "packet" in parts:
            bench_packets(sizes, work)
    print(f"load at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
