"""A clinic's own paragraph in any place the page template names (slots), from its set or its
site profile, without a fork of the template; the wording stays in YAML and is checked."""

import re
import textwrap
from pathlib import Path

import pytest
import yaml
from helpers import DATA, pdf_text, squash

from pars_docs.cli import cli
from pars_docs.compose.elements import problems
from pars_docs.load.structure import slot_names

ROOT = Path(__file__).resolve().parent.parent
BUILT_IN = yaml.safe_load((ROOT / "instructions" / "pars-defect-injection.yaml").read_text())
VISIT = ["--patient", "Ana Díaz", "--date", "2026-12-03", "--time", "9:00 AM",
         "--clinician", "Dr. Lee"]  # fmt: skip
SET_SLOTS = """\
format: 2
id: pars-defect-injection
extends: {set: pars-defect-injection, version: "VERSION"}
version: "1.0.0"
reviewed: "2026-12-07"
slots:
  after_key_times: Park in lot B by the side door. It is free.
  call_us: Our nurses call you back the same day.
  last: "Bring this handout to your visit on {{ moments.start | day }}."
""".replace("VERSION", BUILT_IN["version"])


def site_with(tmp_path: Path, extra: str) -> Path:
    site = tmp_path / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8") + textwrap.dedent(extra),
        encoding="utf-8",
    )
    return site


def text_of(runner, site, *extra) -> str:
    result = runner.invoke(
        cli,
        ["make", "pars-defect-injection", *VISIT, "--site", str(site), "--format", "text",
         "-o", "-", *extra],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_template_has_a_place_for_each_slot_the_schema_names():
    page = (ROOT / "templates" / "handout.xml.j2").read_text(encoding="utf-8")
    used = set(re.findall(r"slots\.(\w+)", page)) | set(re.findall(r'paragraphs\("(\w+)"\)', page))
    assert used == set(slot_names())
    assert slot_names() == (
        "after_key_times", "about", "before", "day_of", "after", "call_us", "last"
    )  # fmt: skip


def test_a_sets_own_paragraphs_print_where_they_are_named(runner, tmp_path):
    folder = tmp_path / "instructions"
    folder.mkdir()
    (folder / "pars-defect-injection.yaml").write_text(SET_SLOTS, encoding="utf-8")
    site = site_with(tmp_path, "instructions_dir: instructions\n")
    check = runner.invoke(cli, ["check", "--site", str(site)])
    assert check.exit_code == 0, check.stderr
    assert "added    slots.after_key_times" in check.stdout
    text = text_of(runner, site)
    # After the key times and before the notice; in the call box; before the questions.
    assert (
        text.index("When to call us or 911")
        < text.index("Park in lot B")
        < text.index("These are general instructions")
    )
    call = text.split("Call us if you have")[1].split("Call 911 right away")[0]
    assert "Our nurses call you back the same day." in call
    assert "Bring this handout to your visit on Thursday, December 3." in text
    assert text.index("Bring this handout") < text.index("Questions for your care team")
    out = tmp_path / "h.pdf"
    result = runner.invoke(
        cli, ["make", "pars-defect-injection", *VISIT, "--site", str(site), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Park in lot B by the side door. It is free." in squash(pdf_text(out))


# The site paragraph in each language a built-in set is translated into: check asks for it in
# every one (a language added to the library needs its line here).
PARKING = {
    "en": "Parking is free in lot B.",
    "es": "El estacionamiento es gratis en el lote B.",
    "vi": "Bãi đậu xe B miễn phí.",
    "zh-Hans": "B 停车场可以免费停车。",
    "zh-Hant": "B 停車場可以免費停車。",
    "ko": "B 주차장은 무료입니다.",
    "ru": "Парковка на стоянке B бесплатная.",
    "pt": "O estacionamento B é gratuito.",
    "fr": "Le parking B est gratuit.",
    "ar": "موقف السيارات B مجاني.",
    "tl": "Libre ang paradahan sa lot B.",
    "ht": "Ou ka pake gratis nan pakin B.",
}


def test_a_site_profiles_paragraphs_print_on_every_set_in_each_language(runner, tmp_path):
    from pars_docs.load.library import Library

    lines = "".join(f"    {lang}: {PARKING[lang]}\n" for lang in Library().all_languages())
    site = site_with(tmp_path, "slots:\n  before:\n" + lines)
    assert "Parking is free in lot B." in text_of(runner, site)
    assert "El estacionamiento es gratis en el lote B." in text_of(runner, site, "--language", "es")
    with_kyphoplasty = runner.invoke(
        cli, ["make", "kyphoplasty", *VISIT, "--site", str(site), "--format", "text", "-o", "-"]
    )
    assert "Parking is free in lot B." in with_kyphoplasty.stdout
    assert runner.invoke(cli, ["check", "--site", str(site)]).exit_code == 0


def test_a_site_paragraph_missing_a_language_is_named_by_check_and_make(runner, tmp_path):
    site = site_with(tmp_path, "slots:\n  last: {en: Parking is free in lot B.}\n")
    result = runner.invoke(
        cli, ["make", "pars-defect-injection", *VISIT, "--site", str(site), "--language", "es",
              "-o", str(tmp_path / "x.pdf")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "site slots.last: no 'es' wording" in result.stderr
    check = runner.invoke(cli, ["check", "--site", str(site)])
    assert check.exit_code == 1
    assert "site slots.last: no 'es' wording" in check.stderr


@pytest.mark.parametrize(
    "slots, message",
    [
        ("sidebar: {en: Hello.}", "slots.sidebar: no such place (places: after_key_times,"),
        ("last: {en: Do not eat for 8 hours.}", "slots.last.en: '8 hours' is typed into the"),
        ("last: {en: 'Hi {{ visit.patient }}'}", "slots.last.en: is printed as written"),
    ],
)
def test_a_bad_site_paragraph_is_one_line(runner, tmp_path, slots, message):
    site = site_with(tmp_path, f"slots:\n  {slots}\n")
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_slot_the_template_has_no_place_for_is_an_error_in_a_set(runner, tmp_path):
    folder = tmp_path / "instructions"
    folder.mkdir()
    (folder / "pars-defect-injection.yaml").write_text(
        SET_SLOTS.replace("  call_us:", "  sidebar:"), encoding="utf-8"
    )
    site = site_with(tmp_path, "instructions_dir: instructions\n")
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    assert "slots.sidebar: unknown key" in result.stderr


def test_slotted_handouts_keep_the_contract(tmp_path):
    from pars_docs import make_handout

    folder = tmp_path / "instructions"
    folder.mkdir()
    (folder / "pars-defect-injection.yaml").write_text(SET_SLOTS, encoding="utf-8")
    site = site_with(
        tmp_path,
        "instructions_dir: instructions\nslots:\n  about: {en: Ask us about parking.}\n",
    )
    made = make_handout(
        "pars-defect-injection", "Ana Díaz", "2026-12-03", "9:00 AM", "Dr. Lee", site=site
    )
    assert problems(made.composed()) == []
    names = [e.get("name") for e in made.composed().iter("slot")]
    assert names == ["after_key_times", "last"]
