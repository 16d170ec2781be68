"""Validation passes are remembered by content (pars_docs/checked.py), never a problem."""

import shutil

import pytest

from pars_docs import library, medicines
from pars_docs.errors import InstructionError
from pars_docs.library import Library
from pars_docs.resources import instructions_dir

SET = "pars-defect-injection.yaml"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A clinic folder with a copy of the built-in set, and a cache of its own."""
    monkeypatch.setenv("PARS_DOCS_CACHE", str(tmp_path / "cache"))
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    shutil.copy(instructions_dir() / SET, clinic / SET)
    library._load_set.cache_clear()
    library._table.cache_clear()
    yield clinic
    library._load_set.cache_clear()
    library._table.cache_clear()


def load(folder):
    library._load_set.cache_clear()
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
