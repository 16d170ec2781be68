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
