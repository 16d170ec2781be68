"""Patient values never reach a log unless asked for (issue 25, item 5).

Every error path a row can take runs with values that hold quotes, apostrophes, newlines,
control characters and formula prefixes, each carrying a marker. Without ``--verbose`` no
marker may appear on standard error, in ``--errors json``, in either manifest format or on
the packet's index page; the desk's log never holds one. With ``--verbose`` the markers are
there, so the test shows the values did reach the messages that were redacted."""

from __future__ import annotations

import ast
import csv
import io
import json
import logging
import re
import time
from pathlib import Path

import pytest
from helpers import DATA, pdf_text, read_manifest

from pars_docs.cli import cli

GOOD = {
    "procedure": "pars-defect-injection",
    "patient": "Ana Test",
    "date": "2026-12-03",
    "time": "9:00",
    "clinician": "Dr. Sam Lee",
    "medications": "",
    "dob": "",
    "mrn": "",
    "sedation": "",
    "visit_id": "",
    "large_print": "",
    "language": "",
}

# The shapes a hostile value takes; {m} is the row's marker.
SHAPES = [
    "Robert 'Bobby' {m}",
    "{m}'s 'x",
    "'{m}'",
    '=HYPERLINK("{m}")',
    "+{m}",
    "{m}\nsecond line",
    "{m}\x07bell",
    "(1990 {m})",
]

# Fields whose bad value fails the row, and the bad values' form: each shape is put where a
# value of the field would be wrong.
FIELDS = {
    "procedure": "{v}",
    "date": "{v}",
    "time": "{v}",
    "dob": "{v}",
    "sedation": "{v}",
    "large_print": "{v}",
    "language": "{v}",
    "patient": "Ana\x00{v}",
    "clinician": "Dr \x1b{v}",
    "mrn": "{v}\x01",
}


def marker(index: int) -> str:
    return f"QZX{index:03d}Q"


