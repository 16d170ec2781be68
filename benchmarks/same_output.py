"""Do two installed revisions of pars-docs make the same bytes?

Makes one matrix of handouts on each interpreter given and compares the files byte for byte:
both built-in sets in English, Spanish and Vietnamese, regular and large print, with and
without sedation (where a set asks), one language alone and bilingual (English after), each
as PDF, text, the JSON timeline and the calendar; a FHIR DocumentReference and a text handout
from ``make``; and a small batch (files in a folder, a merged packet with an index, the
manifest, the folder's record) from an appointment list; a handout from a FHIR Appointment
and from an HL7 v2 booking sent twice (S12, S13), and a batch from a FHIR Bundle. Everything
runs under ``SOURCE_DATE_EPOCH`` with a fixed "now" and a site profile in New York, each
revision with its own empty start-up cache, through the Python API and the ``pars-docs``
command line that both revisions share.

    python benchmarks/same_output.py OLD_PYTHON NEW_PYTHON

Each PYTHON is the interpreter of an environment where one revision is installed, e.g.::

    git archive eb1fb23 | tar -x -C /tmp/old && python -m venv /tmp/venv-old
    /tmp/venv-old/bin/pip install -c .ci/constraints.txt /tmp/old
    python benchmarks/same_output.py /tmp/venv-old/bin/python .venv/bin/python

Exit status 0 when every file is the same, 1 (naming each difference) otherwise.
"""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

EPOCH = "1780000000"  # 2026-05-28: every visit below is after it
AS_OF = "2026-11-01T09:00:00"
SETS = ("pars-defect-injection", "pars-defect-decompression")
LANGUAGES = ("en", "es", "vi")
RENDITIONS = ("pdf", "text", "json", "ics")
STATE = ".pars-docs-state"  # the output folder's own record (batch/folder.py)
SITE = """\
clinic:
  name: Riverside Spine & Pain <Center>
  phone: (555) 010-2000
  after_hours_phone: (555) 010-2999
  address: |
    12 Harbor Street
    Springfield, NY 10001
timezone: America/New_York
paper: letter
language: en
"""
PACKET_CSV = """\
patient,date,time,procedure,clinician,mrn,language,sedation,large_print,medications
Ana Díaz,2026-12-03,8:00 AM,pars-defect-injection,Dr. Lee,A-100,es,yes,,warfarin
Bảo Nguyễn,2026-12-03,9:30 AM,pars-defect-decompression,Dr. Lee,A-101,vi,,yes,
Sam Carter,2026-12-04,7:15 AM,pars-defect-injection,Dr. Patel,A-102,en,,,aspirin; metformin
"""


