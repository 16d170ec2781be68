"""Benchmark `pars-docs batch`: throughput, peak memory, and packet size per handout.

    python benchmarks/bench_batch.py            # 1,000 and 10,000 rows (a few minutes)
    python benchmarks/bench_batch.py --quick    # 200 and 2,000 rows

Machines are noisy, so every figure is also given as a ratio against a baseline measured in
the same run: one process rendering in a loop (handouts per second) and the 1,000-row peak.
Targets (2-core machine): at least 100 handouts/s end to end from CSV to PDFs on disk, and
the 10,000-row peak memory within 1.5x the 1,000-row peak.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAMES = [
    "Ana Díaz",
    "Nguyễn Thị Ánh",
    "Łukasz Żółć",
    "Şükrü Çağlar",
    "Ștefan Țărănuș",
    "Ελένη Παπαδοπούλου",
    "Дмитрий Ёлкин",
    "John O'Brien",
    "Zoë Quinn",
    "Mary-Jane Smith",
]
MEDICINES = ["", "Eliquis", "Advil;aspirin", "warfarin", "Plavix;fish oil", ""]
SCRIPT = Path(sys.executable).with_name("pars-docs")


def write_list(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["procedure", "patient", "date", "time", "clinician", "mrn", "sedation", "medications"]
        )
        for i in range(rows):
            procedure = "pars-defect-decompression" if i % 4 == 0 else "pars-defect-injection"
            day = 1 + (i // 40) % 28
            minute = (i * 7) % 600
            writer.writerow(
                [
                    procedure,
                    f"{NAMES[i % len(NAMES)]} {i}",
                    f"2026-12-{day:02d}",
                    f"{7 + minute // 60}:{minute % 60:02d}",
                    "Dr. Sam Lee",
                    f"M{i:06d}",
                    "" if i % 4 == 0 else ("yes" if i % 3 == 0 else "no"),
                    MEDICINES[i % len(MEDICINES)],
                ]
            )


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(
                next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS:"))
            )
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(c) for c in children)
        except (OSError, StopIteration, ValueError):
            continue
    return total


def run_batch(rows: int, work: Path, extra: list[str]) -> tuple[float, int]:
    """Seconds and peak resident memory (KiB, whole process tree) of one batch run."""
    listing = work / f"list-{rows}.csv"
    write_list(listing, rows)
    out = work / f"out-{rows}-{len(extra)}"
    command = [str(SCRIPT), "batch", str(listing), "--no-progress", *extra]
    if "--merge" not in extra:
        command += ["--out-dir", str(out)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss_kib(process.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"batch failed: {process.stderr.read().decode()}")
    return seconds, peak


def baseline_rate(samples: int = 60) -> float:
    """Handouts per second from one process calling the library in a loop (no I/O)."""
    from pars_docs.handout import Engine
    from pars_docs.visit import make_visit

    engine = Engine()
    engine.prepare(
        make_visit("pars-defect-injection", "Warm Up", "2026-12-03", "8:00", "Dr. Lee")
    ).pdf()
    started = time.perf_counter()
    for i in range(samples):
        visit = make_visit(
            "pars-defect-injection" if i % 4 else "pars-defect-decompression",
            f"{NAMES[i % len(NAMES)]} {i}",
            "2026-12-03",
            "8:00",
            "Dr. Lee",
            medications=[m for m in MEDICINES[i % 6].split(";") if m],
        )
        engine.prepare(visit).pdf()
    return samples / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller lists, for a smoke run")
    args = parser.parse_args()
    small, large = (200, 2000) if args.quick else (1000, 10000)
    if not SCRIPT.exists():
        raise SystemExit(f"install pars-docs first ({SCRIPT} not found)")
    cores = os.cpu_count()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        base = baseline_rate()
        print(f"baseline: one process, library loop: {base:.0f} handouts/s ({cores} cores)")

        seconds, peak_small = run_batch(small, work, [])
        rate = small / seconds
        print(
            f"throughput: {small} rows CSV -> PDFs on disk in {seconds:.1f} s = "
            f"{rate:.0f} handouts/s ({rate / base:.2f}x baseline; target >= 100/s: "
            f"{'PASS' if rate >= 100 else 'FAIL'})"
        )

        seconds, peak_large = run_batch(large, work, [])
        print(
            f"peak memory: {small} rows {peak_small / 1024:.0f} MiB, {large} rows "
            f"{peak_large / 1024:.0f} MiB = {peak_large / peak_small:.2f}x "
            f"(target <= 1.5x: {'PASS' if peak_large <= 1.5 * peak_small else 'FAIL'}); "
            f"{large} rows ran at {large / seconds:.0f} handouts/s"
        )

        packet = work / "packet.pdf"
        count = 100
        run_batch(count, work, ["--merge", str(packet)])
        singles = sorted((work / f"out-{small}-0").glob("*.pdf"))[:count]
        single = sum(p.stat().st_size for p in singles) / len(singles)
        per = packet.stat().st_size / count
        print(
            f"packet size: {per / 1024:.1f} KiB per handout in a {count}-handout packet vs "
            f"{single / 1024:.1f} KiB for a single handout file ({per / single:.2f}x)"
        )


if __name__ == "__main__":
    main()
