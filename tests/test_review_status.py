"""Review status that travels: a translation says whether a qualified reviewer approved it,
who and when, or a site attests its own review of a language; list, check, the desk's
language list and the handout show it."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from helpers import DATA

from pars_docs.cli import cli
from pars_docs.load import library
from pars_docs.load.site import load_site
from pars_docs.resources import instructions_dir
from pars_docs.web.server import build

SITE = DATA / "site-ny.yaml"
SET = "pars-defect-injection"
ATTESTED = (
    'translation_reviews:\n  es: {reviewer: "Ana Ruiz, RN, CMI-Spanish", date: "2026-12-01"}\n'
)


@pytest.fixture
def attesting(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text() + ATTESTED)
    return site


def make_text(runner, site, tmp_path, language):
    out = tmp_path / f"h.{language}.txt"
    args = ["make", SET, "--patient", "A", "--date", "2026-12-03", "--time", "9:00"]
    args += ["--clinician", "B", "--site", str(site), "-o", str(out), "--format", "text"]
    result = runner.invoke(cli, [*args, "--language", language])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8"), result.output


def test_a_site_attests_its_review_of_a_language(runner, attesting, tmp_path):
    result = runner.invoke(cli, ["check", "--site", str(attesting)])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if f"({SET}.es.yaml)" in x)
    assert "translation the clinic's review: Ana Ruiz, RN, CMI-Spanish, 2026-12-01" in line
    line = next(x for x in result.output.splitlines() if f"({SET}.vi.yaml)" in x)
    assert "draft translation, not yet reviewed" in line
    assert "ok  medicine words es (reviewed by the clinic)" in result.output

    rows = json.loads(runner.invoke(cli, ["list", "--json", "--site", str(attesting)]).output)
    row = next(r for r in rows if r["id"] == SET)
    assert row["reviews"]["es"] == {
        "status": "reviewed",
        "reviewer": "Ana Ruiz, RN, CMI-Spanish",
        "date": "2026-12-01",
        "by": "site",
    }
    assert row["reviews"]["vi"]["status"] == "draft"
    plain = runner.invoke(cli, ["list", "--site", str(attesting)]).output
    line = next(x for x in plain.splitlines() if f" {SET} " in x)
    assert ", es reviewed 2026-12-01, " in line and ", vi draft" in line and "ar draft" in line
    assert "ht draft" in line and "tl draft" in line

    spanish, said = make_text(runner, attesting, tmp_path, "es")
    assert "Borrador, sin revisar" not in spanish and "draft" not in said
    assert "traducción revisada" in " ".join(spanish.split())  # the footer
    vietnamese, said = make_text(runner, attesting, tmp_path, "vi")
    assert "Bản nháp, chưa được duyệt" in vietnamese and "is a draft" in said


def test_without_a_review_every_translation_stays_a_draft(runner, tmp_path):
    plain = runner.invoke(cli, ["list", "--site", str(SITE)]).output
    line = next(x for x in plain.splitlines() if f" {SET} " in x)
    assert ", es draft, " in line and ", vi draft" in line and " en, " in line
    spanish, said = make_text(runner, SITE, tmp_path, "es")
    assert "Borrador, sin revisar" in spanish and "is a draft" in said


def test_a_translation_reviewed_in_its_file_names_who_and_when(runner, tmp_path):
    folder = tmp_path / "sets"
    folder.mkdir()
    for path in instructions_dir().glob("*.yaml"):
        shutil.copy(path, folder)
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text() + "instructions_dir: sets\n")
    path = folder / f"{SET}.es.yaml"
    text = path.read_text(encoding="utf-8")
    reviewed = '  review: {status: reviewed, reviewer: "Luis Gómez, MD", date: "2026-11-30"}'
    path.write_text(text.replace("  review: {status: draft}", reviewed, 1), encoding="utf-8")
    result = runner.invoke(cli, ["check", str(path), "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert "translation reviewed: Luis Gómez, MD, 2026-11-30" in result.output
    plain = runner.invoke(cli, ["list", "--site", str(site)]).output
    line = next(x for x in plain.splitlines() if f" {SET} " in x)
    assert ", es reviewed 2026-11-30, " in line and ", vi draft" in line
    # Reviewed without a reviewer or day is refused.
    path.write_text(text.replace("  review: {status: draft}", "  review: {status: reviewed}", 1))
    library._load_translation.cache_clear()  # each command is a new process in real use
    result = runner.invoke(cli, ["check", str(path), "--site", str(site)])
    assert result.exit_code == 1
    assert "a reviewed translation names reviewer and date" in result.output


def test_a_bad_attestation_is_a_site_error(runner, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text() + 'translation_reviews:\n  es: {reviewer: "Ana"}\n')
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    assert "translation_reviews" in result.output and "date" in result.output


def test_the_desk_language_list_shows_the_review(attesting, tmp_path):
    app = build(load_site(attesting), "127.0.0.1", 8765, None, tmp_path, warm=False)
    page = app.test_client().get("/", base_url="http://127.0.0.1:8765").text
    options = re.findall(r'<option value="(es|vi)"[^>]*>([^<]*)</option>', page)
    assert options == [
        ("es", "Spanish (español): reviewed by the clinic"),
        ("vi", "Vietnamese (Tiếng Việt): draft"),
    ]
