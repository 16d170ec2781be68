"""Handouts in the patient's language: choosing it, writing in it, and checking translations."""

import json
import re
import shutil
from pathlib import Path

import pytest
from helpers import DATA, built_in_sets, pdf_text, sedation_choices, squash
from readability import fernandez_huerta, syllables_es, szigriszt_pazos

from pars_docs import make_handout
from pars_docs.cli import cli
from pars_docs.compose.composer import clock_24
from pars_docs.errors import UsageError
from pars_docs.load.languages import resolve
from pars_docs.load.library import Library
from pars_docs.load.library import texts as _texts
from pars_docs.load.translations import ENGLISH_MARKERS, split_name
from pars_docs.render.pdf.fonts import missing_glyphs
from pars_docs.resources import instructions_dir

SETS = ("pars-defect-injection", "pars-defect-decompression")
SITE = DATA / "site-ny.yaml"
_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)


def english_words(text: str) -> list[str]:
    """Words of a text that mark English (the, your, with…)."""
    return sorted({w for w in re.findall(r"[^\W\d_]+", text.casefold()) if w in ENGLISH_MARKERS})


def make(language, procedure="pars-defect-injection", **kw):
    kw.setdefault("medications", ["Eliquis", "aspirin", "garlic", "fish oil"])
    return make_handout(
        procedure,
        "Nguyễn Thị Hương",
        "2026-12-03",
        "13:30",
        "Dr. Trần Văn Minh",
        language=language,
        site=SITE,
        **kw,
    )


# -- choosing the language -----------------------------------------------------------------


@pytest.mark.parametrize(
    "tag, found",
    [("es", "es"), ("es-US", "es"), ("ES_mx", "es"), ("vi-VN", "vi"), ("en-GB", "en")],
)
def test_a_tag_resolves_to_the_nearest_language(tag, found):
    assert resolve(tag, ["en", "es", "vi"]) == found


@pytest.mark.parametrize(
    "tag, found",
    [("zh", "zh-Hans"), ("zh-CN", "zh-Hans"), ("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"),
     ("zh-Hant-TW", "zh-Hant"), ("zho", "zh-Hans"), ("ko-KR", "ko"), ("kor", "ko")],
)  # fmt: skip
def test_a_chinese_tag_without_a_script_finds_simplified_or_traditional(tag, found):
    # FHIR and HL7 feeds send zh-TW or zh-CN more often than a script subtag: CLDR's likely
    # subtags give the script of the language and region.
    assert resolve(tag, ["en", "zh-Hans", "zh-Hant", "ko"]) == found


def test_an_unavailable_language_lists_the_available_ones():
    with pytest.raises(UsageError) as caught:
        resolve("fr-CA", ["en", "es", "vi"])
    assert str(caught.value) == "language: language 'fr-CA' is not available; available: en, es, vi"


def test_make_with_an_unavailable_language_is_a_one_line_usage_error(make):
    # German: no page words either (French now has drafted page words, and its message
    # says so: tests/test_scripts.py).
    result, _ = make("--language", "de")
    assert result.exit_code == 2
    available = ", ".join(Library().languages("pars-defect-injection"))
    assert result.output.strip().endswith(
        f"language 'de' is not available for pars-defect-injection; available: {available}"
    )
    result, _ = make("--language", "not a tag")
    assert result.exit_code == 2
    # What is not a tag may be anything (a name in the wrong column): left out of logs.
    assert "language: '…' is not a language tag" in result.output
    result, _ = make("--language", "not a tag", "--verbose")
    assert "'not a tag' is not a language tag" in result.output


def test_the_site_default_language_is_used(tmp_path, runner):
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text().replace("language: en", "language: vi"))
    out = tmp_path / "h.txt"
    args = ["make", "pars-defect-injection", "--patient", "A", "--date", "2026-12-03"]
    args += ["--time", "9:00", "--clinician", "B", "--site", str(site), "-o", str(out)]
    assert runner.invoke(cli, [*args, "--format", "text"]).exit_code == 0
    assert "Bệnh nhân: A" in out.read_text()
    assert runner.invoke(cli, [*args, "--format", "text", "--language", "es"]).exit_code == 0
    assert "Paciente: A" in out.read_text()


