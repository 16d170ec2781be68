"""Benchmark `pars-docs listen` against `pars-docs make --fhir`, per message.

    python benchmarks/bench_listen.py             # 20 messages each way
    python benchmarks/bench_listen.py --messages 50

The same HL7 v2 SIU^S12 message (Microsoft's SIU-S12-02 sample from ../shared/thirdparty,
each copy with its own control id and booking) is made into a PDF handout two ways,
interleaved so a busy machine slows both alike: sent over MLLP to one warm listener on
loopback (the time until its ACK), and given to a fresh `pars-docs make --fhir` process per
message (the process's wall time). The figure is the ratio of the medians, listener/make.
Target: at most 0.5 (a message costs a handout, not a start-up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pars_docs.listen.mllp import send

ROOT = Path(__file__).resolve().parents[1]
THIRDPARTY = ROOT.parent / "shared" / "thirdparty"
TARGET = 0.5


def message(number: int) -> str:
    text = (THIRDPARTY / "hl7" / "ms" / "SIU-S12-02.hl7").read_text(encoding="utf-8")
    text = text.replace("MSG00012", f"BENCH{number}").replace("|36996|", f"|B{number}|")
    return "\r".join(line for line in text.splitlines() if line) + "\r"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20)
    count = parser.parse_args().messages
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        site = work / "site.yaml"
        site.write_text(
            (ROOT / "tests" / "data" / "site-ny.yaml").read_text(encoding="utf-8")
            + "fallback_language: en\n",
            "utf-8",
        )
        codes = THIRDPARTY / "codes.yaml"
        common = ["--site", str(site), "--codes", str(codes), "--as-of", "2019-01-01"]
        env = dict(os.environ, PARS_DOCS_CACHE=str(work / "cache"))
        listener = subprocess.Popen(
            [sys.executable, "-m", "pars_docs", "listen", "--port", "0", *common, "--state",
             str(work / "state.sqlite"), "--out-dir", str(work / "listened")],
            stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        line = listener.stderr.readline() if listener.stderr else ""
        port = int(line.split("127.0.0.1:")[1].split()[0])
        send("127.0.0.1", port, message(-1))  # warm: the first handout loads the sets
        listened, made = [], []
        try:
            for number in range(count):
                started = time.perf_counter()
                answer = send("127.0.0.1", port, message(number))
                listened.append(time.perf_counter() - started)
                assert "MSA|AA|" in answer, answer
                path = work / f"m{number}.hl7"
                path.write_text(message(count + number), encoding="utf-8")
                started = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "pars_docs", "make", "--fhir", str(path), *common,
                     "-o", str(work / f"m{number}.pdf")],
                    check=True, env=env, capture_output=True,
                )  # fmt: skip
                made.append(time.perf_counter() - started)
        finally:
            listener.terminate()
            listener.wait(timeout=30)
    ratio = statistics.median(listened) / statistics.median(made)
    print(f"listen: median {statistics.median(listened) * 1000:.0f} ms per message (to its ACK)")
    print(f"make --fhir: median {statistics.median(made) * 1000:.0f} ms per message (a process)")
    verdict = "meets" if ratio <= TARGET else "misses"
    print(f"ratio listen/make: {ratio:.2f} ({verdict} the target {TARGET})")


if __name__ == "__main__":
    main()
