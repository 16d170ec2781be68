"""Layout defects found by the clinical review, each with a test that fails without its fix
(issue 21, item 10)."""

import io
import re
from datetime import datetime

import pytest
from helpers import SITE
from pypdf import PdfReader

from pars_docs import make_handout


def pdf_lines(procedure, language, large, paper="letter") -> str:
    handout = make_handout(
        procedure,
        "Ana Díaz",
        "2026-12-03",
        "8:00 AM",
        "Dr. Sam Lee",
        site=SITE,
        language=language,
        large_print=large,
        as_of=datetime(2026, 11, 20, 9),
    )
    reader = PdfReader(io.BytesIO(handout.pdf(paper)))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize(
    "procedure,language,paper",
    [
        ("pars-defect-injection", "en", "letter"),
        ("pars-defect-injection", "es", "a4"),
        ("pars-defect-decompression", "en", "a4"),
        ("pars-defect-decompression", "es", "letter"),
    ],
)
def test_a_unit_never_starts_a_line_apart_from_its_number(procedure, language, paper):
    # Large print broke "(38 °C)" as "(38" / "°C)".
    text = pdf_lines(procedure, language, True, paper)
    assert "°C" in text
    assert not re.search(r"\d[ \xa0]*\n[ \xa0]*°", text)


def test_a_call_box_taller_than_a_page_is_split_between_its_paragraphs():
    """Russian large print made the lumbar fusion's "Call us" box 690.6 pt tall, more than a
    letter page holds (688.4): the handout could not be made, nor the wheel built. It now
    goes on in a second framed box on the next page."""
    import datetime

    from pypdf import PdfReader

    from pars_docs.handout import make_handout

    h = make_handout(
        "lumbar-fusion",
        "Ana Díaz",
        "2026-12-03",
        "8:00 AM",
        "Dr. Lee",
        medications=["Eliquis"],
        language="ru",
        large_print=True,
        as_of=datetime.datetime(2026, 11, 20, 9, 0),
    )
    pages = PdfReader(io.BytesIO(h.pdf())).pages
    text = "".join(page.extract_text() for page in pages[-2:])
    assert "Позвоните нам" in text and "911" in text


def _key_days(procedure: str, language: str, paper: str, tmp_path) -> tuple[list[str], list[str]]:
    """The days and times of the key times as composed, and the text of every paragraph of
    the large-print PDF as its structure tree reads it (line by line, joined by spaces)."""
    import subprocess

    from pars_docs.compose.markup import plain

    handout = make_handout(
        procedure,
        "Ana Díaz",
        "2026-03-09",
        "7:30 AM",
        "Dr. Sam Lee",
        dob="1970-04-02",
        medications=["Eliquis", "aspirin", "Advil"],
        site=SITE,
        language=language,
        large_print=True,
        include_past=True,
    )
    days = [
        " ".join(plain(at.get("at")).split())
        for document in handout.documents
        for at in document.iter("time")
        if at.get("at")
    ]
    pdf = tmp_path / f"{language}.pdf"
    pdf.write_bytes(handout.pdf(paper))
    tree = subprocess.run(
        ["pdfinfo", "-struct-text", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    read = [" ".join(m.split()) for m in re.findall(r'^\s*"(.*)"$', tree, re.M)]
    return days, read


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_a_key_times_day_is_never_cut_inside_a_word_in_any_language(tmp_path, paper):
    """French large print cut "vendredi 6 mars" as "vendredi 6 ma" / "rs": the day and
    month were glued together wider than the column. A key time's day and time may take two
    lines, between words; each one reads back word for word, in every language that writes
    spaces between its words and whose PDF text reads back as drawn (Chinese wraps between
    characters, and Arabic's shaped glyphs read back through /ActualText: test_scripts.py)."""
    from collections import Counter

    from pars_docs.handout import Engine

    procedure = "pars-defect-injection"
    languages = [x for x in Engine().library.languages(procedure) if not x.startswith(("zh", "ar"))]
    assert {"en", "fr", "ko", "ru", "pt"} <= set(languages)
    for language in languages:
        days, read = _key_days(procedure, language, paper, tmp_path)
        assert len(days) >= 6, language
        found = Counter(read)
        missing = [d for d, n in Counter(days).items() if found[d] < n]
        assert missing == [], (language, missing)
