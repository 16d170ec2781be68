"""The handout, second pass (issue 21): nothing past worded as a to-do in the body, "ask us"
with a day, clinic days, the clocks changing during the night, and the published-handout
content of the two pars sets."""

import json
from dataclasses import replace
from datetime import date, datetime

from helpers import SITE, squash
from icalendar import Calendar

from pars_docs.handout import make_handout
from pars_docs.load.site import load_site
from pars_docs.plan.timeline import open_day


def handout(procedure="pars-defect-injection", day="2027-03-09", clock="8:00 AM", **kw):
    kw.setdefault("as_of", datetime(2027, 3, 1, 9))
    return make_handout(procedure, "Ana Díaz", day, clock, "Dr. Sam Lee", site=SITE, **kw)


def text_of(h) -> str:
    return squash(h.render("text").decode("utf-8"))


# -- nothing past as a to-do, in the body too -----------------------------------------------


def test_a_fast_already_begun_is_not_a_to_do_in_the_body():
    # 8:00 AM start with sedation: last food 2:00 AM, clear liquids 6:00 AM; now 6:30 AM.
    h = handout(sedation=True, as_of=datetime(2027, 3, 9, 6, 30))
    text = text_of(h)
    assert "Your fast began at Tuesday, March 9 at 2:00 AM. Do not eat now." in text
    assert "If you drank after that time, call us today." in text
    assert "Do not eat or drink anything until after your shot." in text
    assert "Do not eat or drink anything after that." not in text
    assert "Eat your last food before" not in text
    assert "Drink only clear liquids until" not in text


def test_an_arrival_already_past_is_not_a_to_do():
    h = handout(as_of=datetime(2027, 3, 9, 7, 45))
    text = text_of(h)
    assert "You were due here by Tuesday, March 9 at 7:30 AM." in text
    assert "If you are not here yet, call us now." in text
    assert "Get here by" not in text
    later = text_of(handout(as_of=datetime(2027, 3, 9, 7)))
    assert "Get here by Tuesday, March 9 at 7:30 AM." in later


def test_a_medicine_stop_already_past_asks_whether_it_was_stopped():
    h = handout(medications=["Eliquis"], as_of=datetime(2027, 3, 8, 9))
    text = text_of(h)
    assert "You needed to stop Eliquis (apixaban) 3 days before your shot." in text
    assert "If you have not stopped it yet, call us today." in text
    assert "Take your last Eliquis" not in text


# -- "ask us" with a day --------------------------------------------------------------------


def test_an_ask_us_medicine_has_a_day_in_the_body_key_times_json_and_calendar():
    # Tuesday, March 9: 3 days before is Saturday, March 6, a closed day: Friday, March 5.
    h = handout(medications=["metformin", "fish oil"])
    text = text_of(h)
    assert "Call us by Friday, March 5 about metformin" in text
    assert "[ ] Friday, March 5: Call us by this day about metformin" in text
    assert "fish oil (omega-3)." in text
    timeline = json.loads(h.render("json"))["key_times"]
    asks = [k for k in timeline if k["action"] == "ask_by"]
    assert len(asks) == 1 and asks[0]["at"].startswith("2027-03-05")
    summaries = {
        str(e["SUMMARY"]): e.decoded("DTSTART")
        for e in Calendar.from_ical(h.render("ics")).walk("VEVENT")
    }
    assert summaries["Call us about your medicines: Pars defect injection"] == date(2027, 3, 5)


def test_no_ask_us_line_without_a_medicine_to_ask_about():
    h = handout(medications=["Eliquis"])
    assert "Call us by this day" not in text_of(h)
    timeline = json.loads(h.render("json"))["key_times"]
    # The moment is computed (listed after page 1's lines), but it is not a line to act on.
    assert not [k for k in timeline if k["action"] == "ask_by" and k["on_page_1"]]


def test_an_ask_us_day_already_past_is_call_us_today():
    h = handout(medications=["metformin"], as_of=datetime(2027, 3, 8, 9))
    text = text_of(h)
    assert "[ ] Today: Call us today about metformin" in text
    assert "Call us today about metformin (Glucophage, Glumetza, Fortamet)." in text


def test_a_surgery_restart_left_to_us_has_a_day():
    h = handout("pars-defect-decompression", medications=["Advil"])
    assert "Call us by Friday, March 5 to ask when you may start it again." in text_of(h)


# -- clinic days ------------------------------------------------------------------------------


def test_a_follow_up_on_a_weekend_moves_to_the_next_clinic_day():
    # Monday, March 8 + 5 days is Saturday, March 13: Monday, March 15 instead.
    text = text_of(handout(day="2027-03-08"))
    assert "[ ] Monday, March 15: Follow-up: come in or call us." in text
    assert "Saturday, March 13" not in text


def test_closed_dates_and_open_weekends_come_from_the_site():
    site = load_site(SITE)
    weekend = replace(site, clinic_days=(0, 1, 2, 3, 4, 5))
    assert open_day(date(2027, 3, 13), weekend) == date(2027, 3, 13)
    holiday = replace(site, closed_dates=frozenset({date(2027, 3, 15)}))
    assert open_day(date(2027, 3, 13), holiday) == date(2027, 3, 16)
    assert open_day(date(2027, 3, 14), holiday, -1) == date(2027, 3, 12)


def test_the_example_clinic_names_its_days(runner, tmp_path):
    from pars_docs.cli import cli

    bad = tmp_path / "site.yaml"
    bad.write_text(
        "clinic: {name: C, phone: '1'}\ntimezone: America/New_York\nclinic_days: [monday, funday]\n"
    )
    result = runner.invoke(cli, ["check", str(bad)])
    assert result.exit_code == 1
    assert "clinic_days" in result.output


