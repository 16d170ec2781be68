"""Helpers the tests share (fixtures stay in conftest.py)."""

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from pars_docs.cli import cli

DATA = Path(__file__).parent / "data"
# "Now" for every test (conftest.py sets it): 2026-01-01 00:00 UTC, before every visit the
# tests make, so a handout never turns "too late" as the real calendar moves on. Tests of
# "now" set their own.
FIXED_NOW = "1767225600"


def pdf_text(data: bytes | Path) -> str:
    if isinstance(data, Path):
        data = data.read_bytes()
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    """Text with all runs of whitespace made single spaces, for phrase checks."""
    return " ".join(text.split())


def built_in_sets() -> list[str]:
    """The ids of the instruction sets pars-docs ships, so a new set is tested like the rest."""
    from pars_docs.load.library import Library

    return Library().ids()


def sedation_choices(set_id: str) -> list[bool]:
    """The sedation values a set's handout can be made with: both, or its fixed one."""
    from pars_docs.load.library import Library
    from pars_docs.plan.timeline import option_choices

    return option_choices(Library().get(set_id), "sedation")


SITE = DATA / "site-ny.yaml"
LISTS = DATA / "batch"
SCRIPT = Path(sys.executable).with_name("pars-docs")
HEADER = "procedure,patient,date,time,clinician,mrn"
COLUMNS = [
    "row",
    "status",
    "output",
    "sha256",
    "instruction_set",
    "version",
    "field",
    "reason",
    "warnings",
    "language",
    "chart_medicines",
]
SUMMARY = re.compile(
    r"pars-docs: (\d+) rows?: (\d+) written, (\d+) failed(, [a-z0-9 ,]+)? "
    r"in \d+\.\d s \(\d+ rows/s\)"
)
INTERRUPTED = (
    "pars-docs: interrupted; handouts already written are complete. Run the same command "
    "with --skip-existing to resume."
)
# The three appointments every file in tests/data/batch/appointments.* holds.
REFERENCE_NAMES = [
    "2026-12-03_0715_pars-defect-decompression_B2.pdf",
    "2026-12-03_0800_pars-defect-injection_A1.pdf",
    "2026-12-04_1430_pars-defect-injection_C3.pdf",
]


