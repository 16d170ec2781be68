"""A clinic's changes to a built-in set without a copy (`extends:`): merged and checked like
any set, listed by `check`, and translated only where the clinic wrote new words."""

import json
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from helpers import DATA, pdf_text, squash

from pars_docs.cli import cli
from pars_docs.load.library import Library

ROOT = Path(__file__).resolve().parent.parent
CLINIC = ROOT / "docs" / "examples" / "clinic"
VISIT = [
    "--patient",
    "Ana Díaz",
    "--date",
    "2026-12-03",
    "--time",
    "9:00 AM",
    "--clinician",
    "Dr. Lee",
    "--sedation",
]
BUILT_IN = yaml.safe_load((ROOT / "instructions" / "pars-defect-injection.yaml").read_text())
HEADER = f"""\
format: 2
id: pars-defect-injection
extends: {{set: pars-defect-injection, version: "{BUILT_IN["version"]}"}}
version: "1.0.0"
reviewed: "2026-12-07"
"""
# The clinic's own fact, added to the built-in clinic-policy source.
POLICY = """\
sources:
  - id: clinic-policy
    add_facts: Our clinic's own choice, no solid food for 8 hours before a shot with sedation.
"""


@pytest.fixture
def clinic(tmp_path):
    """A clinic folder of its own: write(name, text) puts a file in it; site is its profile."""
    folder = tmp_path / "instructions"
    folder.mkdir()
    site = tmp_path / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8") + "instructions_dir: instructions\n",
        encoding="utf-8",
    )

    def write(name: str, text: str) -> Path:
        path = folder / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    write.site = site
    write.folder = folder
    return write


def run(runner, *args, site):
    return runner.invoke(cli, [*args, "--site", str(site)])


def check_lines(runner, site) -> tuple[int, list[str], str]:
    result = runner.invoke(cli, ["check", "--site", str(site)])
    return result.exit_code, result.stdout.splitlines(), result.stderr


# -- the example clinic --------------------------------------------------------------------


def test_the_example_clinic_lists_its_changes_and_the_words_to_translate(runner):
    code, lines, errors = check_lines(runner, CLINIC / "site.yaml")
    assert code == 0, errors
    at = next(i for i, line in enumerate(lines) if "(pars-defect-injection)" in line)
    assert lines[at] == (
        "ok  pars-defect-injection 1.0.0, the clinic's changes to built-in "
        f"pars-defect-injection {BUILT_IN['version']}  (pars-defect-injection)"
    )
    # Vietnamese (and Chinese and Korean) are built in, but the clinic's new words have none
    # of them yet: named, language by language.
    others = [lang for lang in Library().languages("pars-defect-injection") if lang != "en"]
    untranslated = [lang for lang in others if lang != "es"]
    assert "vi" in untranslated
    needs = [
        f"      needs a translation ({lang}): {field}"
        for lang in untranslated
        for field in ("before.fasting.items.add[0].text", "slots.call_us")
    ]
    end = at + 6 + len(needs)
    assert lines[at + 1 : end] == [
        "      added    sources.clinic-policy.facts: "
        '"Cedar Valley Clinic\'s own choice: no solid food…"',
        "      changed  timing.stop_solids.hours: 6 → 8",
        '      changed  timing.stop_solids.source: "seed-003" → "clinic-policy"',
        '      added    before.fasting.items: "Our clinic asks you to stop eating {{ t.stop_so…"',
        '      added    slots.call_us: "Our nurses call you back the same day. Leave yo…"',
        *needs,
    ]
    assert lines[end].startswith("ok  ")
    # Its Spanish holds only the new words, and passes; nothing else needs translating.
    assert any(
        line.startswith("ok  pars-defect-injection 1.0.0 es;")
        and line.endswith("(pars-defect-injection.es.yaml)")
        for line in lines
    )
    assert sum("needs a translation" in line for line in lines) == len(needs)