# -- the clocks change during the night --------------------------------------------------------


def test_a_fast_across_the_night_the_clocks_go_forward_says_so():
    # New York springs forward at 2:00 AM on Sunday, March 14, 2027.
    text = text_of(handout("pars-defect-decompression", day="2027-03-14"))
    assert "The clocks go forward one hour during the night of Saturday, March 13." in text
    assert "already count this" in text


def test_no_clock_note_when_no_change_is_crossed():
    assert "The clocks" not in text_of(handout("pars-defect-decompression", day="2027-03-16"))


def test_the_clock_note_in_spanish_when_the_clocks_go_back():
    h = handout(
        "pars-defect-decompression",
        day="2027-11-07",
        language="es",
        as_of=datetime(2027, 10, 1, 9),
    )
    assert "Los relojes se atrasan una hora durante la noche del sábado 6 de noviembre." in (
        text_of(h)
    )


# -- key times say "before" -------------------------------------------------------------------


def test_key_times_for_the_last_food_and_liquids_say_before():
    text = text_of(handout(sedation=True))
    assert "Tuesday, March 9 at 2:00 AM: Eat your last food before this time." in text
    assert "Drink your last clear liquids before this time." in text


# -- what published handouts cover --------------------------------------------------------------


def test_the_injection_covers_published_aftercare():
    text = text_of(handout(medications=["Eliquis"]))
    for phrase in (
        "make your face red and warm, make it hard to sleep, change your mood, or raise your "
        "blood pressure",
        "Check your blood sugar more often than usual until Tuesday, March 23.",
        "Do not take a bath, swim, or use a hot tub until Thursday, March 11 at 8:30 AM.",
        "Do not drive until your legs feel normal.",
        "go back to work or school on Wednesday, March 10",
        "Are under 18: a parent must come too.",
        "Ask your doctor before you go back to a sport.",
    ):
        assert phrase in text, phrase


def test_the_surgery_covers_published_preparation_and_recovery():
    text = text_of(handout("pars-defect-decompression", medications=["Eliquis"]))
    for phrase in (
        "germ-killing soap (CHG)",
        "Do not shave where the cut will be.",
        "Take off jewelry and nail polish.",
        "Your CPAP machine, if you use one",
        "Your medicines in their bottles",
        "Get out of bed by rolling to your side",
        "Sleep on your back or side",
        "stop to walk on long car rides",
        "take sleeping pills with opioid pain medicine",
        "return leftovers to a take-back place",
        "so you do not fall",
    ):
        assert phrase in text, phrase
    assert "ketoacidosis" not in text and "belly pain" not in text  # no SGLT2 medicine listed
    with_sglt2 = text_of(handout("pars-defect-decompression", medications=["Jardiance"]))
    assert "Get care right away if you throw up, have belly pain" in with_sglt2
    assert "Check your blood sugar more often than usual while you heal." in with_sglt2


# -- layout defects -----------------------------------------------------------------------------


def _line_words(paragraph) -> list[list[str]]:
    """The words of each laid-out line of a ReportLab paragraph."""
    return [
        list(line[1]) if isinstance(line, tuple) else [f.text for f in line.words]
        for line in paragraph.blPara.lines
    ]


def test_a_paragraph_continued_on_the_next_page_has_single_word_gaps():
    # A continued paragraph laid out again (Spanish large print) showed two spaces where a
    # line had ended: the spaces added at line ends for copying went into the next part.
    from reportlab.lib.styles import ParagraphStyle

    from pars_docs.render.pdf.flowables import CachedParagraph

    style = ParagraphStyle("continued", fontName="Helvetica", fontSize=18, leading=24)
    sentence = "Tome su última dosis de Eliquis el jueves y luego deje de tomarlo hasta el lunes"
    paragraph = CachedParagraph(" ".join([sentence] * 4), style)
    _, height = paragraph.wrap(300, 1000)
    first, rest = paragraph.split(300, height / 2)
    rest.wrap(250, 1000)
    lines = _line_words(rest)
    assert not any("  " in " ".join(line).rstrip() for line in lines)
    # Nothing lost or added at the split: the two parts hold the paragraph's words.
    both = " ".join(" ".join(line) for line in [*_line_words(first), *lines]).split()
    assert both == " ".join([sentence] * 4).split()


def _page_texts(pdf: bytes) -> list[str]:
    import io

    from pypdf import PdfReader

    return [squash(p.extract_text()) for p in PdfReader(io.BytesIO(pdf)).pages]


def test_no_page_before_the_call_boxes_is_left_mostly_blank():
    # The surgery with three medicines, one of them an SGLT2 medicine, runs to 5 pages; the
    # questions area and boxes did not fit on page 4 and left two thirds of it blank.
    h = handout(
        "pars-defect-decompression",
        day="2027-03-08",
        medications=["Eliquis", "aspirin", "Jardiance"],
    )
    texts = _page_texts(h.pdf())
    assert len(texts) == 5
    assert "Questions for your care team" in texts[3]
    assert "Call us if you have" in texts[4] and "Call 911 right away" in texts[4]
    assert "Questions for your care team" not in texts[4]


def test_large_print_keeps_the_regular_order_questions_call_us_call_911():
    h = handout(
        "pars-defect-decompression", day="2027-03-08", medications=["Eliquis"], large_print=True
    )
    texts = _page_texts(h.pdf())

    def page(words: str) -> int:
        return next(n for n, text in enumerate(texts) if words in text)

    questions, clinic, emergency = (
        page("Questions for your care team"),
        page("Call us if you have"),
        page("Call 911 right away if you have"),
    )
    assert questions <= clinic <= emergency <= clinic + 1
    assert emergency == len(texts) - 1