# Batch runs ----------------------------------------------------------------------------------


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def lines(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def appointment(patient, when="2026-12-03 8:00", mrn="", procedure="pars-defect-injection"):
    day, hour = when.split(" ", 1)
    return f"{procedure},{patient},{day},{hour},Dr. Sam Lee,{mrn}"


def many_rows(count: int) -> str:
    return lines(
        *(
            appointment(
                f"Patient {i}", f"2026-12-{1 + i % 28:02d} {7 + i % 10}:{i % 60:02d}", f"M{i}"
            )
            for i in range(count)
        )
    )


def read_manifest(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        records = list(csv.DictReader(io.StringIO(text)))
        for record in records:
            record.update({k: (v or None) for k, v in record.items()})
            record["row"] = int(record["row"])
        return records
    return [json.loads(line) for line in text.splitlines()]


def by_row(records: list[dict]) -> dict[int, dict]:
    return {r["row"]: r for r in records}


def pdf_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.pdf")) if folder.is_dir() else []


def stderr_lines(result) -> list[str]:
    return result.stderr.splitlines()


def assert_no_crash(result) -> None:
    """The command ended through its own error handling, not an uncaught exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


def assert_summary(result, rows: int, written: int, failed: int, extra: str | None = None):
    """The last line of standard error is the run's summary, with these counts."""
    last = stderr_lines(result)[-1]
    match = SUMMARY.fullmatch(last)
    assert match, f"last line of stderr is not the summary: {last!r}"
    assert (int(match[1]), int(match[2]), int(match[3])) == (rows, written, failed), last
    assert match[4] == (f", {extra}" if extra else None), last


def text_of(path: Path) -> str:
    return squash(pdf_text(path))


def last_footer(path: Path) -> tuple[int, int, int]:
    """(N, M) of the last "Page N of M" on the PDF's last page, and the page count."""
    reader = PdfReader(path)
    found = re.findall(r"Page (\d+) of (\d+)", reader.pages[-1].extract_text())
    assert found, f"{path.name}: no page footer on the last page"
    page, pages = found[-1]
    return int(page), int(pages), len(reader.pages)


def versions(runner) -> dict[str, str]:
    return {
        s["id"]: s["version"] for s in json.loads(runner.invoke(cli, ["list", "--json"]).output)
    }


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


# The output folder's own file: its lock and its record of what each handout was made from.
STATE = ".pars-docs-state"


def folder_names(folder: Path) -> list[str]:
    """The names in an output folder, but for its own record (which every run leaves)."""
    return sorted(p.name for p in folder.iterdir() if p.name != STATE)


# A list of bad rows among good ones -------------------------------------------------------

# The built-in sets as an unknown procedure's message lists them.
KNOWN_SETS = ", ".join(sorted(built_in_sets()))

MEDICINES = "procedure,patient,date,time,clinician,mrn,medications"
SUGGESTION = (
    "medication: unknown medicine 'Eliqis'. Closest known names: Eliquis. A clinic can add it "
    "to medicines.yaml, or set unknown_medicines: ask in the site profile."
)
# What a row's medicine column holds may be anything (a name in the wrong column): it is left
# out without --verbose; the closest names are the table's own.
SUGGESTION_REDACTED = SUGGESTION.replace("'Eliqis'", "'…'")
# (row, CSV line, field, reason, reason without patient values) for each bad row. A reason
# ending in ";" is the start of a longer one.
BAD_ROWS = [
    (3, "pars-defect-injection,Bad Date,2026-02-30,8:00,Dr. Lee,B3,", "date",
     "date: '2026-02-30' is not a real date (February 2026 has 28 days)",
     "date: '…' is not a real date"),
    (4, "pars-defect-injection,Bad Time,2026-12-03,25:00,Dr. Lee,B4,", "time",
     "time: '25:00' is not a time of day; write 14:30 or 2:30 PM",
     "time: '…' is not a time of day; write 14:30 or 2:30 PM"),
    (5, "pars-defect-injection,,2026-12-03,9:00,Dr. Lee,B5,", "patient",
     "patient: is required", None),
    (7, "pars-defect-injektion,Bad Procedure,2026-12-03,9:00,Dr. Lee,B7,", "procedure",
     f"procedure: unknown procedure 'pars-defect-injektion'; known: {KNOWN_SETS}",
     f"procedure: unknown procedure '…'; known: {KNOWN_SETS}"),
    (8, "pars-defect-injection,Bad Medicine,2026-12-03,9:30,Dr. Lee,B8,Eliqis", "medication",
     SUGGESTION, SUGGESTION_REDACTED),
    (9, "pars-defect-injection,สมชาย,2026-12-03,10:00,Dr. Lee,B9,", "patient",
     "patient: the handout fonts cannot draw 'ส' (U+0E2A THAI CHARACTER SO SUA), "
     "'ม' (U+0E21 THAI CHARACTER MO MA), 'ช' (U+0E0A THAI CHARACTER CHO CHANG) and 2 more; "
     "they cover Latin, Greek, Cyrillic, Chinese, Korean and Arabic scripts",
     "patient: the handout fonts cannot draw '…', '…', '…' and 2 more; they cover Latin, "
     "Greek, Cyrillic, Chinese, Korean and Arabic scripts"),
    (10, "pars-defect-injection,Spring Forward,2026-03-08,2:30,Dr. Lee,B10,", "time",
     "time: 02:30 on 2026-03-08 does not exist in America/New_York: the clocks skip that "
     "hour; choose another time",
     "time: 02:30 on … does not exist in America/New_York: the clocks skip that "
     "hour; choose another time"),
]  # fmt: skip
GOOD_ROWS = {
    2: "pars-defect-injection,Good First,2026-12-03,8:00,Dr. Lee,G2,Eliquis",
    6: "pars-defect-decompression,Good Middle,2026-12-03,11:00,Dr. Lee,G6,",
    11: "pars-defect-injection,Good Last,2026-03-08,3:30,Dr. Lee,G11,Advil",
}


def mixed_list() -> str:
    rows = dict(GOOD_ROWS) | {row: text for row, text, *_ in BAD_ROWS}
    return lines(*(rows[n] for n in sorted(rows)), header=MEDICINES)


def start_desk(
    tmp: Path, site: Path = SITE, port: int = 0, **env: str
) -> tuple[subprocess.Popen, str]:
    """`pars-docs serve` on a free loopback port (or ``port``) with the test site, its private
    folder under ``tmp``; returns the process and the address it printed."""
    environment = {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1", **env}
    environment.pop("PARS_DOCS_SITE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "pars_docs", "serve", "--port", str(port), "--site", str(site)],
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    # Lines before the address (what the start tidied up) are kept on the process.
    process.before_address = []  # type: ignore[attr-defined]
    for _ in range(50):
        line = process.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if match or not line:
            break
        process.before_address.append(line)  # type: ignore[attr-defined]
    if not match:  # no server to leave running behind a failed test
        process.kill()
        process.communicate()
    assert match, process.before_address  # type: ignore[attr-defined]
    return process, match.group(0)


def render_text(handout) -> str:
    """A handout's text rendition (what ``handout.render("text")`` writes)."""
    from pars_docs.render.renditions import render_text

    return render_text(handout.documents)


def render_json(handout) -> str:
    """A handout's JSON timeline (what ``handout.render("json")`` writes)."""
    from pars_docs.render.renditions import render_json

    return render_json(handout.plan, handout.documents, handout.requested_language)


def render_ics(handout) -> bytes:
    """A handout's calendar (what ``handout.render("ics")`` writes)."""
    from pars_docs.render.ics import render_ics

    return render_ics(handout.plan)


FHIR_SERVER_DIR = Path(__file__).parent / "fhir_server"


class FhirServer:
    """A real FHIR server on loopback for one test: Medplum's FHIR router and in-memory
    repository behind tests/fhir_server/server.mjs (installed by `npm ci --prefix
    tests/fhir_server`, as .ci/run does). It dies with the test, or with its parent (its
    standard input closes)."""

    def __init__(self, tmp: Path, token: str | None = "test-token-1", transactions: bool = True):
        if not (FHIR_SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
            raise RuntimeError(
                "the FHIR server is not installed: npm ci --prefix tests/fhir_server"
            )
        args = ["node", str(FHIR_SERVER_DIR / "server.mjs"), "--port", "0"]
        self.token = token
        self.token_file: Path | None = None
        if token:
            self.token_file = tmp / "fhir-token"
            self.token_file.write_text(token + "\n")
            args += ["--token-file", str(self.token_file)]
        if not transactions:
            args.append("--no-transactions")
        self.process = subprocess.Popen(
            args,
            cwd=FHIR_SERVER_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"the FHIR server did not start: {line!r} {self.stderr()}")
        self.port = int(line.split()[1])
        self.root = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.root}/fhir/R4"

    def stderr(self) -> str:
        if self.process.poll() is None or not self.process.stderr:
            return ""
        return self.process.stderr.read()

    def _call(self, method: str, path: str, body=None):
        import urllib.request

        headers = {"Content-Type": "application/fhir+json", "X-Test-Harness": "1"}
        if self.token and not path.startswith("/__test/"):
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.root + path, data=data, headers=headers, method=method
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def put(self, resource: dict) -> dict:
        """Store ``resource`` under its own id (an update that creates)."""
        return self._call("PUT", f"/fhir/R4/{resource['resourceType']}/{resource['id']}", resource)

    def search(self, resource_type: str, query: str = "") -> list[dict]:
        bundle = self._call("GET", f"/fhir/R4/{resource_type}?{query}")
        return [e["resource"] for e in bundle.get("entry") or []]

    def faults(self, **faults) -> None:
        """The next requests fail: ``status=503, count=2[, retryAfter=0]``, or ``drop=1``
        (handled, then the connection closed with no answer)."""
        self._call("POST", "/__test/faults", faults)

    def reset(self) -> None:
        """Empty the server for the next test: its resources, faults and request log."""
        self._call("POST", "/__test/reset", {})

    def requests(self) -> list[dict]:
        """Every FHIR request the server saw: method, path, ifNoneExist, authorized, status."""
        return self._call("GET", "/__test/requests")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream:
                stream.close()