# -- writing in it ---------------------------------------------------------------------------


@pytest.mark.parametrize("procedure", SETS)
@pytest.mark.parametrize("sedation", [False, True])
@pytest.mark.parametrize("language", ["es", "vi", "zh-Hans", "zh-Hant", "ko"])
def test_a_translated_pdf_has_no_english_and_every_glyph(procedure, sedation, language):
    if procedure == "pars-defect-decompression" and not sedation:
        sedation = None  # surgery is always with anesthesia
    handout = make(language, procedure, sedation=sedation)
    # A draft says so in English too, for staff (issue 21): that line is meant to be English.
    text = pdf_text(handout.pdf()).replace("Draft translation, not reviewed", "")
    assert english_words(text) == []
    assert missing_glyphs(text, language) == []
    assert "Nguyễn Thị Hương" in text
    words = {
        "es": ["Paciente", "jueves 3 de diciembre de 2026", "1:30\xa0p.\xa0m.", "Página 1 de"],
        "vi": ["Bệnh nhân", "Thứ Năm, ngày 3 tháng 12 năm 2026", "1:30\xa0CH", "Trang 1 /"],
        "zh-Hans": ["患者", "2026年12月3日星期四", "下午1:30", "第 1 页，共"],
        "zh-Hant": ["病人", "2026年12月3日星期四", "下午1:30", "第 1 頁，共"],
        "ko": ["환자", "2026년 12월 3일 목요일", "오후 1:30", "1쪽 (전체"],
    }[language]
    for word in words:
        assert squash(word) in squash(text), word


def translations_of(set_ids) -> list[tuple[str, str]]:
    """(set, language) for every built-in translation of ``set_ids``, so a new language is
    tested like the rest."""
    library = Library()
    return [(s, lang) for s in set_ids for lang in library.languages(s) if lang != "en"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "procedure,language", translations_of(s for s in built_in_sets() if s not in SETS)
)
def test_every_other_built_in_set_reads_in_the_language_with_every_glyph(procedure, language):
    for sedation in sedation_choices(procedure):
        # The draft line is English on purpose, for staff.
        handout = make(language, procedure, sedation=sedation)
        pdf = handout.pdf()
        # Arabic is read through its glyphs, each of which maps to the letters it stands for
        # (right to left, as drawn: the letters are what is checked here).
        text = pdf_text(pdf).replace("Draft translation, not reviewed", "")
        assert english_words(text) == [], (procedure, sedation)
        assert missing_glyphs(text, language) == [], (procedure, sedation)
        assert "Nguyễn Thị Hương" in text


def test_a_translation_file_name_may_carry_a_script_and_a_region():
    assert split_name(Path("kyphoplasty.zh-Hant.yaml")) == ("kyphoplasty", "zh-Hant")
    assert split_name(Path("kyphoplasty.zh-Hans-SG.yaml")) == ("kyphoplasty", "zh-Hans-SG")
    assert split_name(Path("kyphoplasty.es-US.yaml")) == ("kyphoplasty", "es-US")
    assert split_name(Path("kyphoplasty.yaml")) is None


@pytest.mark.parametrize("language", ["zh-Hans", "zh-Hant", "ko"])
def test_every_built_in_set_is_translated_into_chinese_and_korean(language):
    library = Library()
    missing = [s for s in built_in_sets() if language not in library.languages(s)]
    assert missing == []


@pytest.mark.parametrize(
    "language, words",
    [
        (
            "zh-Hans",
            ["患者", "2026年12月3日星期四", "下午1:30", "第 1 页，共",
             "最后一次服用Eliquis (阿哌沙班)", "请照常注射Ozempic (司美格鲁肽)"],
        ),
        (
            "zh-Hant",
            ["病人", "2026年12月3日星期四", "下午1:30", "第 1 頁，共",
             "最後一次服用Eliquis (阿哌沙班)", "請照常注射Ozempic (司美格魯肽)"],
        ),
        (
            "ko",
            ["환자", "2026년 12월 3일 목요일", "오후 1:30", "1쪽 (전체",
             "Eliquis (아픽사반): 마지막으로 복용하세요",
             "Ozempic (세마글루타이드): 평소처럼 계속 주사하세요"],
        ),
    ],
)  # fmt: skip
def test_a_set_in_chinese_or_korean_has_its_dates_and_medicine_verbs(language, words):
    handout = make(
        language, "lumbar-ilesi", sedation=True, medications=["Eliquis", "Ozempic", "aspirin"]
    )
    text = pdf_text(handout.pdf()).replace("Draft translation, not reviewed", "")
    assert english_words(text) == []
    assert missing_glyphs(text, language) == []
    for word in words:
        assert squash(word) in squash(text), word