@pytest.mark.parametrize(
    "language, words",
    [
        ("en", ["at 1:00 AM", "stop eating 8 hours", "Our nurses call you back the same day."]),
        ("es", ["1:00 a. m.", "dejar de comer 8 horas", "le devuelven la llamada el mismo día"]),
    ],
)
def test_the_example_clinics_handouts_give_its_8_hour_fast(runner, tmp_path, language, words):
    out = tmp_path / "h.pdf"
    result = run(
        runner, "make", "pars-defect-injection", *VISIT, "--language", language, "-o", str(out),
        site=CLINIC / "site.yaml",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = squash(pdf_text(out))
    for phrase in words:
        assert phrase in text
    # The rest is the built-in set's, in the built-in translation: the liquids fast is 2 hours.
    timeline = json.loads(
        run(
            runner, "make", "pars-defect-injection", *VISIT, "--language", language,
            "--format", "json", "-o", "-", site=CLINIC / "site.yaml",
        ).stdout
    )  # fmt: skip
    assert timeline["moments"]["stop_solids"].startswith("2026-12-03T01:00")
    assert timeline["moments"]["stop_liquids"].startswith("2026-12-03T07:00")


@pytest.mark.parametrize(
    "language, line",
    [
        ("en", "pars-defect-injection v1.0.0 (built-in v{base}), reviewed 2026-12-07"),
        (
            "es",
            "pars-defect-injection v1.0.0 (original v{base}): inglés revisado el 2026-12-07; "
            "traducción en borrador, sin revisar",
        ),
    ],
)
def test_the_footer_names_the_clinics_version_and_the_built_in_one(
    runner, tmp_path, language, line
):
    """The clinic's own version alone would read as the built-in set's: every page's footer
    names both, whole (the line is set smaller rather than cut), in the text rendition too."""
    out = tmp_path / "h.pdf"
    result = run(
        runner, "make", "pars-defect-injection", *VISIT, "--language", language, "-o", str(out),
        site=CLINIC / "site.yaml",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = line.format(base=BUILT_IN["version"])
    pages = pdf_text(out).split("\f")
    footers = [page for page in pages if page.strip()]
    assert footers and all(expected in squash(page) for page in footers)
    text = run(
        runner, "make", "pars-defect-injection", *VISIT, "--language", language,
        "--format", "text", "-o", "-", site=CLINIC / "site.yaml",
    ).stdout  # fmt: skip
    assert squash(text).endswith(expected)
    # A built-in set's footer is as it was.
    plain = run(
        runner, "make", "pars-defect-injection", *VISIT, "--format", "text", "-o", "-",
        site=DATA / "site-ny.yaml",
    ).stdout  # fmt: skip
    assert squash(plain).endswith(
        f"pars-defect-injection v{BUILT_IN['version']}, reviewed 2026-11-20"
    )
    assert "built-in" not in plain


def test_list_and_the_json_rendition_name_the_built_in_set_and_version(runner):
    base = BUILT_IN["version"]
    listed = run(runner, "list", site=CLINIC / "site.yaml").stdout.splitlines()
    at = next(i for i, line in enumerate(listed) if line.split()[:1] == ["pars-defect-injection"])
    assert listed[at].split()[1] == "1.0.0"
    assert (
        listed[at + 1].strip() == f"the clinic's changes to built-in pars-defect-injection {base}"
    )
    assert not any("built-in" in line for line in listed[at + 2 :] + listed[:at])
    rows = json.loads(run(runner, "list", "--json", site=CLINIC / "site.yaml").stdout)
    by_id = {row["id"]: row for row in rows}
    assert by_id["pars-defect-injection"]["version"] == "1.0.0"
    assert by_id["pars-defect-injection"]["extends"] == {
        "set": "pars-defect-injection",
        "version": base,
    }
    assert by_id["lumbar-tfesi"]["extends"] is None
    record = json.loads(
        run(
            runner, "make", "pars-defect-injection", *VISIT, "--language", "es",
            "--format", "json", "-o", "-", site=CLINIC / "site.yaml",
        ).stdout
    )  # fmt: skip
    assert record["instruction_set"]["version"] == "1.0.0"
    assert record["instruction_set"]["extends"] == {"set": "pars-defect-injection", "version": base}


def test_a_clinic_set_with_an_id_of_its_own_names_the_built_in_set_in_its_footer(runner, clinic):
    clinic(
        "pars-injection-cv.yaml",
        HEADER.replace("id: pars-defect-injection", "id: pars-injection-cv")
        + "title: Pars injection at our clinic\n",
    )
    result = run(
        runner, "make", "pars-injection-cv", *VISIT, "--format", "text", "-o", "-",
        site=clinic.site,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert squash(result.stdout).endswith(
        f"pars-injection-cv v1.0.0 (built-in pars-defect-injection v{BUILT_IN['version']}), "
        "reviewed 2026-12-07"
    )


def test_a_language_the_clinics_words_lack_is_refused_naming_why(runner, tmp_path):
    listed = json.loads(run(runner, "list", "--json", site=CLINIC / "site.yaml").stdout)
    assert next(r for r in listed if r["id"] == "pars-defect-injection")["languages"] == [
        "en",
        "es",
    ]
    result = run(
        runner, "make", "pars-defect-injection", *VISIT, "--language", "vi",
        "-o", str(tmp_path / "x.pdf"), site=CLINIC / "site.yaml",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "language 'vi' is not available for pars-defect-injection" in result.stderr
    assert "available: en, es" in result.stderr
    assert not (tmp_path / "x.pdf").exists()


# -- what a clinic may change --------------------------------------------------------------


def test_a_number_alone_keeps_every_built_in_translation(runner, clinic, tmp_path):
    clinic(
        "pars-defect-injection.yaml",
        HEADER + POLICY + "timing:\n  stop_solids: {hours: 8, source: clinic-policy}\n",
    )
    code, lines, errors = check_lines(runner, clinic.site)
    assert code == 0, errors
    assert not any("needs a translation" in line for line in lines)
    listed = json.loads(run(runner, "list", "--json", site=clinic.site).stdout)
    # Every built-in translation is kept.
    built_in = Library().languages("pars-defect-injection")
    assert {"en", "es", "vi"} <= set(built_in)
    assert next(r for r in listed if r["id"] == "pars-defect-injection")["languages"] == built_in
    for language in ("es", "vi", "ru", "pt", "fr", "zh-Hans", "ht"):
        result = run(
            runner, "make", "pars-defect-injection", *VISIT, "--language", language,
            "--format", "json", "-o", "-", site=clinic.site,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["moments"]["stop_solids"].startswith("2026-12-03T01:00")


def test_a_changed_number_needs_its_own_source(runner, clinic):
    clinic("pars-defect-injection.yaml", HEADER + "timing:\n  stop_solids: {hours: 8}\n")
    code, _, errors = check_lines(runner, clinic.site)
    assert code == 1
    lines = errors.splitlines()
    assert any(
        "pars-defect-injection.yaml:" in line
        and "timing.stop_solids: a changed number needs its own source" in line
        for line in lines
    ), errors
    # The built-in source it would fall back on does not say 8 either: named too.
    assert any("8 is credited to 'seed-003', whose facts do not mention it" in e for e in lines)


def test_a_replaced_source_must_still_state_the_numbers_it_keeps(runner, clinic):
    clinic(
        "pars-defect-injection.yaml",
        HEADER
        + """\
        sources:
          - id: clinic-policy
            title: Our clinic's fasting choice
            facts: No solid food for 8 hours before a shot with sedation, our choice.
        timing:
          stop_solids: {hours: 8, source: clinic-policy}
        """.replace("        ", ""),
    )
    _, _, errors = check_lines(runner, clinic.site)
    assert "timing.arrive.minutes: 30 is credited to 'clinic-policy', whose facts do not" in errors


def test_changes_made_to_an_older_built_in_version_are_refused(runner, clinic):
    clinic(
        "pars-defect-injection.yaml",
        HEADER.replace(f'version: "{BUILT_IN["version"]}"}}', 'version: "0.9.0"}')
        + "title: Pars injection\n",
    )
    _, _, errors = check_lines(runner, clinic.site)
    assert "extends.version: your changes were made to version 0.9.0" in errors
    assert f"the built-in set is now version {BUILT_IN['version']}" in errors


def test_an_unknown_element_in_a_clinics_change_is_an_error_not_a_silent_drop(runner, clinic):
    clinic(
        "pars-defect-injection.yaml",
        HEADER
        + "before:\n  fasting:\n    banner: Parking is free.\n"
        + "  parking:\n    heading: Parking\n    style: paragraph\n    text: Park in lot B.\n"
        + "    sidebar: yes\n",
    )
    code, _, errors = check_lines(runner, clinic.site)
    assert code == 1
    assert "before.fasting.banner: unknown key" in errors
    assert "before.parking.sidebar: unknown key" in errors


def test_items_groups_and_moments_added_removed_and_placed(runner, clinic, tmp_path):
    items = BUILT_IN["before"]["tell_us"]["items"]
    diabetes, thinner = items.index("Have diabetes."), items.index("Take a blood thinner.")
    clinic(
        "pars-defect-injection.yaml",
        HEADER
        + """\
        sources:
          - id: clinic-nurse-call
            title: Our clinic's nurse call
            facts: Our clinic's choice, not a guideline's - a nurse calls 2 days after the shot.
        timing:
          nurse_call:
            days: 2
            after: start
            show: day
            source: clinic-nurse-call
            key: "A nurse from our clinic calls you."
        before:
          ride_home: ~
          tell_us:
            items:
              remove: [DIABETES, "Take a blood thinner."]
              add: ["Have a pacemaker or another implanted device."]
          parking:
            heading: Parking
            style: paragraph
            text: Park in lot B. It is free.
            place: {after: bring}
        """.replace("        ", "").replace("DIABETES", str(diabetes + 1)),
    )
    code, lines, errors = check_lines(runner, clinic.site)
    assert code == 0, errors
    at = next(i for i, line in enumerate(lines) if "(pars-defect-injection)" in line)
    changes = [line.strip() for line in lines[at + 1 :] if line.startswith("      ")]
    assert changes[:6] == [
        "added    sources: clinic-nurse-call",
        "added    timing.nurse_call: a new moment",
        "removed  before.ride_home",
        f'removed  before.tell_us.items[{diabetes}]: "Have diabetes."',
        f'removed  before.tell_us.items[{thinner}]: "Take a blood thinner."',
        'added    before.tell_us.items: "Have a pacemaker or another implanted device."',
    ]
    assert changes[6] == "added    before.parking: a new group"
    # The clinic wrote words: each one needs Spanish and Vietnamese, and is named.
    assert [c for c in changes if "needs a translation (es)" in c] == [
        "needs a translation (es): timing.nurse_call.key",
        "needs a translation (es): before.tell_us.items.add[0]",
        "needs a translation (es): before.parking.heading",
        "needs a translation (es): before.parking.text",
    ]
    out = tmp_path / "h.txt"
    result = run(
        runner, "make", "pars-defect-injection", *VISIT, "--format", "text", "-o", str(out),
        site=clinic.site,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "Getting home" not in text and "Take a blood thinner." not in text
    assert "Have diabetes." not in text.split("Tell us before your shot")[1].split("\n\n")[0]
    assert "Have a pacemaker or another implanted device." in text
    assert text.index("What to bring") < text.index("Parking") < text.index("Tell us before")
    assert "Saturday, December 5: A nurse from our clinic calls you." in squash(text)


def test_a_clinic_translation_names_each_missing_word_and_goes_stale(runner, clinic):
    clinic(
        "pars-defect-injection.yaml",
        HEADER + "before:\n  bring:\n    items:\n      add: [Leave jewelry at home.]\n",
    )
    spanish = clinic(
        "pars-defect-injection.es.yaml",
        """\
        id: pars-defect-injection
        language: es
        translation: {of: "1.0.0", review: {status: draft}}
        before:
          bring:
            items:
              add: []
        """,
    )
    _, _, errors = check_lines(runner, clinic.site)
    assert "before.bring.items.add[0]: is missing (English before.bring.items.add[0]" in errors
    spanish.write_text(
        spanish.read_text(encoding="utf-8")
        .replace('of: "1.0.0"', 'of: "0.9.0"')
        .replace("add: []", "add: [Deje sus joyas en casa.]"),
        encoding="utf-8",
    )
    _, _, errors = check_lines(runner, clinic.site)
    assert "translation.of: stale: made from English version 0.9.0" in errors
    spanish.write_text(
        spanish.read_text(encoding="utf-8").replace('of: "0.9.0"', 'of: "1.0.0"'),
        encoding="utf-8",
    )
    code, lines, errors = check_lines(runner, clinic.site)
    assert code == 0, errors
    assert "needs a translation (vi): before.bring.items.add[0]" in "\n".join(lines)


def test_a_page_template_element_the_renderers_do_not_know_fails_check(runner, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    page = (ROOT / "templates" / "handout.xml.j2").read_text(encoding="utf-8")
    (templates / "handout.xml.j2").write_text(
        page.replace(
            "<notice>{{ L.notice }}</notice>", "<notice>{{ L.notice }}</notice>\n<p>Hi.</p>"
        ),
        encoding="utf-8",
    )
    site = tmp_path / "site.yaml"
    shutil.copy(DATA / "site-ny.yaml", site)
    with site.open("a", encoding="utf-8") as stream:
        stream.write("templates_dir: templates\n")
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    assert "handout/p: <p> is not allowed in <handout>" in result.stderr
