"""Benchmark what tagging costs: render the same handouts tagged and untagged, interleaved.

    python benchmarks/bench_tagging.py            # 60 rounds
    python benchmarks/bench_tagging.py --rounds 20

Both renderings run in this one process on already-composed handouts (an injection and a
decompression handout with a note and medicines, and packets of 20 and of 100 handouts, 100
being the part of a merged packet that one worker lays out at a time), alternating so a
busy machine slows both alike. The figure is the ratio tagged/untagged of the median CPU
time per rendering. Target: at most 1.15 (tagging no more than 15% slower).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from datetime import date

from pars_docs import make_handout
from pars_docs.load.site import load_site
from pars_docs.render.pdf import render_pdf

TARGET = 1.15


def documents() -> dict[str, list]:
    site = load_site(None)

    def one(procedure: str, day: int):
        return make_handout(
            procedure, f"Ana Díaz {day}", date(2026, 12, day), "8:00 AM", "Dr. Lee",
            medications=["warfarin", "aspirin"], note="Bring your scans.\nCall if unwell.",
            site=site,
        ).document  # fmt: skip

    return {
        "injection": [one("pars-defect-injection", 3)],
        "decompression": [one("pars-defect-decompression", 4)],
        **{
            f"packet of {size}": [
                one("pars-defect-injection" if i % 2 else "pars-defect-decompression", 1 + i % 28)
                for i in range(size)
            ]
            for size in (20, 100)
        },
    }


def cpu(handouts: list, tagged: bool) -> float:
    gc.collect()  # so neither side pays for the other's garbage
    start = time.process_time()
    render_pdf(handouts, tagged=tagged)
    return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    rounds = parser.parse_args().rounds
    worst = 0.0
    for name, handouts in documents().items():
        # Fewer rounds for the packets: each takes as long as 20 or 100 handouts.
        runs = max(5, rounds // {1: 1, 20: 4}.get(len(handouts), 12))
        cpu(handouts, True), cpu(handouts, False)  # warm the caches for both
        tagged, untagged = [], []
        for _ in range(runs):
            tagged.append(cpu(handouts, True))
            untagged.append(cpu(handouts, False))
        ratio = statistics.median(tagged) / statistics.median(untagged)
        worst = max(worst, ratio)
        print(
            f"{name:>14}: tagged {statistics.median(tagged) * 1000:7.1f} ms, "
            f"untagged {statistics.median(untagged) * 1000:7.1f} ms, ratio {ratio:.3f}"
        )
    verdict = "ok" if worst <= TARGET else "OVER TARGET"
    print(f"worst ratio {worst:.3f} (target <= {TARGET}): {verdict}")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
