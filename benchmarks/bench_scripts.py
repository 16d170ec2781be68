"""Benchmark handouts in Chinese and Arabic script against English, side by side.

    python benchmarks/bench_scripts.py              # 5 cold makes and 30 rows per language
    python benchmarks/bench_scripts.py --out DIR    # also write one PDF per language
    python benchmarks/bench_scripts.py --translated lumbar-tfesi   # the set's own translations

By default what is measured is the English pars-defect-injection set laid out with the page
words (labels, dates, times) of the language and a patient name in its script ("李小龍" for
zh-Hans, "محمد علي" for ar, "Ana Díaz" for English): the page words, the patient block, the
key times and the footer are in the script, the body is English. That exercises what the
script costs (the Noto fonts, their instances, shaping, right-to-left ordering, subsetting)
but not the length of translated text. With ``--translated SET`` each language prints SET's
own translation, so the body is in the script too (a set translated into Chinese and Arabic:
lumbar-tfesi).

- cold make: a new process (`python -c`, the same steps as `pars-docs make`) with the
  start-up cache already filled by one earlier run, CPU time of the child (user + system);
- batch row: composing and rendering one handout in a warm process (the fonts registered),
  median CPU time over the rows;
- file: the size of the PDF.

Reported as ratios to English measured in the same run. Targets: CPU at most 1.5× English
per handout, file at most 2× English.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from datetime import time as clock
from pathlib import Path

CASES = {"en": "Ana Díaz", "zh-Hans": "李小龍", "ar": "محمد علي"}
CPU_TARGET = 1.5
SIZE_TARGET = 2.0

_ONE = """
import sys
from datetime import date, time
from pars_docs.handout import Engine
from pars_docs.read.visit import Visit
from pars_docs.compose.composer import compose
from pars_docs.render.pdf import render_pdf
language, name, set_id, translated = sys.argv[1:5]
engine = Engine()
visit = Visit(set_id, name, date(2027, 3, 4), time(8, 0), "Dr. Lee",
              language=language if translated == "1" else None)
handout = engine.prepare(visit)
if translated == "1":
    documents = handout.documents
else:
    documents = [compose(handout.plan, engine.templates(language))]
sys.stdout.buffer.write(render_pdf(documents))
"""


SET = "pars-defect-injection"
TRANSLATED = False


def cold(language: str, name: str) -> tuple[float, bytes]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [sys.executable, "-c", _ONE, language, name, SET, "1" if TRANSLATED else "0"],
        capture_output=True,
        check=True,
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, out


def rows(language: str, name: str, count: int) -> float:
    from pars_docs.compose.composer import compose
    from pars_docs.handout import Engine
    from pars_docs.read.visit import Visit
    from pars_docs.render.pdf import render_pdf

    engine = Engine()
    times = []
    for day in range(count):
        visit = Visit(
            SET,
            f"{name} {day}",
            date(2027, 3, 4),
            clock(8, 0),
            "Dr. Lee",
            language=language if TRANSLATED else None,
        )
        start = time.process_time()
        handout = engine.prepare(visit)
        if TRANSLATED:
            render_pdf(handout.documents)
        else:
            render_pdf([compose(handout.plan, engine.templates(language))])
        times.append(time.process_time() - start)
    return statistics.median(times[1:])  # the first registers the fonts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--translated",
        metavar="SET",
        help="measure SET in each language's own translation (its body text translated too), "
        "instead of the English pars-defect-injection with each language's page words",
    )
    args = parser.parse_args()
    global SET, TRANSLATED
    if args.translated:
        SET, TRANSLATED = args.translated, True
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    results = {}
    for language, name in CASES.items():
        cold(language, name)  # fill the start-up cache
        runs = [cold(language, name) for _ in range(args.cold)]
        pdf = runs[0][1]
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"handout-{language}.pdf").write_bytes(pdf)
        results[language] = (
            statistics.median(cpu for cpu, _ in runs),
            rows(language, name, args.rows),
            len(pdf),
        )
    english = results["en"]
    print(f"{'language':10} {'cold make s':>12} {'x en':>6} {'row s':>8} {'x en':>6} "
          f"{'file KB':>8} {'x en':>6}")  # fmt: skip
    worst = 0.0
    for language, (cold_cpu, row_cpu, size) in results.items():
        ratios = (cold_cpu / english[0], row_cpu / english[1], size / english[2])
        print(
            f"{language:10} {cold_cpu:12.3f} {ratios[0]:6.2f} {row_cpu:8.4f} {ratios[1]:6.2f} "
            f"{size / 1024:8.1f} {ratios[2]:6.2f}"
        )
        worst = max(worst, ratios[0] / CPU_TARGET, ratios[1] / CPU_TARGET, ratios[2] / SIZE_TARGET)
    print(f"targets: CPU <= {CPU_TARGET}x English, file <= {SIZE_TARGET}x English: "
          f"{'met' if worst <= 1 else 'NOT met'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