def test_medicine_notes_and_plain_word_names_are_translated():
    text = squash(pdf_text(make("es").pdf()))
    assert "Esto se refiere a las pastillas de ajo" in text
    assert "sobre aceite de pescado (omega-3). Le diremos qué hacer" in text
    assert "Tome su última dosis de Eliquis (apixabán) el" in text  # brand as given
    text = squash(pdf_text(make("vi").pdf()))
    assert "viên tỏi" in text and "dầu cá" in text


def test_a_moment_ending_in_a_m_ends_its_sentence_once():
    text = make("es", sedation=True).render("text").decode()
    assert "a.\xa0m.." not in text and "p.\xa0m.." not in text
    assert "a.\xa0m." in text


def test_text_json_and_calendar_follow_the_language():
    handout = make("es", sedation=True)
    assert "Sobre su inyección" in handout.render("text").decode()
    timeline = json.loads(handout.render("json"))
    assert timeline["language"] == "es"
    assert timeline["instruction_set"]["title"] == "Inyección para un defecto de la pars"
    calendar = handout.render("ics").decode()
    assert "SUMMARY:Deje de comer: Inyección para un defecto de la pars" in calendar
    assert "X-WR-LANGUAGE:es" in calendar


def test_the_document_reference_carries_the_language():
    handout = make("vi")
    resource = handout.document_reference()
    assert resource["language"] == "vi"
    assert resource["content"][0]["attachment"]["language"] == "vi"


def test_a_site_on_the_24_hour_clock(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text() + "clock: 24\n")
    text = make_handout(
        "pars-defect-injection", "A", "2026-12-03", "13:30", "B", language="es", site=site
    ).render("text")
    assert "Hora de inicio: 13:30\n" in text.decode()
    assert clock_24("h:mm\xa0a, EEEE 'at' h") == "H:mm, EEEE 'at' H"


