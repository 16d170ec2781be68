"""`--skip-existing` keeps a text, JSON or calendar file only when it would be made the same
now (issue 25, item 3): a site that moved time zone, a changed clock or language, remakes."""

import pytest
from click.testing import CliRunner
from helpers import SITE, appointment, lines, write

from pars_docs.cli import cli

RENDITIONS = ["ics", "text", "json", "pdf"]


def run(source, site, out, rendition, *extra):
    args = ["batch", str(source), "--site", str(site), "--jobs", "1", "--out-dir", str(out)]
    args += ["--output-format", rendition, *extra]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("rendition", RENDITIONS)
@pytest.mark.parametrize(
    "change",
    [("timezone: America/New_York", "timezone: America/Chicago"), ("language: en", "language: es")],
    ids=["time zone", "language"],
)
def test_a_changed_site_remakes_every_rendition(tmp_path, rendition, change):
    source = write(tmp_path / "l.csv", lines(appointment("Ana Díaz", "2026-12-03 8:00", "A1")))
    out = tmp_path / "out"
    moved = write(tmp_path / "moved.yaml", SITE.read_text(encoding="utf-8").replace(*change))
    assert "1 written" in run(source, SITE, out, rendition)
    (made,) = out.glob(f"*.{'txt' if rendition == 'text' else rendition}")
    before = made.read_bytes()
    assert "1 skipped" in run(source, SITE, out, rendition, "--skip-existing")
    assert "1 written" in run(source, moved, out, rendition, "--skip-existing")
    if "language" in change[1] or rendition in ("ics", "json"):
        assert made.read_bytes() != before  # a text or PDF on the same clock reads the same
    if rendition == "ics" and "Chicago" in change[1]:
        assert b"TZID=America/Chicago" in made.read_bytes()
        assert b"America/New_York" not in made.read_bytes()
