"""The corpus of hostile input in tests/data/hostile/: each case a file or folder, its
expectation in cases.yaml. Then the cases too large to keep as files, made here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from helpers import DATA

from pars_docs.cli import cli

HOSTILE = DATA / "hostile"
CASES = yaml.safe_load((HOSTILE / "cases.yaml").read_text(encoding="utf-8"))
SUMMARY = re.compile(r"(\d+) rows?: (\d+) written, (\d+) failed(?:, (\d+) duplicates?)?")


def run(args: list[str], out: Path) -> tuple[int, str]:
    """The command's exit status and everything it printed (errors and output together)."""
    filled = [a.replace("{here}", str(HOSTILE)).replace("{out}", str(out)) for a in args]
    result = CliRunner().invoke(cli, filled)
    # Anything but an exit (a ParsDocsError reported, a usage error) is a crash.
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hostile_case(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a template payload would leave its mark here
    code, output = run(case["args"], tmp_path)
    assert "Traceback" not in output
    assert code == case["exit"], output
    for text in case.get("says", []):
        assert text in output, output
    # A manifest is a log too: it holds no more than standard error does.
    logs = [output] + [p.read_text(encoding="utf-8") for p in tmp_path.glob("*.jsonl")]
    for text in case.get("never", []):
        assert not any(text in log for log in logs), logs
    for name in case.get("absent", []):
        assert not (tmp_path / name).exists()
    for folder, text in case.get("file_says", {}).items():
        files = list(Path(folder.replace("{out}", str(tmp_path))).iterdir())
        assert any(text in f.read_text(encoding="utf-8") for f in files)
    summary = SUMMARY.search(output)
    if summary:  # every input row is accounted for: made, failed or a duplicate
        total, *parts = (int(n or 0) for n in summary.groups())
        assert total == sum(parts), output


def test_every_file_of_the_corpus_has_a_case():
    named = {
        Path(arg.replace("{here}/", "")).parts[0]
        for case in CASES
        for arg in case["args"]
        if arg.startswith("{here}/")
    }
    kept = {path.name for path in HOSTILE.iterdir()} - {"cases.yaml"}
    assert kept == named


# Too large to keep as files -------------------------------------------------------------------


def test_a_20_megabyte_clinic_name_is_refused_at_once(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text("clinic:\n  name: " + "x" * 20_000_000 + "\ntimezone: America/Chicago\n")
    code, output = run(["check", "--site", str(site)], tmp_path)
    assert code == 1
    assert output == f"pars-docs: error: {site}: over 1 MB; not a settings file\n"


def test_a_clinic_name_over_its_limit(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text("clinic:\n  name: " + "x" * 5000 + "\ntimezone: America/Chicago\n")
    code, output = run(["check", "--site", str(site)], tmp_path)
    assert code == 1
    assert "clinic.name: must be at most 200 characters long" in output
    assert "xxxx" not in output


def test_a_csv_value_over_the_csv_modules_limit_fails_its_row(tmp_path):
    source = tmp_path / "list.csv"
    source.write_text(
        "procedure,patient,date,time,clinician\n"
        f"pars-defect-injection,{'A' * 140_000},2026-12-03,8:00,Dr. Lee\n"
        "pars-defect-injection,Good Row,2026-12-03,9:00,Dr. Lee\n",
        encoding="utf-8",
    )
    code, output = run(
        ["batch", str(source), "--out-dir", str(tmp_path / "out"), "--output-format", "text"],
        tmp_path,
    )
    assert code == 1
    assert "row 2: a value is over 131,072 characters long" in output
    assert "2 rows: 1 written, 1 failed" in output


def test_an_unclosed_quote_with_much_left_in_the_file(tmp_path):
    # Rows that fail at once (no such procedure), so nothing is rendered.
    rows = [f"no-such-procedure,Person {n},2026-12-03,9:00,Dr. Lee" for n in range(4000)]
    source = tmp_path / "list.csv"
    source.write_text(
        "procedure,patient,date,time,clinician\n"
        'pars-defect-injection,"Open Quote,2026-12-03,8:00,Dr. Lee\n' + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    code, output = run(["batch", str(source), "--out-dir", str(tmp_path / "out")], tmp_path)
    assert code == 1
    assert "row 2: a value is over 131,072 characters long" in output
    total, *parts = (int(n or 0) for n in SUMMARY.search(output).groups())
    assert total == 4001 == sum(parts)


def test_a_timing_value_that_would_overflow(tmp_path):
    built_in = Path(__file__).parents[1] / "instructions" / "pars-defect-injection.yaml"
    text = built_in.read_text(encoding="utf-8")
    changed = re.sub(r"activity_end:\n    hours: \d+", "activity_end:\n    hours: 1.0e+300", text)
    assert changed != text
    path = tmp_path / "pars-defect-injection.yaml"
    path.write_text(changed, encoding="utf-8")
    code, output = run(["check", str(path)], tmp_path)
    assert code == 1
    assert "timing.activity_end.hours: must be at most 8760" in output


def test_an_unreadable_input_is_one_line(tmp_path, monkeypatch):
    source = tmp_path / "list.csv"
    source.write_text("procedure,patient,date,time,clinician\n", encoding="utf-8")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    from pars_docs.read import rows

    monkeypatch.setattr(rows.Source, "open_binary", refuse)
    code, output = run(["batch", str(source), "--out-dir", str(tmp_path / "o")], tmp_path)
    assert code == 1
    assert output.endswith(f"pars-docs: error: {source}: cannot read (Permission denied)\n")


def test_jobs_are_capped_at_the_cores():
    from pars_docs.batch.options import Options, max_jobs

    assert Options(jobs=128).workers == max_jobs() <= (os.cpu_count() or 1)
    assert Options(jobs=1).workers == 1


@pytest.mark.parametrize("zone", ["/etc/passwd", ":/etc/hostname", "/"])
def test_tz_naming_a_file_that_is_not_a_zone(zone):
    """Babel reads TZ when it is imported: even --version used to end in a traceback."""
    env = dict(os.environ, TZ=zone)
    done = subprocess.run(
        [sys.executable, "-m", "pars_docs", "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith("pars-docs, version")


def test_a_file_read_at_once_is_bounded(tmp_path, monkeypatch):
    from pars_docs.read import rows

    monkeypatch.setattr(rows, "MAX_WHOLE_BYTES", 1000)
    bundle = HOSTILE / "fhir-resourcetype-after-4kb.json"
    args = ["batch", str(bundle), "--out-dir", str(tmp_path / "o"), "--timezone", "UTC"]
    code, output = run(args, tmp_path)
    assert code == 1
    assert "more than one read at once may be; split it" in output


def test_standard_input_is_detected_and_bounded_like_a_file(tmp_path, monkeypatch):
    from pars_docs.read import rows

    bundle = (HOSTILE / "fhir-resourcetype-after-4kb.json").read_bytes()
    args = ["batch", "-", "--out-dir", str(tmp_path / "o"), "--timezone", "UTC"]
    result = CliRunner().invoke(cli, args, input=bundle)
    assert result.exit_code == 1
    assert "standard input: holds no Appointment" in result.output  # read as FHIR
    monkeypatch.setattr(rows, "MAX_WHOLE_BYTES", 1000)
    result = CliRunner().invoke(cli, args, input=bundle)
    assert result.exit_code == 1
    assert "more than one read at once may be; split it" in result.output