def test_fhir_patient_communication_chooses_the_language(runner, tmp_path):
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "id": "p",
                    "name": [{"text": "Ana Díaz"}],
                    "communication": [
                        {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]}},
                        {
                            "language": {
                                "coding": [{"system": "urn:ietf:bcp:47", "code": "es-US"}]
                            },
                            "preferred": True,
                        },
                    ],
                }
            },
            {
                "resource": {
                    "resourceType": "Appointment",
                    "id": "a1",
                    "status": "booked",
                    "start": "2026-12-03T14:00:00Z",
                    "serviceType": [
                        {
                            "coding": [
                                {
                                    "system": "urn:pars-docs:procedure",
                                    "code": "pars-defect-injection",
                                }
                            ]
                        }
                    ],
                    "participant": [
                        {"actor": {"reference": "Patient/p"}},
                        {"actor": {"reference": "Practitioner/d", "display": "Dr. Lee"}},
                    ],
                }
            },
        ],
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    out = tmp_path / "ref.json"
    args = ["make", "--fhir", str(path), "--site", str(SITE), "--emit", "fhir", "-o", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["language"] == "es"
    result = runner.invoke(cli, [*args, "--language", "vi"])  # the command line wins
    assert json.loads(out.read_text())["language"] == "vi"


# -- batch -----------------------------------------------------------------------------------


def batch_list(tmp_path):
    rows = [
        "procedure,patient,date,time,clinician,language",
        "pars-defect-injection,Ana Díaz,2026-12-03,8:00 AM,Dr. Lee,es-MX",
        "pars-defect-injection,Lê Văn An,2026-12-03,9:00 AM,Dr. Lee,vi",
        "pars-defect-injection,Hans Müller,2026-12-03,10:00 AM,Dr. Lee,de",
        "pars-defect-injection,John Smith,2026-12-03,11:00 AM,Dr. Lee,",
    ]
    path = tmp_path / "list.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_batch_language_column_and_an_unavailable_language(runner, tmp_path):
    manifest = tmp_path / "m.jsonl"
    args = ["batch", str(batch_list(tmp_path)), "--out-dir", str(tmp_path), "--jobs", "1"]
    result = runner.invoke(cli, [*args, "--site", str(SITE), "--manifest", str(manifest)])
    assert result.exit_code == 1
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [r["language"] for r in records] == ["es", "vi", None, "en"]
    assert records[2]["status"] == "failed" and records[2]["field"] == "language"
    assert "'de' is not available" in records[2]["reason"]
    available = ", ".join(Library().languages("pars-defect-injection"))
    assert f"available: {available}" in records[2]["reason"]


def test_a_site_fallback_language_saves_the_row_and_is_recorded(runner, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text() + "fallback_language: en\n")
    manifest = tmp_path / "m.jsonl"
    args = ["batch", str(batch_list(tmp_path)), "--out-dir", str(tmp_path), "--jobs", "1"]
    result = runner.invoke(cli, [*args, "--site", str(site), "--manifest", str(manifest)])
    assert result.exit_code == 0, result.output
    record = [json.loads(line) for line in manifest.read_text().splitlines()][2]
    assert record["status"] == "ok" and record["language"] == "en"
    assert record["reason"] == (
        "language: 'de' is not available; used the site's fallback language 'en'"
    )


# -- bilingual -------------------------------------------------------------------------------


def test_a_bilingual_handout_has_both_parts_complete_in_order(runner, tmp_path):
    handout = make("es", also_language="en", sedation=True)
    parts = handout.documents
    assert [p.get("lang") for p in parts] == ["es", "en"]
    assert [p.get("lang") for p in handout.composed()] == ["es", "en"]
    # The same page-1 content in both: the same patient-block rows with the same values
    # where they are not words (names), and the same sections and groups.
    first, second = ([f.text for f in p.find("patient")] for p in parts)
    assert len(first) == len(second) and first[0] == second[0] and first[-1] == second[-1]
    assert [len(s) for s in parts[0].iter("section")] == [len(s) for s in parts[1].iter("section")]
    reader_pages = pdf_text(handout.pdf()).split("Página 1 de")
    assert len(reader_pages) == 2 and "Page 1 of" in reader_pages[1]
    assert "Las mismas instrucciones siguen en otro idioma: English." in squash(reader_pages[0])
    text = handout.render("text").decode()
    spanish, english = text.split("\f\n")
    assert "Sobre su inyección" in spanish and "About your pars defect injection" in english
    assert "The same instructions come first in another language: español." in english
    assert json.loads(handout.render("json"))["also_languages"] == ["en"]


def test_bilingual_from_the_command_line_and_the_site(runner, tmp_path, make):
    result, out = make("--language", "vi", "--also-language", "en")
    assert result.exit_code == 0, result.output
    assert "Trang 1 /" in pdf_text(out) and "Page 1 of" in pdf_text(out)
    site = tmp_path / "s.yaml"
    site.write_text(SITE.read_text() + "also_language: en\n")
    english_only = make_handout("pars-defect-injection", "A", "2026-12-03", "9:00", "B", site=site)
    assert len(english_only.documents) == 1  # English is not printed twice
    spanish = make_handout(
        "pars-defect-injection", "A", "2026-12-03", "9:00", "B", site=site, language="es"
    )
    assert [d.get("lang") for d in spanish.documents] == ["es", "en"]


# -- readability -----------------------------------------------------------------------------


def test_spanish_syllables():
    counts = {"hueso": 2, "día": 2, "leer": 2, "ayuda": 3, "inyección": 3, "muy": 1, "y": 1}
    counts |= {"aéreo": 4, "guía": 2, "que": 1, "espondilólisis": 6, "cuídese": 3}
    assert {word: syllables_es(word) for word in counts} == counts


@pytest.mark.parametrize("set_id", built_in_sets())
def test_spanish_sets_are_fairly_easy_to_read(set_id):
    iset = Library().get(set_id, "es")
    texts = [" ".join(_JINJA.sub("", t).split()) for _, t in _texts(iset.data, ())]
    assert szigriszt_pazos(texts) >= 65  # INFLESZ "bastante fácil"
    assert fernandez_huerta(texts) >= 70  # "fairly easy"


# -- check -----------------------------------------------------------------------------------


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


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path, needle):
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def test_check_reports_every_draft_translation(runner):
    result = runner.invoke(cli, ["check", "--site", str(SITE)])
    assert result.exit_code == 0, result.output
    drafts = [line for line in result.output.splitlines() if "draft translation" in line]
    # Every built-in translation is a draft: one line for each (Spanish and Vietnamese of
    # every set, and the languages added since).
    assert len(drafts) == len(translations_of(built_in_sets()))
    assert len(drafts) >= 2 * len(built_in_sets())


