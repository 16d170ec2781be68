import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from pars_docs.cli import cli

DATA = Path(__file__).parent / "data"
# "Now" for every test: 2026-01-01 00:00 UTC, before every visit the tests make, so a handout
# never turns "too late" as the real calendar moves on. Tests of "now" set their own.
FIXED_NOW = "1767225600"


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_NOW)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def site_file():
    return DATA / "site-ny.yaml"


@pytest.fixture
def make(runner, site_file, tmp_path):
    """Run `pars-docs make` with sensible defaults; returns (result, pdf path)."""

    def run(
        *extra,
        procedure="pars-defect-injection",
        patient="Ana Díaz",
        date="2026-12-03",
        time="8:00 AM",
        clinician="Dr. Sam Lee",
        site=site_file,
        out=None,
    ):
        out = out or tmp_path / "handout.pdf"
        args = [
            "make",
            procedure,
            "--patient",
            patient,
            "--date",
            date,
            "--time",
            time,
            "--clinician",
            clinician,
            "-o",
            str(out),
        ]
        if site:
            args += ["--site", str(site)]
        result = runner.invoke(cli, args + list(extra))
        return result, out

    return run


def pdf_text(data: bytes | Path) -> str:
    if isinstance(data, Path):
        data = data.read_bytes()
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    """Text with all runs of whitespace made single spaces, for phrase checks."""
    return " ".join(text.split())
