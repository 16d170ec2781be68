"""Page 1 holds the patient block, the start of the key times and the clinic's phone, in every
language, print size, paper and medicine list, bilingual included (issue 21, item 3)."""

import io
import itertools
from datetime import datetime

import pytest
from helpers import SITE
from pypdf import PdfReader

from pars_docs import make_handout

MEDS = ["Eliquis", "aspirin", "Advil", "fish oil", "Ozempic", "Jardiance", "metformin", "warfarin"]
TITLE = {"en": "Your key times", "es": "Sus horas clave", "vi": "Các mốc giờ quan trọng"}
PATIENT = {"en": "Patient", "es": "Paciente", "vi": "Bệnh nhân"}
MORE = {
    "en": "The list goes on, on the next page.",
    "es": "La lista sigue en la página siguiente.",
    "vi": "Danh sách còn tiếp ở trang sau.",
}
PHONE = "(555) 010-2000"

CASES = [
    (procedure, language, large, paper, meds, also)
    for procedure, language, large, paper, meds, also in itertools.product(
        ["pars-defect-injection", "pars-defect-decompression"],
        ["en", "es", "vi"],
        [False, True],
        ["letter", "a4"],
        [0, len(MEDS)],
        [None, "en"],
    )
    if also != language
]
# The cases that lost the phone or the key times before (large print, many medicines,
# bilingual): run in the quick loop too.
QUICK = [
    ("pars-defect-decompression", "en", True, "letter", 0, None),
    ("pars-defect-decompression", "es", True, "letter", len(MEDS), "en"),
    ("pars-defect-injection", "vi", True, "letter", 0, "en"),
    ("pars-defect-decompression", "es", False, "a4", len(MEDS), None),
    # With a date of birth, the Spanish bilingual large-print patient block leaves room for
    # the box's title and phone only: its introduction goes on with the list.
    ("pars-defect-decompression", "es", True, "letter", 0, "en", "1970-04-02"),
]


def first_pages(case) -> tuple[list[str], str]:
    procedure, language, large, paper, meds, also, *dob = case
    handout = make_handout(
        procedure,
        "Ana Díaz",
        "2026-12-03",
        "8:00 AM",
        "Dr. Sam Lee",
        site=SITE,
        language=language,
        large_print=large,
        medications=MEDS[:meds],
        also_language=also,
        dob=dob[0] if dob else None,
        sedation=True if procedure == "pars-defect-injection" else None,
        as_of=datetime(2026, 11, 20, 9),
    )
    reader = PdfReader(io.BytesIO(handout.pdf(paper)))
    texts = [" ".join(page.extract_text().split()) for page in reader.pages]
    return texts, language


def check_page_one(case) -> None:
    texts, language = first_pages(case)
    first = texts[0]
    assert PATIENT[language] in first, "the patient block"
    assert TITLE[language] in first, "the start of the key times"
    assert PHONE in first, "the clinic's phone"
    # A list that goes on to the next page says so, and the next page says it continues.
    for text, after in itertools.pairwise(texts):
        if MORE[language] in text:
            assert TITLE[language] in after


@pytest.mark.parametrize("case", QUICK, ids=lambda c: "-".join(map(str, c)))
def test_page_one_holds_the_patient_the_key_times_and_the_phone(case):
    check_page_one(case)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c)))
def test_page_one_holds_them_in_every_case(case):
    check_page_one(case)


def test_a_key_times_list_that_goes_on_says_so():
    texts, _ = first_pages(("pars-defect-decompression", "en", True, "letter", len(MEDS), None))
    assert MORE["en"] in texts[0]
    assert "Your key times (continued)" in texts[1]