def test_check_fails_an_incomplete_translation(runner, clinic):
    site, folder = clinic
    path = folder / "pars-defect-injection.es.yaml"
    edit(path, "      - Ropa suelta, fácil de quitar\n", "")
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    assert f"{path}:" in result.output
    assert (
        "before.bring.items[4]: is missing (English before.bring.items[4]: 'Loose clothes that are "
        "easy to take off')"
    ) in result.output


def unstamp(path):
    """A translation as written by hand, without the English hashes translate writes."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("\n# The English each text")] + "\n", encoding="utf-8")


def test_check_fails_a_stale_translation(runner, clinic):
    """Without the hashes of its English texts, a translation is stale by version (with
    them, by text: see test_translate.py)."""
    site, folder = clinic
    for language in ("es", "vi"):
        unstamp(folder / f"pars-defect-injection.{language}.yaml")
    edit(folder / "pars-defect-injection.yaml", 'version: "1.2.0"', 'version: "1.3.0"')
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    path = folder / "pars-defect-injection.es.yaml"
    line = line_of(path, "  of:")
    assert (
        f"{path}:{line}: translation.of: stale: made from English version 1.2.0; "
        "pars-defect-injection.yaml is now version 1.3.0"
    ) in result.output
    assert "pars-defect-injection.vi.yaml" in result.output


def test_check_fails_a_retyped_number(runner, clinic):
    site, folder = clinic
    path = folder / "pars-defect-injection.es.yaml"
    edit(
        path,
        "Puede bañarse en la ducha después del {{ moments.shower | when }}.",
        "Puede bañarse en la ducha 24 horas después de su inyección.",
    )
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    line = line_of(path, "Puede bañarse en la ducha 24 horas")
    where = f"{path}:{line}: after.site_care.items[1].text:"
    assert f"{where} the number 24 is typed into the translation" in result.output
    assert f"{where} the placeholder {{{{ moments.shower | when }}}} of the English" in (
        result.output
    )


def test_check_fails_retyped_timing_and_english_left_behind(runner, clinic):
    site, folder = clinic
    path = folder / "pars-defect-injection.vi.yaml"
    edit(path, "\ntiming:\n", "\ntiming:\n  duration: {minutes_min: 15, minutes_max: 30}\n")
    edit(path, "      - Khó thở.", "      - Trouble breathing.")
    edit(path, "      - Đau hoặc tức ngực.", "      - Đau if you have the pain.")
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    # Format 2: a translation's timing holds each moment's words; a number is refused.
    assert (
        f"{path}:{line_of(path, '  duration:')}: timing.duration: is taken from the English set "
        "(pars-defect-injection.yaml); remove it here, a translation must not re-type it"
    ) in result.output
    assert "when_to_call.call_911.items[0]: is still the English text" in result.output
    assert "when_to_call.call_911.items[1]: reads as English (have, the, you)" in result.output


def test_check_fails_a_stale_medicine_note_and_an_untranslated_label(runner, clinic, tmp_path):
    site, folder = clinic
    edit(folder / "medicines.yaml", "This means garlic pills", "This means garlic tablets")
    templates = tmp_path / "templates"
    shutil.copytree(instructions_dir().parent / "templates", templates)
    edit(templates / "labels.yaml", "  patient: Paciente", "  patient: Patient")
    site.write_text(site.read_text() + "templates_dir: templates\n")
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    assert "medicines.es.yaml" in result.output and "medicines.garlic.from: stale" in result.output
    assert "es.patient: is still the English text" in result.output


def test_make_refuses_an_incomplete_translation(runner, clinic, make):
    site, folder = clinic
    edit(folder / "pars-defect-injection.es.yaml", "      - Ropa suelta, fácil de quitar\n", "")
    result, _ = make("--language", "es", site=site)
    assert result.exit_code == 1
    assert "before.bring.items[4]: is missing" in result.output


def test_every_built_in_translation_covers_the_english_set():
    library = Library()
    for set_id in SETS:
        english = library.get(set_id)
        for language in [lang for lang in library.languages(set_id) if lang != "en"]:
            translated = library.get(set_id, language)

            # Every number of timing is the English set's; only a moment's words differ.
            def numbers(timing):
                words = ("key", "late", "calendar")
                return {
                    n: {k: v for k, v in e.items() if k not in words} for n, e in timing.items()
                }

            assert numbers(translated.data["timing"]) == numbers(english.data["timing"])
            assert translated.data["sources"] == english.data["sources"]
            assert [f for f, _ in _texts(translated.data, ())] == [
                f for f, _ in _texts(english.data, ())
            ]


def test_a_packet_index_in_the_sites_regional_language(tmp_path):
    from pars_docs.batch.ledger import Record
    from pars_docs.compose.composer import compose_packet
    from pars_docs.compose.markup import plain
    from pars_docs.load.site import load_site

    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text().replace("language: en", "language: es-US"))
    record = Record(2, "ok", start="2026-12-03T08:00:00-05:00", patient="Ana Díaz")
    record.procedure_title = "Inyección para un defecto de la pars"
    packet = compose_packet([record], load_site(site))
    assert packet.get("lang") == "es"
    assert packet.find("index").get("title") == "Hojas en este paquete"
    assert plain(packet.find("index/row/cell").text) == "3 de diciembre de 2026, 8:00\xa0a.\xa0m."


def test_check_fails_a_site_language_a_set_has_no_translation_for(runner, clinic):
    site, folder = clinic
    own = folder / "lakeside-injection.yaml"  # a clinic's own set, in English only
    own.write_text((folder / "pars-defect-injection.yaml").read_text())
    edit(own, "id: pars-defect-injection", "id: lakeside-injection")
    site.write_text(site.read_text().replace("language: en", "language: vi"))
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    assert (
        "site language: language 'vi' is not available for lakeside-injection; available: en"
    ) in result.output


def test_a_bilingual_pdf_is_reproducible(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    first = make("vi", also_language="en").pdf()
    assert make("vi", also_language="en").pdf() == first
    assert b"/Lang (vi)" in first


@pytest.mark.parametrize(
    "pid15, language, resolved",
    [("SPA^Spanish^HL70296", "SPA", "es"), ("vie", "vie", "vi"), ("^Spanish", None, None)],
)
def test_hl7_primary_language(pid15, language, resolved):
    from zoneinfo import ZoneInfo

    from pars_docs.read.codes import CodeMap
    from pars_docs.read.ehr import Feed
    from pars_docs.read.hl7v2 import appointment_rows

    hl7 = DATA / "hl7"
    text = (hl7 / "siu-s12.hl7").read_bytes().decode("utf-8")
    pid = next(s for s in re.split(r"[\r\n]+", text) if s.startswith("PID|"))
    text = text.replace(pid, pid + "|" * (15 - pid.count("|")) + pid15)
    feed = Feed(CodeMap.build(Library(None), hl7 / "codes.yaml"), ZoneInfo("America/New_York"))
    (row,) = appointment_rows(text, "siu.hl7", feed)
    assert row.values.get("language") == language  # a language name is not a code: not used
    if language:
        assert resolve(language, ["en", "es", "vi"]) == resolved


def test_a_translation_made_from_an_older_english_set_is_stale_and_incomplete(runner, clinic):
    site, folder = clinic
    unstamp(folder / "pars-defect-injection.es.yaml")
    english = folder / "pars-defect-injection.yaml"
    edit(english, 'version: "1.2.0"', 'version: "1.3.0"')
    guardian = '      - "Are under {{ t.guardian.years }}: a parent must come too."\n'
    edit(english, guardian, guardian + "      - Have a pacemaker.\n")
    result = runner.invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 1
    path = folder / "pars-defect-injection.es.yaml"
    assert f"{path}:{line_of(path, '  of:')}: translation.of: stale" in result.output
    assert "before.tell_us.items[8]: is missing (English before.tell_us.items[8]: " in (
        result.output
    )


def test_each_part_of_a_bilingual_pdf_is_tagged_with_its_language():
    import io

    import pikepdf

    pdf = pikepdf.open(io.BytesIO(make("es", also_language="en").pdf()))
    assert str(pdf.Root.Lang) == "es"

    def elements(node):
        if isinstance(node, pikepdf.Array):
            for child in node:
                yield from elements(child)
        elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
            yield node
            yield from elements(node.get("/K"))

    parts = [e for e in elements(pdf.Root.StructTreeRoot.K) if e.S == "/Part"]
    assert [str(p.get("/Lang", "")) for p in parts] == ["", "en"]


@pytest.mark.parametrize("language", ["en", "es", "vi"])
def test_the_footer_names_the_date_of_birth_without_repeating_a_word(language):
    footer = make(language, dob="1980-04-02").composed().find(".//footer/left").text
    words = footer.replace(",", " ").split()
    pairs = zip(words[:-1], words[1:], strict=True)
    assert all(a.casefold() != b.casefold() for a, b in pairs), footer
    assert "1980" in footer


# -- the languages added for issue 24: every built-in set ----------------------------------

# Each language below has every built-in set, its medicine words and its calendar wording.
ADDED = ("ru", "pt", "fr", "tl", "ht")
# What every handout in the language prints: the patient label, the visit's date (CLDR,
# months in the genitive in Russian) and its time on the clock the language reads (24-hour;
# Tagalog: 12-hour, with AM/PM).
ADDED_WORDS = {
    "ru": ["Пациент", "четверг, 3 декабря 2026 г.", "13:30"],
    "pt": ["Paciente", "quinta-feira, 3 de dezembro de 2026", "13:30"],
    "fr": ["Patient(e)", "jeudi 3 décembre 2026", "13:30"],
    "tl": ["Pasyente", "Huwebes, Disyembre 3, 2026", "1:30\xa0PM"],
    # Haitian Creole: the day and month names formats.yaml gives (CLDR has none).
    "ht": ["Pasyan", "jedi, 3 desanm 2026", "13:30"],
}
PAGE_WORDS = {
    "ru": "Страница 1 из",
    "pt": "Página 1 de",
    "fr": "Page 1 sur",
    "tl": "Pahina 1 ng",
    "ht": "Paj 1 sou",
}
ADDED_SETS = built_in_sets()


@pytest.mark.parametrize("procedure", ADDED_SETS)
@pytest.mark.parametrize("language", ADDED)
def test_every_built_in_set_makes_a_handout_in_each_added_language(procedure, language):
    for sedation in sedation_choices(procedure):
        handout = make(language, procedure, sedation=sedation)
        assert handout.language == language
        text = handout.render("text").decode("utf-8").replace("Draft translation, not reviewed", "")
        assert english_words(text) == [], (procedure, sedation)
        for word in ADDED_WORDS[language]:
            assert squash(word) in squash(text), (procedure, word)
        calendar = handout.render("ics").decode("utf-8")
        assert f"X-WR-LANGUAGE:{language}" in calendar


@pytest.mark.slow
@pytest.mark.parametrize("procedure", ADDED_SETS)
@pytest.mark.parametrize("language", ADDED)
def test_every_built_in_set_prints_in_each_added_language_with_every_glyph(procedure, language):
    for large_print in (False, True):
        pdf = make(language, procedure, large_print=large_print).pdf()
        text = pdf_text(pdf).replace("Draft translation, not reviewed", "")
        assert english_words(text) == [], (procedure, large_print)
        assert missing_glyphs(text) == [], (procedure, large_print)
        assert "Nguyễn Thị Hương" in text
        assert squash(PAGE_WORDS[language]) in squash(text)


@pytest.mark.parametrize("language", ADDED)
def test_each_added_language_has_every_medicine_of_the_table(language):
    from pars_docs.load.loader import load_yaml

    table = load_yaml(instructions_dir() / "medicines.yaml").data["medicines"]
    words = load_yaml(instructions_dir() / f"medicines.{language}.yaml").data["medicines"]
    assert [m["name"] for m in table] == list(words)
    for medicine in table:
        assert words[medicine["name"]]["name"], medicine["name"]


def test_russian_medicine_lines_keep_the_name_as_given_after_a_noun():
    text = squash(make("ru", "lumbar-fusion").render("text").decode("utf-8"))
    # "препарат Eliquis" leaves the brand as the patient gave it, undeclined, with the
    # Russian generic name; the garlic note and the plain-word name are in Russian.
    assert squash("Последняя доза препарата Eliquis (апиксабан): воскресенье,") in text
    assert squash("Речь идёт о таблетках чеснока") in text
    assert squash("Последняя доза препарата рыбий жир (omega-3):") in text


def test_numbers_from_the_timing_take_the_languages_decimal_sign():
    russian = make("ru", "kyphoplasty").render("text").decode("utf-8")
    assert "100,4 °F (38 °C)" in russian and "4,5 кг" in russian
    assert "100.4" not in russian
    english = make("en", "kyphoplasty").render("text").decode("utf-8")
    assert "100.4 °F (38 °C)" in english and "(4.5 kilograms)" in english


def test_a_declared_decimal_sign_is_the_one_cldr_gives_the_language():
    from babel import Locale

    from pars_docs.load.loader import load_yaml
    from pars_docs.resources import templates_dir

    formats = load_yaml(templates_dir() / "formats.yaml").data
    declared = {lang: block["decimal"] for lang, block in formats.items() if "decimal" in block}
    assert set(ADDED) <= set(declared)
    for language, sign in declared.items():
        symbols = Locale.parse(language.replace("-", "_")).number_symbols["latn"]
        assert sign == symbols["decimal"], language


def test_portuguese_and_french_medicine_lines_read_without_an_article_or_elision():
    portuguese = squash(make("pt", "lumbar-fusion").render("text").decode("utf-8"))
    assert squash("Última dose de Eliquis (apixabana): domingo,") in portuguese
    assert squash("Isto vale para cápsulas de alho") in portuguese
    # "votre" before the name: no "de Eliquis" / "d'aspirine" to get wrong.
    french = squash(make("fr", "lumbar-fusion").render("text").decode("utf-8"))
    assert squash("Prenez votre Eliquis (apixaban) pour la dernière fois le dimanche") in french
    assert squash("votre huile de poisson (omega-3)") in french
    # French typography: a no-break space before the colon of the wording.
    assert "Début\u00a0:" in make("fr", "lumbar-ilesi").render("text").decode("utf-8")


def test_haitian_creole_dates_use_its_own_names_of_days_and_months():
    # CLDR has none for ht (Babel writes "Thu" and "M12"): formats.yaml gives them.
    text = make("ht", sedation=True).render("text").decode("utf-8")
    for words in (
        "Pasyan: Nguyễn Thị Hương",
        "Dat: jedi, 3 desanm 2026",
        "Lè li kòmanse: 13:30",
        "Pran dènye dòz Eliquis (apixaban) ou jou dimanch, 29 novanm.",
        "jedi, 3 desanm, a 7:30",
        "100,4 °F (38 °C)",
    ):
        assert squash(words) in squash(text), words
    assert not re.search(r"\bM1[0-2]\b|\bThu\b", text)
    assert english_words(text.replace("Draft translation, not reviewed", "")) == []


def test_tagalog_medicine_lines_name_the_dose_not_a_verb_for_swallowing():
    # "Inumin" (drink, swallow) would be wrong for a shot or a gel, so the lines name the dose.
    text = squash(make("tl", "lumbar-fusion").render("text").decode("utf-8"))
    assert squash("Ang huling dosis ng Eliquis (apixaban) ay sa Linggo,") in text
    assert squash("Huling dosis ng Eliquis (apixaban). Pagkatapos nito, itigil ito.") in text
    assert squash("Ang tinutukoy dito ay tabletang bawang") in text
    assert "inumin ang huling" not in text.casefold()
