"""Nothing past reads as a to-do, in every built-in set (issue 21, items 2 and 6): a handout
made after the arrival time (and the fast, where the set has one) words those moments as done
or "if you have not", and the key times say "before" for the last food and liquids, as the
body does."""

from datetime import datetime, timedelta

import pytest
from helpers import SITE, built_in_sets, squash

from pars_docs.handout import make_handout

# A Tuesday the clinic is open, far from a clock change.
DAY = "2027-03-09"
START = datetime(2027, 3, 9, 8)

# What an on-time handout asks the patient to do for the moments before the start: none of it
# may be printed once those moments are past.
TO_DO = (
    "Get here by",
    "Eat your last food before",
    "Drink only clear liquids until",
    "Do not eat or drink anything after that",
    "Take your last Eliquis",
    "too late to start your fast",
    "too late to stop eating",
)


def fasts(set_id: str) -> bool:
    from pars_docs.load.library import Library

    return "stop_solids" in Library().get(set_id).data["timing"]


def handout(set_id: str, as_of: datetime, **kw):
    options = {"sedation": True} if _has_sedation(set_id) else {}
    return make_handout(
        set_id,
        "Ana Díaz",
        DAY,
        "8:00 AM",
        "Dr. Sam Lee",
        site=SITE,
        as_of=as_of,
        medications=["Eliquis", "aspirin", "Advil"],
        **options,
        **kw,
    )


def _has_sedation(set_id: str) -> bool:
    from pars_docs.load.library import Library

    return "sedation" in str(Library().get(set_id).data.get("timing", {}))


def text_of(h) -> str:
    return squash(h.render("text").decode("utf-8"))


@pytest.mark.parametrize("set_id", built_in_sets())
def test_a_visit_whose_arrival_is_past_gives_no_to_do_for_it(set_id):
    # A week before, the patient is told what to do; five minutes before the start, the
    # arrival and every fast moment are past, and so is a medicine's last dose.
    early = text_of(handout(set_id, START - timedelta(days=7)))
    late = text_of(handout(set_id, START - timedelta(minutes=5)))
    for phrase in TO_DO:
        assert phrase not in late, f"{set_id}: {phrase!r} printed after its time"
    assert "Get here by Tuesday, March 9 at" in early
    assert "You were due here by Tuesday, March 9 at" in late
    assert "If you are not here yet, call us now." in late
    if "Take your last Eliquis" in early:  # a set that stops it (others ask us)
        assert "You needed to stop Eliquis (apixaban)" in late
        assert "If you have not stopped it yet, call us today." in late
    if fasts(set_id):
        assert "Eat your last food before" in early and "Your fast began" not in early
        assert "Your fast began at" in late
        assert "If you drank after that time, call us today." in late
        assert "If you ate or drank after the times in your handout, call us today." in late


@pytest.mark.parametrize("set_id", built_in_sets())
def test_key_times_say_before_where_the_body_does(set_id):
    if not fasts(set_id):
        pytest.skip("no fast in this set")
    text = text_of(handout(set_id, START - timedelta(days=7)))
    assert "Eat your last food before this time." in text
    assert "Drink your last clear liquids before this time." in text
    assert "Eat your last food." not in text
    assert "Drink your last clear liquids." not in text
