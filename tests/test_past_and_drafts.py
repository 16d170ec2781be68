"""Nothing past as an instruction, the day a handout was made, and draft translations marked
(issue 21, items 2 and 4)."""

from datetime import datetime

import pytest
from helpers import SITE, pdf_text, squash
from pypdf import PdfReader

from pars_docs import make_handout
from pars_docs.cli import cli
from pars_docs.errors import VisitError

DRAFT_EN = "Draft translation, not reviewed"
DRAFT = {"es": "Borrador, sin revisar", "vi": "Bản nháp, chưa được duyệt"}


def pages(data: bytes) -> list[str]:
    import io

    return [squash(p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]


def made(language="en", as_of=datetime(2026, 11, 20, 9), **kw):
    return make_handout(
        "pars-defect-injection",
        "Ana Díaz",
        "2026-12-03",
        "8:00 AM",
        "Dr. Sam Lee",
        site=SITE,
        language=language,
        as_of=as_of,
        **kw,
    )


def test_a_visit_already_over_is_refused(make):
    result, out = make("--as-of", "2026-12-04T09:00")
    assert result.exit_code == 1
    assert result.output == (
        "pars-docs: error: date: the visit is already over (it is 2026-12-04 09:00 on the "
        "clinic's clock); check the date and time, or give --include-past for a reprint\n"
    )
    assert not out.exists()
    with pytest.raises(VisitError, match="already over"):
        made(as_of=datetime(2026, 12, 4, 9))


def test_a_reprint_says_so_and_when_on_page_one(make):
    result, out = make("--as-of", "2026-12-04T09:00", "--include-past")
    assert result.exit_code == 0, result.output
    first = pages(out.read_bytes())[0]
    assert "Reprint made on Friday, December 4, 2026" in first


def test_a_visit_still_to_come_is_no_reprint():
    first = pages(made().pdf())[0]
    assert "Reprint" not in first


@pytest.mark.parametrize(
    "language,shown",
    [
        ("en", "Made November 20, 2026"),
        ("es", "Hecho el 20 de noviembre de 2026"),
        ("vi", "Làm ngày 20 tháng 11 năm 2026"),
    ],
)
@pytest.mark.parametrize("large_print", [False, True])
def test_every_page_shows_the_day_it_was_made(language, shown, large_print):
    for text in pages(made(language, large_print=large_print).pdf()):
        assert shown in text


def test_a_batch_refuses_a_past_row_unless_include_past(runner, tmp_path):
    listing = tmp_path / "list.csv"
    listing.write_text(
        "procedure,patient,date,time,clinician\n"
        "pars-defect-injection,Ana Díaz,2026-12-03,8:00 AM,Dr. Sam Lee\n",
        encoding="utf-8",
    )
    args = ["batch", str(listing), "--site", str(SITE), "--as-of", "2026-12-05"]
    result = runner.invoke(cli, [*args, "--out-dir", str(tmp_path / "a")])
    assert result.exit_code == 1
    assert "the visit is already over" in result.output
    result = runner.invoke(cli, [*args, "--include-past", "--out-dir", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    (pdf,) = (tmp_path / "b").glob("*.pdf")
    assert "Reprint made on" in pdf_text(pdf)


@pytest.mark.parametrize("language", ["es", "vi"])
@pytest.mark.parametrize("large_print", [False, True])
def test_a_draft_translation_says_so_on_every_page(language, large_print):
    handout = made(language, large_print=large_print)
    texts = pages(handout.pdf())
    assert len(texts) > 1
    for text in texts:
        assert DRAFT_EN in text and DRAFT[language] in text
    assert any(f"the {language} translation is a draft" in w for w in handout.warnings)


def test_an_english_handout_carries_no_draft_mark():
    handout = made("en")
    assert not any(DRAFT_EN in text for text in pages(handout.pdf()))
    assert not any("translation is a draft" in w for w in handout.warnings)


def test_the_footer_names_the_english_review_and_the_translations_own_status():
    english = " ".join(pages(made("en").pdf()))
    assert "v1.2.0, reviewed 2026-11-20" in english
    spanish = " ".join(pages(made("es").pdf()))
    assert "inglés revisado el 2026-11-20; traducción en borrador, sin revisar" in spanish
    assert "v1.2.0, revisado el" not in spanish


def test_a_bilingual_handout_marks_only_the_draft_part():
    handout = made("es", also_language="en")
    texts = pages(handout.pdf())
    marked = [DRAFT["es"] in text for text in texts]
    assert any(marked) and not all(marked)


def test_make_warns_of_a_draft_on_stderr(make):
    result, _ = make("--language", "es")
    assert result.exit_code == 0
    assert "warning: the es translation is a draft, not reviewed" in result.output


def test_the_text_rendition_says_draft_first_and_the_day_made():
    text = made("vi").render("text").decode()
    assert text.startswith(f"*** {DRAFT_EN} · {DRAFT['vi']} ***\n")
    assert "Làm ngày 20 tháng 11 năm 2026" in text
    english = made("en").render("text").decode()
    assert "Made November 20, 2026" in english and DRAFT_EN not in english
