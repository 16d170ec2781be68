"""Validation passes are remembered by content (pars_docs/startup_cache.py), never a problem."""

import shutil

import pytest

from pars_docs.errors import InstructionError
from pars_docs.load import library, medicines
from pars_docs.load.library import Library
from pars_docs.resources import instructions_dir

SET = "pars-defect-injection.yaml"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A clinic folder with a copy of the built-in set, and a cache of its own."""
    monkeypatch.setenv("PARS_DOCS_CACHE", str(tmp_path / "cache"))
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    shutil.copy(instructions_dir() / SET, clinic / SET)
    library._load_set_at.cache_clear()
    library._table.cache_clear()
    yield clinic
    library._load_set_at.cache_clear()
    library._table.cache_clear()


def load(folder):
    library._load_set_at.cache_clear()
    library._table.cache_clear()
    return Library(folder).get("pars-defect-injection")


def test_a_set_that_passed_is_not_checked_again(folder, monkeypatch):
    load(folder)
    calls = []
    monkeypatch.setattr(library, "schema_problems", lambda *a: calls.append(a) or [])
    monkeypatch.setattr(medicines, "schema_problems", lambda *a: calls.append(a) or [])
    assert load(folder).id == "pars-defect-injection"
    assert calls == []


def test_any_change_to_the_file_checks_it_again(folder):
    load(folder)
    path = folder / SET
    path.write_text(path.read_text().replace("version:", "versoin:", 1))
    with pytest.raises(InstructionError, match="versoin"):
        load(folder)


def test_a_file_with_a_problem_is_reported_every_time(folder):
    path = folder / SET
    path.write_text(path.read_text().replace("version:", "versoin:", 1))
    for _ in range(2):
        with pytest.raises(InstructionError, match="versoin"):
            load(folder)


def test_off_checks_every_time(folder, monkeypatch):
    monkeypatch.setenv("PARS_DOCS_CACHE", "off")
    load(folder)
    calls = []
    original = library.schema_problems
    monkeypatch.setattr(library, "schema_problems", lambda *a: calls.append(a) or original(*a))
    load(folder)
    assert len(calls) == 1


def test_fonts_come_back_from_the_cache_as_read_from_the_file(tmp_path, monkeypatch):
    from reportlab.pdfbase import ttfonts

    from pars_docs.render.pdf import fonts
    from pars_docs.resources import fonts_dir

    monkeypatch.setenv("PARS_DOCS_CACHE", str(tmp_path))
    path = fonts_dir() / "DejaVuSans-Bold.ttf"
    read = fonts._load("Test", path)
    assert len(list(tmp_path.glob("font-*"))) == 1

    def no_reading(*args, **kwargs):
        raise AssertionError("the font was read from its file again")

    monkeypatch.setattr(ttfonts.TTFontFile, "__init__", no_reading)
    kept = fonts._load("Test", path)
    assert kept.face is not read.face
    assert {k: v for k, v in vars(kept.face).items() if k != "_pdfScale"} == {
        k: v for k, v in vars(read.face).items() if k != "_pdfScale"
    }
    assert type(kept.face.name) is type(read.face.name)  # noqa: E721 (a bytes subclass)
    text = "Ana Díaz, Łukasz Żółć, Ελένη, Дмитрий: 100.4 °F"
    assert kept.stringWidth(text, 11) == read.stringWidth(text, 11)
    assert kept.face.makeSubset(list(range(32, 127))) == read.face.makeSubset(list(range(32, 127)))


def test_a_damaged_font_record_means_reading_the_file(tmp_path, monkeypatch):
    from pars_docs.render.pdf import fonts
    from pars_docs.resources import fonts_dir

    monkeypatch.setenv("PARS_DOCS_CACHE", str(tmp_path))
    path = fonts_dir() / "DejaVuSans.ttf"
    read = fonts._load("Test", path)
    (record,) = tmp_path.glob("font-*")
    record.write_bytes(record.read_bytes()[:1000])
    again = fonts._load("Test", path)
    assert again.face.charWidths == read.face.charWidths


def test_handouts_are_the_same_bytes_with_and_without_the_cache(tmp_path):
    import os
    import subprocess
    import sys

    args = [sys.executable, "-m", "pars_docs", "make", "pars-defect-injection"]
    args += ["--patient", "Zoë Ødegård", "--date", "2026-12-03", "--time", "8:00 AM"]
    args += ["--clinician", "Dr. Lee", "--medication", "Eliquis", "--as-of", "2026-11-20"]
    args += ["--timezone", "America/New_York"]  # a clinic's zone: this computer's may be UTC
    made = []
    for n, cache in enumerate(["off", tmp_path / "cache", tmp_path / "cache"]):
        out = tmp_path / f"{n}.pdf"
        env = {**os.environ, "PARS_DOCS_CACHE": str(cache), "SOURCE_DATE_EPOCH": "1790000000"}
        subprocess.run([*args, "-o", str(out)], env=env, check=True, capture_output=True)
        made.append(out.read_bytes())
    assert made[0] == made[1] == made[2]
    kinds = {p.name.split("-")[0] for p in (tmp_path / "cache").iterdir()}
    assert kinds >= {"font", "pass", "version", "key"}


def test_page_templates_and_date_formats_that_passed_are_not_checked_again(tmp_path, monkeypatch):
    from pars_docs.compose import composer as compose

    monkeypatch.setenv("PARS_DOCS_CACHE", str(tmp_path))
    calls = []
    real_formats, real_pages = compose._format_problems, compose.Templates.page_problems
    monkeypatch.setattr(
        compose, "_format_problems", lambda *a: calls.append("formats") or real_formats(*a)
    )
    monkeypatch.setattr(
        compose.Templates,
        "page_problems",
        lambda self: calls.append("pages") or real_pages(self),
    )
    compose.Templates()._check_pages()
    assert calls == ["formats", "pages"]
    compose.Templates()._check_pages()
    assert calls == ["formats", "pages"]  # both remembered
    monkeypatch.setenv("PARS_DOCS_CACHE", "off")
    compose.Templates()._check_pages()
    assert calls == ["formats", "pages", "formats", "pages"]