def hostile_rows() -> tuple[str, dict[int, tuple[str, str]]]:
    """The list as CSV, and for each row number the field it breaks and its marker."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(GOOD), lineterminator="\n")
    writer.writeheader()
    expected = {}
    index = 0
    for field, form in FIELDS.items():
        for shape in SHAPES:
            index += 1
            value = form.format(v=shape.format(m=marker(index)))
            writer.writerow({**GOOD, field: value})
            expected[index + 1] = (field, marker(index))
    # A medicine the table does not know fails the row; the row after it is made, so that
    # there is a packet whose index lists every failed row.
    index += 1
    writer.writerow({**GOOD, "medications": f"Robert 'Bobby' {marker(index)}"})
    expected[index + 1] = ("medication", marker(index))
    writer.writerow(GOOD)
    return out.getvalue(), expected


MARKER = re.compile(r"QZX\d{3}Q")


@pytest.fixture(scope="module")
def hostile_list(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("hostile")
    text, expected = hostile_rows()
    path = folder / "list.csv"
    path.write_text(text, encoding="utf-8")
    return path, expected


@pytest.mark.parametrize("manifest_kind", ["csv", "jsonl"])
def test_no_value_reaches_a_log_without_verbose(batch, tmp_path, hostile_list, manifest_kind):
    source, expected = hostile_list
    manifest = tmp_path / f"manifest.{manifest_kind}"
    packet = tmp_path / "packet.pdf"
    for errors in ("text", "json"):
        result = batch(
            source,
            "--out-dir",
            tmp_path / f"out-{errors}",
            "--manifest",
            manifest,
            "--merge",
            packet,
            "--errors",
            errors,
        )
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.stderr
        leaks = {
            "standard error": MARKER.findall(result.stderr),
            "manifest": MARKER.findall(manifest.read_text(encoding="utf-8")),
            "packet index": MARKER.findall(pdf_text(packet)),
        }
        assert leaks == {"standard error": [], "manifest": [], "packet index": []}
        records = {r["row"]: r for r in read_manifest(manifest)}
        for row, (field, _) in expected.items():
            assert records[row]["status"] == "failed", (row, records[row])
            assert records[row]["field"] == field, (row, records[row])
            assert "--verbose shows it" not in records[row]["reason"], records[row]
        if errors == "json":
            reported = [json.loads(line) for line in result.stderr.splitlines() if "{" in line]
            assert {r["row"] for r in reported if r.get("status") == "failed"} == set(expected)


def test_verbose_shows_the_values_that_were_hidden(batch, tmp_path, hostile_list):
    source, expected = hostile_list
    manifest = tmp_path / "manifest.jsonl"
    result = batch(source, "--out-dir", tmp_path / "out", "--manifest", manifest, "--verbose")
    assert result.exit_code == 1
    shown = set(MARKER.findall(result.stderr + manifest.read_text(encoding="utf-8")))
    # A name's column with a control character is refused naming the character only.
    quoting = {m for field, m in expected.values() if field not in ("patient", "clinician", "mrn")}
    missing = quoting - shown
    assert not missing, sorted(missing)


def hl7_messages() -> tuple[str, list[str]]:
    """SIU^S12 messages, each with one hostile value where a date belongs (PID-7, TQ1-7),
    escaped as HL7 v2 escapes its delimiters."""
    template = (DATA / "hl7" / "siu-s12.hl7").read_text(encoding="utf-8")
    messages, markers = [], []
    for index, shape in enumerate(SHAPES):
        value = shape.format(m=marker(500 + index)).replace("\n", " ").replace("\x07", "")
        value = value.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
        markers.append(marker(500 + index))
        message = template.replace("MSG00001", f"MSG{index:05d}").replace("PL-1001", f"PL-{index}")
        if index % 2:
            message = message.replace("|19800517|", f"|{value}|")
        else:
            message = message.replace("TQ1|1||||||20301203080000-0500", f"TQ1|1||||||{value}")
            message = message.replace("^^30^20301203080000-0500", f"^^30^{value}")
            message = message.replace("A|20301203080000-0500", f"A|{value}")
        messages.append(message)
    return "".join(messages), markers


def test_no_value_from_an_hl7_feed_reaches_a_log(runner, tmp_path):
    text, markers = hl7_messages()
    source = tmp_path / "feed.hl7"
    source.write_text(text, encoding="utf-8")
    for verbose in ([], ["--verbose"]):
        manifest = tmp_path / "m.csv"
        args = ["batch", str(source), "--site", str(DATA / "site-ny.yaml")]
        args += ["--codes", str(DATA / "hl7" / "codes.yaml"), "--out-dir", str(tmp_path / "o")]
        result = runner.invoke(cli, args + ["--manifest", str(manifest), "-j", "1", *verbose])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.stderr
        logged = result.stderr + manifest.read_text(encoding="utf-8")
        assert len([r for r in read_manifest(manifest) if r["status"] == "failed"]) == len(markers)
        if verbose:
            assert set(MARKER.findall(logged)) == set(markers)
        else:
            assert MARKER.findall(logged) == [], logged


def test_no_value_from_a_fhir_bundle_reaches_a_log(runner, tmp_path):
    appointment = json.loads((DATA / "fhir" / "appointment-example.json").read_text())
    entries, markers = [], []
    for index, shape in enumerate(SHAPES):
        value = shape.format(m=marker(600 + index))
        markers.append(marker(600 + index))
        booking = json.loads(json.dumps(appointment))
        booking["id"] = f"hostile-{index}"
        booking["start"] = value
        entries.append({"resource": booking})
    source = tmp_path / "bundle.json"
    source.write_text(
        json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})
    )
    for verbose in ([], ["--verbose"]):
        manifest = tmp_path / "m.jsonl"
        args = ["batch", str(source), "--site", str(DATA / "site-ny.yaml")]
        args += ["--codes", str(DATA / "fhir" / "codes.yaml"), "--out-dir", str(tmp_path / "o")]
        result = runner.invoke(cli, args + ["--manifest", str(manifest), "-j", "1", *verbose])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.stderr
        logged = result.stderr + manifest.read_text(encoding="utf-8")
        if verbose:
            assert set(MARKER.findall(logged)) == set(markers)
        else:
            assert MARKER.findall(logged) == [], logged


def test_no_value_reaches_the_desks_log(tmp_path, hostile_list, caplog):
    from pars_docs import load_site
    from pars_docs.web.server import build

    caplog.set_level(logging.DEBUG)
    base = "http://127.0.0.1:8765"
    app = build(load_site(DATA / "site-ny.yaml"), "127.0.0.1", 8765, None, tmp_path, warm=False)
    client = app.test_client()
    source, expected = hostile_list
    page = client.get("/packet", base_url=base).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    data = {"csrf": csrf, "input": (io.BytesIO(source.read_bytes()), "list.csv")}
    response = client.post("/packet", base_url=base, data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    location = response.headers["Location"]
    for _ in range(600):
        status = client.get(location + "/status", base_url=base).json
        if status["state"] not in ("running", "packing"):
            break
        time.sleep(0.1)
    assert status["state"] == "done", status
    # The results page is the nurse's own, signed in: it names the rows' patients.
    assert "FAILED" in client.get(location, base_url=base).text
    manifest = client.get(location + "/manifest.csv", base_url=base).text
    packet = pdf_text(client.get(location + "/packet.pdf", base_url=base).data)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /packet" in logged
    leaks = {
        "log": MARKER.findall(logged),
        "manifest": MARKER.findall(manifest),
        "packet index": MARKER.findall(packet),
    }
    assert leaks == {"log": [], "manifest": [], "packet index": []}


PATIENT_FIELDS = sorted(
    {"patient", "dob", "mrn", "note", "medication", "medications", "clinician", "procedure"}
    | {"date", "time", "sedation", "visit_id", "large_print"}
)
ERRORS = {"ParsDocsError", "UsageError", "DataError", "VisitError", "InstructionError"}


def _called(call: ast.Call) -> str | None:
    function = call.func
    return function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)


def test_every_message_about_a_rows_field_is_built_with_its_values_apart():
    """Every error or row problem the code raises about a row's field builds its message
    with ``say`` (values apart) or ``plain`` (it quotes none), or gives ``redacted``: no
    message is searched for values afterwards."""
    from pars_docs.errors import PATIENT_FIELDS as fields

    assert sorted(fields) == PATIENT_FIELDS
    package = Path(__file__).parent.parent / "pars_docs"
    typed = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            if _called(node) in ERRORS and node.args and "redacted" not in keywords:
                field, message = keywords.get("field"), node.args[0]
            elif _called(node) == "problem" and len(node.args) == 2:
                field, message = node.args
            else:
                continue
            if not (isinstance(field, ast.Constant) and field.value in fields):
                continue
            built = isinstance(message, ast.Call) and _called(message) in ("say", "plain")
            if not built and not isinstance(message, ast.Name):
                typed.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    assert typed == []


def test_failed_rows_are_not_held_for_the_rest_of_the_run(tmp_path):
    """A run keeps no failed row once it is reported and written (a million failing rows
    grew a run to 688 MB); only a packet's index, which lists them, keeps them."""
    from pars_docs import load_site
    from pars_docs.batch.ledger import Record, Status
    from pars_docs.batch.options import Options
    from pars_docs.batch.settler import Settler
    from pars_docs.environment import Environment

    site = load_site(DATA / "site-ny.yaml")
    plain_run = Settler(Options(out_dir=tmp_path), site, env=Environment(stderr=io.StringIO()))
    for row in range(2, 5002):
        plain_run.settle(Record(row, Status.FAILED, field="date", reason="date: '…' is not a date"))
    assert plain_run.summary.rows == 5000
    assert plain_run.settled == {}
    indexed = Settler(
        Options(merge=tmp_path / "p.pdf", index=True), site, env=Environment(stderr=io.StringIO())
    )
    indexed.settle(Record(2, Status.FAILED, field="date", reason="date: '…' is not a date"))
    assert list(indexed.settled) == [2]
