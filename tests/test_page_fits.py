"""Page fits (issue 21): at default options with three medicines, on Letter, these handouts fit
on 4 pages (two sheets printed on both sides), as the English pars sets do: the SCS trial and
kyphoplasty on a normal day and when the clocks change during the visit's night (the note on
page 1 adds two lines). The Spanish pars injection (with its pictures) and the Spanish and
Vietnamese pars surgery still take 5 (docs/layout.md)."""

import io
from datetime import datetime

import pytest
from helpers import SITE
from pypdf import PdfReader

from pars_docs.handout import make_handout

MEDS = ["Eliquis", "aspirin", "Advil"]
# Thursday, March 4, 2027, and Sunday, March 14, 2027, when New York springs forward at 2 AM.
NORMAL, CLOCKS = "2027-03-04", "2027-03-14"
CASES = [
    ("scs-trial", "en", NORMAL),
    ("scs-trial", "en", "2027-03-09"),
    ("scs-trial", "en", CLOCKS),
    ("kyphoplasty", "en", NORMAL),
    ("kyphoplasty", "en", CLOCKS),
]


def page_count(set_id: str, language: str, day: str, medications=MEDS) -> int:
    h = make_handout(
        set_id,
        "Ana Díaz",
        day,
        "8:00 AM",
        "Dr. Sam Lee",
        dob="1970-04-02",
        medications=medications,
        language=language,
        site=SITE,
        as_of=datetime(2027, 2, 1, 9),
    )
    if day == CLOCKS:
        assert "clocks go forward" in h.render("text").decode("utf-8")
    return len(PdfReader(io.BytesIO(h.pdf("letter"))).pages)


@pytest.mark.parametrize(("set_id", "language", "day"), CASES)
def test_fits_on_four_pages(set_id, language, day):
    assert page_count(set_id, language, day) <= 4


def test_the_fusion_key_times_stay_on_page_one_with_their_before():
    # Its last food and liquids say "before this time" (two lines each in the narrow column):
    # with the wording as it was, the list ran onto page 2 and the handout to 5 pages.
    assert page_count("lumbar-fusion", "en", NORMAL, ["warfarin", "aspirin", "ibuprofen"]) <= 4
