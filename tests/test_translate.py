"""The translation workflow: a PO catalog out (``translate export``), edited with polib as a
translator's tool would, and back in (``translate import``); per-text staleness by the hash
of each English text; ``check`` on a translation named alone."""

from __future__ import annotations

import shutil

import polib
import pytest
from helpers import DATA

from pars_docs.cli import cli
from pars_docs.resources import instructions_dir

SITE = DATA / "site-ny.yaml"
SET = "pars-defect-injection"


@pytest.fixture
def clinic(tmp_path):
    """A site whose own folder holds copies of the built-in sets and translations."""
    folder = tmp_path / "sets"
    folder.mkdir()
    for path in instructions_dir().glob("*.yaml"):
        shutil.copy(path, folder)
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text() + "instructions_dir: sets\n")
    return site, folder


def export(runner, site, tmp_path, language="es"):
    fresh()
    out = tmp_path / f"{SET}.{language}.po"
    args = ["translate", "export", SET, "--language", language, "--site", str(site)]
    result = runner.invoke(cli, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def fresh():
    """Forget the sets loaded so far: each command runs in a new process in real use."""
    from pars_docs.load import library

    library._load_set_at.cache_clear()
    library._load_translation.cache_clear()
    library._medicine_words.cache_clear()


def entry(po, key):
    return next(e for e in po if e.msgctxt == key)


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def make_text(runner, site, tmp_path, language="es"):
    out = tmp_path / "h.txt"
    args = ["make", SET, "--patient", "A", "--date", "2026-12-03", "--time", "9:00"]
    args += ["--clinician", "B", "--site", str(site), "-o", str(out), "--format", "text"]
    result = runner.invoke(cli, [*args, "--language", language])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def test_export_protects_placeholders_and_explains_them(runner, clinic, tmp_path):
    site, _ = clinic
    po = polib.pofile(str(export(runner, site, tmp_path)))
    assert po.metadata["X-Pars-Docs-Set"] == SET and po.metadata["Language"] == "es"
    unit = entry(po, "timing.arrive.calendar.description")
    assert "{{" not in unit.msgid and "{1}" in unit.msgid and "{4}" in unit.msgid
    assert "python-brace-format" in unit.flags
    assert "{1} = {{ moments.arrive | time }}: the moment 'arrive' of the timeline" in unit.comment
    assert "{3} = {% if visit.sedation %}" in unit.comment
    assert "hash: " in unit.comment
    assert unit.msgstr.startswith("Llegue a más tardar a esta hora: {1}.")
    # The built-in Spanish is complete and current: nothing to do.
    assert po.fuzzy_entries() == [] and po.untranslated_entries() == []
    assert "medicines.warfarin.note" in {e.msgctxt for e in po}


def test_export_change_one_target_import_make_shows_it(runner, clinic, tmp_path):
    site, folder = clinic
    path = export(runner, site, tmp_path)
    po = polib.pofile(str(path))
    unit = entry(po, "before.bring.items[3]")
    assert unit.msgstr == "Esta hoja de instrucciones"
    unit.msgstr = "Esta hoja, impresa o en su teléfono"
    po.save(str(path))
    result = runner.invoke(cli, ["translate", "import", str(path), "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert f"ok  {SET} 1.2.0 es; draft translation" in result.output
    assert "Esta hoja, impresa o en su teléfono" in (folder / f"{SET}.es.yaml").read_text()
    assert "Esta hoja, impresa o en su teléfono" in make_text(runner, site, tmp_path)
    # Exported again, the import changed nothing else.
    again = polib.pofile(str(export(runner, site, tmp_path)))
    assert again.fuzzy_entries() == [] and again.untranslated_entries() == []
    assert entry(again, "before.bring.items[3]").msgstr == "Esta hoja, impresa o en su teléfono"


def test_one_english_string_changed_marks_exactly_one_unit(runner, clinic, tmp_path):
    site, folder = clinic
    english = folder / f"{SET}.yaml"
    edit(english, 'version: "1.2.0"', 'version: "1.3.0"')
    edit(english, "      - This handout\n", "      - This handout, printed or on your phone\n")
    po = polib.pofile(str(export(runner, site, tmp_path)))
    assert [e.msgctxt for e in po.fuzzy_entries()] == ["before.bring.items[3]"]
    assert entry(po, "before.bring.items[3]").msgstr == "Esta hoja de instrucciones"
    # check names that text only, whatever the version says.
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    stale = [line for line in result.output.splitlines() if "stale" in line]
    # One line for each (stamped) translation of the set, each naming the one text.
    assert len(stale) == len(list(folder.glob(f"{SET}.*.yaml"))) >= 3, stale
    assert all("before.bring.items[3]: stale: the English text has changed" in s for s in stale)


def test_english_wording_changed_without_a_new_version_is_an_error(runner, clinic):
    site, folder = clinic
    english = folder / f"{SET}.yaml"
    edit(english, "      - This handout\n", "      - This handout, printed or on your phone\n")
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    assert (
        f"{english}: before.bring.items[3]: the English wording changed but the set's version "
        "is still 1.2.0"
    ) in result.output


def test_an_import_of_a_catalog_from_older_english_is_refused(runner, clinic, tmp_path):
    site, folder = clinic
    path = export(runner, site, tmp_path)
    edit(folder / f"{SET}.yaml", 'version: "1.2.0"', 'version: "1.3.0"')
    edit(folder / f"{SET}.yaml", "      - This handout\n", "      - This paper\n")
    before = (folder / f"{SET}.es.yaml").read_text()
    fresh()
    result = runner.invoke(cli, ["translate", "import", str(path), "--site", str(site)])
    assert result.exit_code == 1
    assert "before.bring.items[3]: the English text changed after this catalog was exported" in (
        result.output
    )
    assert (folder / f"{SET}.es.yaml").read_text() == before  # nothing written


def test_a_broken_placeholder_is_refused_naming_the_unit(runner, clinic, tmp_path):
    site, folder = clinic
    path = export(runner, site, tmp_path)
    po = polib.pofile(str(path))
    unit = entry(po, "timing.arrive.key")
    unit.msgstr = "Llegue. Hora de inicio: {7}"
    po.save(str(path))
    before = (folder / f"{SET}.es.yaml").read_text()
    result = runner.invoke(cli, ["translate", "import", str(path), "--site", str(site)])
    assert result.exit_code == 1
    assert "timing.arrive.key: the placeholder {7} is not in the English text (it has {1})" in (
        result.output
    )
    assert (folder / f"{SET}.es.yaml").read_text() == before


def test_a_dropped_placeholder_is_a_check_error_after_import(runner, clinic, tmp_path):
    site, _ = clinic
    path = export(runner, site, tmp_path)
    po = polib.pofile(str(path))
    entry(po, "timing.arrive.key").msgstr = "Llegue temprano."
    po.save(str(path))
    result = runner.invoke(cli, ["translate", "import", str(path), "--site", str(site)])
    assert result.exit_code == 1
    assert "the placeholder {{ moments.start | on_the_day }} of the English is missing" in (
        result.output
    )


def test_a_new_language_from_an_empty_catalog(runner, clinic, tmp_path):
    site, folder = clinic
    po = polib.pofile(str(export(runner, site, tmp_path, language="it")))
    assert po.metadata["X-Pars-Docs-Review"] == "draft"
    names = {e.msgctxt for e in po.untranslated_entries()}
    assert "title" in names and "medicines.warfarin.note" in names
    assert entry(po, "medicines.warfarin.name").msgstr == "warfarin"  # same unless changed


def test_check_a_translation_named_alone_finds_its_english_beside_it(runner, tmp_path):
    folder = tmp_path / "clinic"
    folder.mkdir()
    for name in (f"{SET}.yaml", f"{SET}.es.yaml"):
        shutil.copy(instructions_dir() / name, folder / name.replace(SET, "my-pars"))
    edit(folder / "my-pars.yaml", f"id: {SET}", "id: my-pars")
    edit(folder / "my-pars.es.yaml", f"id: {SET}", "id: my-pars")
    result = runner.invoke(cli, ["check", str(folder / "my-pars.es.yaml")])
    assert result.exit_code == 0, result.output
    assert "ok  my-pars 1.2.0 es; draft translation" in result.output
    result = runner.invoke(
        cli, ["check", str(folder / "my-pars.yaml"), str(folder / "my-pars.es.yaml")]
    )
    assert result.exit_code == 0, result.output


def test_stamp_writes_the_hashes_of_a_current_translation(runner, clinic):
    site, folder = clinic
    path = folder / f"{SET}.es.yaml"
    stamped = path.read_text(encoding="utf-8")
    assert "english_hashes:" in stamped  # every built-in translation is stamped
    path.write_text(stamped[: stamped.index("\n# The English each text")] + "\n")
    result = runner.invoke(cli, ["translate", "stamp", str(path), "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == stamped
    result = runner.invoke(cli, ["translate", "stamp", str(path), "--site", str(site)])
    assert "already stamped" in result.output
    edit(folder / f"{SET}.yaml", 'version: "1.2.0"', 'version: "1.3.0"')
    path.write_text(stamped[: stamped.index("\n# The English each text")] + "\n")
    fresh()
    result = runner.invoke(cli, ["translate", "stamp", str(path), "--site", str(site)])
    assert result.exit_code == 1
    assert "made from English version 1.2.0, not 1.3.0" in result.output


@pytest.mark.parametrize("language", ["zh-Hans", "ko", "ar"])
def test_a_translation_that_reorders_placeholders_comes_back_unchanged(
    runner, clinic, tmp_path, language
):
    # Chinese says "stop {label} {days} days before" as "{days} days before … stop {label}": the
    # catalog numbers each placeholder as the English does, so an import puts each back where
    # the translator put it.
    import yaml

    site, folder = clinic
    path = folder / f"{SET}.{language}.yaml"
    before = yaml.safe_load(path.read_text(encoding="utf-8"))
    po = export(runner, site, tmp_path, language)
    if language == "zh-Hans":
        late = entry(polib.pofile(str(po)), "before.medicines.late")
        assert late.msgid.startswith("You needed to stop {1} {2} days")
        assert late.msgstr.startswith("您需要在注射前{2}天停用{1}。")
    result = runner.invoke(cli, ["translate", "import", str(po), "--site", str(site)])
    assert result.exit_code == 0, result.output
    after = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert after == before