def make_all(out: Path) -> None:
    """Make the matrix into ``out`` with the pars-docs this interpreter has installed."""
    import datetime

    from pars_docs import make_handout

    as_of = datetime.datetime.fromisoformat(AS_OF)
    for procedure in SETS:
        for language in LANGUAGES:
            for large_print in (False, True):
                # Decompression is always done with sedation: only the injection asks.
                for sedation in (False, True) if procedure == SETS[0] else (None,):
                    for also in (None, "en") if language != "en" else (None,):
                        handout = make_handout(
                            procedure,
                            "Ana Díaz-Nguyễn",
                            "2026-12-03",
                            "8:00 AM",
                            "Dr. Lee",
                            dob="1980-04-05",
                            mrn="A-100",
                            sedation=sedation,
                            large_print=large_print,
                            medications=["warfarin", "ibuprofen"],
                            note="Bring your brace.",
                            visit_id="appt-1",
                            language=language,
                            also_language=also,
                            as_of=as_of,
                        )
                        name = f"{procedure}_{language}{'+' + also if also else ''}"
                        name += f"_{'large' if large_print else 'regular'}"
                        name += {None: "", False: "_awake", True: "_sedation"}[sedation]
                        for rendition in RENDITIONS:
                            (out / f"{name}.{rendition}").write_bytes(handout.render(rendition))
    for procedure in SETS:  # the week clocks spring forward in New York
        handout = make_handout(
            procedure, "Sam Carter", "2027-03-15", "7:00 AM", "Dr. Patel",
            medications=["clopidogrel"], visit_id="appt-2", as_of=as_of,
        )  # fmt: skip
        for rendition in RENDITIONS:
            (out / f"{procedure}_dst.{rendition}").write_bytes(handout.render(rendition))
    command = [sys.executable, "-m", "pars_docs"]
    visit = ["--patient", "Sam Carter", "--date", "2026-12-04", "--time", "7:15 AM"]
    visit += ["--clinician", "Dr. Patel", "--mrn", "A-102", "--as-of", AS_OF]
    subprocess.run(
        [*command, "make", "pars-defect-injection", *visit, "--emit", "fhir", "-o",
         str(out / "make.fhir.json")],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [*command, "make", "pars-defect-decompression", *visit, "--large-print", "--format",
         "text", "-o", str(out / "make.txt")],
        check=True,
    )  # fmt: skip
    # Appointments from a record system, through the front door: one FHIR Appointment and one
    # booking sent as an HL7 v2 S12 and its S13 (the newest revision is made), and a batch
    # from a FHIR Bundle.
    examples = Path(__file__).resolve().parent.parent / "docs" / "examples"
    codes = ["--codes", str(examples / "codes.yaml"), "--as-of", AS_OF]
    for name, feed in (("fhir-one", "one-appointment.json"), ("hl7-one", "siu-booking.hl7")):
        subprocess.run(
            [*command, "make", "--fhir", str(examples / feed), *codes, "-o",
             str(out / f"{name}.pdf")],
            check=True,
        )  # fmt: skip
    subprocess.run(
        [*command, "batch", str(examples / "nightly-bundle.json"), "--codes",
         str(examples / "codes.yaml"), "--as-of", AS_OF, "--out-dir", "fhir-batch",
         "--manifest", "fhir-manifest.jsonl", "--jobs", "1", "--no-progress"],
        check=False,  # a row of the example may fail on purpose; its record is compared
        cwd=out,
    )  # fmt: skip
    rows = out.parent / "rows.csv"
    rows.write_text(PACKET_CSV, encoding="utf-8")
    # Relative names, as the manifest records them.
    subprocess.run(
        [*command, "batch", str(rows), "--out-dir", "batch", "--merge", "packet.pdf", "--index",
         "--duplex", "--manifest", "manifest.jsonl", "--jobs", "1", "--no-progress"],
        check=True,
        cwd=out,
    )  # fmt: skip


def run(python: str, work: Path) -> Path:
    out = work / "out"
    out.mkdir(parents=True)
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": EPOCH,
        "PARS_DOCS_CACHE": str(work / "cache"),
        "TZ": "UTC",
    }
    (work / "site.yaml").write_text(SITE, encoding="utf-8")
    env["PARS_DOCS_SITE"] = str(work / "site.yaml")
    # Run from the work folder so that neither checkout is on the import path.
    subprocess.run([python, str(Path(__file__).resolve()), "--make", str(out)], check=True,
                   cwd=work, env=env)  # fmt: skip
    return out


def _state(path: Path) -> list[tuple[str, str]]:
    """The files and SHA-256 sums an output folder's record holds; its key is random, and
    with it every keyed hash."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [(line["file"], line["sha256"]) for line in lines if "file" in line]


def compare(old: Path, new: Path) -> list[str]:
    differences = []
    names = sorted({p.relative_to(old) for p in old.rglob("*") if p.is_file()}
                   | {p.relative_to(new) for p in new.rglob("*") if p.is_file()})  # fmt: skip
    for name in names:
        a, b = old / name, new / name
        if not a.exists() or not b.exists():
            differences.append(f"{name}: only in {'new' if b.exists() else 'old'}")
        elif name.name == STATE:
            if _state(a) != _state(b):
                differences.append(f"{name}: records other files")
        elif not filecmp.cmp(a, b, shallow=False):
            differences.append(f"{name}: differs")
    print(f"{len(names)} files compared, {len(differences)} differ")
    return differences


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--make":
        make_all(Path(argv[1]))
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        old = run(argv[0], Path(folder) / "old")
        new = run(argv[1], Path(folder) / "new")
        differences = compare(old, new)
        if os.environ.get("KEEP"):
            import shutil

            shutil.copytree(folder, os.environ["KEEP"], dirs_exist_ok=True)
    for line in differences:
        print(line)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
