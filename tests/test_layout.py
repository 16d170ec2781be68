"""The handout as a patient reads it: key times on page 1, what is kept together, the footer,
and checkboxes only where there is something to do."""

import io
import json
import re
from datetime import date, datetime

import pytest
from helpers import DATA, render_ics, render_json, render_text, squash
from icalendar import Calendar
from pypdf import PdfReader

from pars_docs import make_handout
from pars_docs.render.pdf.styles import FOOTER_TOP, MARGIN

SITE = DATA / "site-ny.yaml"
SETS = ["pars-defect-injection", "pars-defect-decompression"]
PRIVATE = re.compile("[\ue000\ue001]")
MEDS = ["Eliquis", "aspirin", "Advil"]


def handout(procedure="pars-defect-injection", day="2026-03-09", clock="7:30 AM", **kw):
    kw.setdefault("site", SITE)
    return make_handout(procedure, "Ana Díaz", day, clock, "Dr. Sam Lee", **kw)


def pages(pdf: bytes) -> list[str]:
    return [squash(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def summary(h) -> list[tuple[str, str, str]]:
    """The page-1 checklist as composed: (action, day and time, words)."""
    box = h.document.find("keytimes")
    return [
        (t.get("action"), PRIVATE.sub("", t.get("at")), PRIVATE.sub("", t.text))
        for t in box.findall("time")
    ]


# -- key times ----------------------------------------------------------------------------


@pytest.mark.parametrize("procedure", SETS)
def test_key_times_are_in_time_order_and_match_the_json_and_the_calendar(procedure):
    h = handout(procedure, sedation=True if procedure == SETS[0] else None, medications=MEDS)
    lines = summary(h)
    # Page 1's lines lead the JSON's key times; the other computed moments follow them.
    timeline = [k for k in json.loads(render_json(h))["key_times"] if k["on_page_1"]]
    assert [line[0] for line in lines] == [item["action"] for item in timeline]
    assert {"last_dose", "restart", "stop_solids", "stop_liquids", "arrive", "follow_up"} <= {
        line[0] for line in lines
    }
    # Time order: the JSON moments never go backwards.
    days = [date.fromisoformat(item["at"][:10]) for item in timeline]
    assert days == sorted(days)
    # Each line's day and time is the JSON's moment, written as the handout writes it.
    for (_, at, _), item in zip(lines, timeline, strict=True):
        moment = date.fromisoformat(item["at"][:10])
        assert moment.strftime("%B ") + str(moment.day) in at
        if "T" in item["at"]:
            clock = datetime.fromisoformat(item["at"]).strftime("%I:%M %p").lstrip("0")
            assert clock in at
    # And every one of them is an event of the calendar, at the same moment.
    events = Calendar.from_ical(render_ics(h)).walk("VEVENT")
    starts = {e.start.isoformat() for e in events}
    assert {item["at"] for item in timeline} <= starts
    assert len(events) == len(timeline) + 1 + ("activity_end" in h.plan.moments)


def test_key_times_lead_page_one_with_the_clinic_phone():
    h = handout("pars-defect-decompression", medications=MEDS)
    first = pages(h.pdf())[0]
    assert "Your key times" in first
    assert "Questions? Call us: (555) 010-2000" in first
    for _, at, words in summary(h):
        assert squash(f"{at} {words}") in first
    assert "Thursday, March 5 Take your last Eliquis (apixaban). Then stop it." in first
    assert "Sunday, March 8 at 9:30 PM Eat your last food before this time." in first
    assert "Monday, March 9 at 5:30 AM Arrive. We start at 7:30 AM." in first
    assert "Thursday, March 12 Start Eliquis (apixaban) again" in first
    assert "Monday, April 20 Follow-up: come in or call us." in first


def test_key_times_lead_the_text_rendition():
    text = render_text(handout(sedation=True, medications=["Eliquis"]))
    lines = text.split("\n")
    start = lines.index("Your key times")
    assert start < lines.index("About your pars defect injection")
    assert "[ ] Thursday, March 5: Take your last Eliquis (apixaban). Then stop it." in lines
    assert "[ ] Monday, March 9 at 1:30 AM: Eat your last food before this time." in lines


def test_key_times_never_give_a_past_date_as_an_instruction():
    # The day before the visit, clopidogrel's last dose is long past, and so is nothing else.
    h = handout(
        day="2026-11-23",
        clock="9:00 AM",
        sedation=True,
        medications=["clopidogrel", "Eliquis"],
        as_of=datetime(2026, 11, 22, 23, 0),
    )
    lines = summary(h)
    assert lines[0][:2] == ("late_dose", "Today")
    assert "Call us today about clopidogrel" in lines[0][2]
    assert "too late to stop it on time" in lines[0][2]
    for action, at, _ in lines[1:]:
        assert action != "last_dose" or "November 2" not in at
    timeline = [k for k in json.loads(render_json(h))["key_times"] if k["on_page_1"]]
    assert timeline[0] == {
        "action": "late_dose",
        "at": None,
        "medicine": "clopidogrel",
        "late": True,
        "on_page_1": True,
    }
    for item in timeline:
        assert item["late"] == (item["at"] is None)
        assert item["late"] or item["at"] >= "2026-11-22"
    summaries = [str(e["SUMMARY"]) for e in Calendar.from_ical(render_ics(h)).walk("VEVENT")]
    assert not any("clopidogrel" in s and "Last" in s for s in summaries)


def test_a_fast_already_past_is_one_call_us_line():
    h = handout(day="2026-12-03", clock="8:00 AM", sedation=True, as_of=datetime(2026, 12, 3, 7))
    lines = summary(h)
    assert lines[0] == (
        "late_fast",
        "Today",
        "If you ate or drank after the times in your handout, call us today.",
    )
    assert [line[0] for line in lines].count("late_fast") == 1
    assert "stop_solids" not in [line[0] for line in lines]


# -- the footer and the patient block -----------------------------------------------------


def test_every_page_footer_has_name_date_of_birth_and_the_set():
    h = handout("pars-defect-decompression", medications=MEDS, dob="1970-04-02")
    texts = pages(h.pdf())
    for number, text in enumerate(texts, 1):
        assert f"Ana Díaz, born April 2, 1970 Page {number} of {len(texts)}" in text
        assert "pars-defect-decompression v1.3.0, reviewed 2026-11-20" in text


def test_a_midnight_start_has_one_date():
    h = handout(day="2026-12-03", clock="12:00 AM")
    fields = {f.get("label"): PRIVATE.sub("", f.text) for f in h.document.iter("field")}
    assert fields["Date"] == "Wednesday, December 2, 2026"
    assert fields["Start time"] == "Wednesday, December 2 at midnight"


# -- what is kept together ----------------------------------------------------------------


VARIANTS = [
    (procedure, sedation, meds, paper, note)
    for procedure, sedation in (
        ("pars-defect-injection", False),
        ("pars-defect-injection", True),
        ("pars-defect-decompression", None),
    )
    for meds in ((), MEDS, ("Eliquis", "warfarin", "Advil", "aspirin", "fish oil", "Plavix"))
    for paper in ("letter", "a4")
    for note in (None, "Bring your brace and your walker. " * 29)
]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(map(str, v))[:50])
def test_call_boxes_together_and_no_item_or_short_list_split(variant):
    procedure, sedation, meds, paper, note = variant
    h = handout(procedure, sedation=sedation, medications=list(meds), note=note)
    texts = pages(h.pdf(paper))
    last = texts[-1]
    assert "Call us if you have" in last
    assert "Call 911 right away if you have" in last
    # The questions area comes right before the boxes: on the last page, or ending the one
    # before when the whole would not fit there (issue 21: no page left mostly blank).
    assert "Questions for your care team" in last or (
        "Questions for your care team" in texts[-2] and "Call us if you have" not in texts[-2]
    )
    assert not any("Call 911 right away" in text for text in texts[:-1])
    assert "Your key times" in texts[0]
    for element in h.document.iter():
        if element.tag in ("check", "bullet", "step"):
            item = squash(PRIVATE.sub("", element.text))
            assert any(item in text for text in texts), f"split across pages: {item}"
        if element.tag == "group":
            items = [i for i in element if i.tag in ("check", "bullet", "step")]
            if len(items) <= 4:
                where = {
                    n
                    for n, text in enumerate(texts)
                    for i in items
                    if squash(PRIVATE.sub("", i.text)) in text
                }
                assert len(where) <= 1, element.get("title")


def test_page_one_is_not_left_half_empty_and_no_page_is_nearly_blank():
    for procedure in SETS:
        h = handout(procedure, medications=MEDS, sedation=True if procedure == SETS[0] else None)
        texts = pages(h.pdf())
        for text in texts[:-1]:
            assert len(text) > 1000, text[:80]


# -- checkboxes ---------------------------------------------------------------------------


@pytest.mark.parametrize("procedure", SETS)
def test_every_key_time_has_a_checkbox_in_the_pdf(procedure):
    h = handout(procedure, medications=MEDS)
    first = PdfReader(io.BytesIO(h.pdf())).pages[0].extract_text()
    assert first.count("☐") == len(summary(h))


def test_wrapped_lines_of_a_checklist_item_line_up_with_its_first_line():
    h = handout("pars-defect-decompression", medications=["Eliquis"])
    page = PdfReader(io.BytesIO(h.pdf())).pages[1]
    starts: list[tuple[float, str]] = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            starts.append((round(tm[4] + cm[4], 1), text))

    page.extract_text(visitor_text=visit)
    first = next(x for x, t in starts if t.startswith("Take your last Eliquis"))
    wrapped = next(x for x, t in starts if t.startswith("again on"))
    assert abs(first - wrapped) < 0.5


# -- large print --------------------------------------------------------------------------


def sizes(pdf: bytes) -> list[tuple[float, str, int]]:
    """(type size, text, page number) of every piece of text drawn above the footer and below
    the top margin (where a draft translation's mark is, in the footer's size)."""
    out: list[tuple[float, str, int]] = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages, 1):
        top = float(page.mediabox.top) - MARGIN

        def visit(text, cm, tm, font, size, number=number, top=top):
            if text.strip() and FOOTER_TOP < tm[5] + cm[5] < top:
                out.append((round(size * tm[0], 1), text.strip(), number))

        page.extract_text(visitor_text=visit)
    return out


LARGE = [("en", v) for v in VARIANTS[::3]] + [
    (language, (procedure, sedation, MEDS + ["warfarin", "fish oil"], paper, note))
    for language in ("es", "vi")
    for procedure, sedation, paper, note in (
        ("pars-defect-injection", True, "letter", VARIANTS[1][4]),
        ("pars-defect-decompression", None, "a4", None),
    )
]


@pytest.mark.parametrize(
    "language,variant", LARGE, ids=lambda v: v if isinstance(v, str) else "-".join(map(str, v))[:50]
)
def test_large_print_keeps_the_structure_in_bigger_type(language, variant):
    procedure, sedation, meds, paper, note = variant
    options = dict(sedation=sedation, medications=list(meds), note=note, language=language)
    regular = handout(procedure, **options)
    large = handout(procedure, large_print=True, **options)
    assert large.document.get("print") == "large" and regular.document.get("print") is None
    # The same words in the same order: only the layout differs.
    assert render_text(large) == render_text(regular)
    pdf = large.pdf(paper)
    drawn = sizes(pdf)
    assert min(size for size, _, _ in drawn) >= 18
    document = large.document
    title = lambda tag: squash(PRIVATE.sub("", document.find(tag).get("title")))  # noqa: E731
    headings = [size for size, text, _ in drawn if text == title("keytimes")]
    assert headings and min(headings) > 18
    texts = pages(pdf)
    assert title("keytimes") in texts[0]
    assert squash(document.find("patient/field").text) in texts[0]
    assert title("emergency") in texts[-1]
    # "Call us" is on the last page or the one before it, right before "Call 911".
    calls = [n for n, text in enumerate(texts) if title("callbox") in text]
    assert calls and calls[0] >= len(texts) - 2
    for element in document.iter():
        if element.tag in ("check", "bullet", "step"):
            item = squash(PRIVATE.sub("", element.text))
            assert any(item in text for text in texts), f"split across pages: {item}"
    headings = {squash(PRIVATE.sub("", g.get("title"))) for g in document.iter("group")}
    for number, text in enumerate(texts[:-1], 1):
        last = text.rsplit(" Ana Díaz", 1)[0]  # the page's text above its footer
        assert not any(last.endswith(h) for h in headings), f"heading alone on page {number}"


@pytest.mark.parametrize("language", ["en", "es", "vi"])
@pytest.mark.parametrize("large_print", [False, True])
def test_no_day_and_time_on_page_one_breaks_inside_a_word(language, large_print):
    # Long month and weekday names, times with minutes, and a "Today" line that narrows the
    # column: "martes 24 de noviembre, 2:00 a. m." may take two lines (the day, then the
    # time), never "novie" and "mbre".
    cases = [
        ("pars-defect-decompression", "2026-11-24", "12:00", datetime(2026, 11, 22, 9)),
        ("pars-defect-decompression", "2026-09-30", "11:30 AM", None),
        ("pars-defect-injection", "2026-11-25", "11:30 AM", datetime(2026, 11, 22, 9)),
    ]
    for procedure, day, clock, as_of in cases:
        h = handout(
            procedure,
            day,
            clock,
            medications=["Eliquis", "Ozempic"],
            language=language,
            large_print=large_print,
            site=None,
            as_of=as_of,
        )
        text = " ".join(pages(h.pdf()))
        words = {w for _, at, _ in summary(h) for w in at.split() if len(w) >= 5}
        for word in words:
            for cut in range(2, len(word) - 1):
                broken = f"{word[:cut]} {word[cut:]}"
                assert broken not in text, f"{day} {clock}: '{word}' broken as '{broken}'"


def test_large_print_from_the_site_and_per_row(tmp_path):
    from dataclasses import replace

    from pars_docs.load.site import load_site

    site = replace(load_site(SITE), large_print=True)
    assert handout(site=site).document.get("print") == "large"
    assert handout(site=site, large_print=False).document.get("print") is None


def test_large_print_on_the_command_line_and_in_a_batch(runner, tmp_path):
    from pars_docs.cli import cli

    out = tmp_path / "h.pdf"
    args = ["make", "pars-defect-injection", "--patient", "Ana Díaz", "--date", "2026-12-03"]
    args += ["--time", "8:00 AM", "--clinician", "Dr. Lee", "--site", str(SITE)]
    result = runner.invoke(cli, [*args, "--large-print", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert min(s for s, t, _ in sizes(out.read_bytes())) >= 18
    rows = tmp_path / "list.csv"
    rows.write_text(
        "procedure,patient,date,time,clinician,large_print\n"
        "pars-defect-injection,A,2026-12-03,8:00,Dr. Lee,yes\n"
        "pars-defect-injection,B,2026-12-03,9:00,Dr. Lee,\n"
        "pars-defect-injection,C,2026-12-03,10:00,Dr. Lee,maybe\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        cli, ["batch", str(rows), "--site", str(SITE), "--out-dir", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "row 4: large_print: '…' is not yes or no" in result.output
    made = sorted((tmp_path / "o").glob("*.pdf"))
    assert len(made) == 2
    smallest = [min(s for s, t, _ in sizes(p.read_bytes())) for p in made]
    assert sorted(smallest) == [12, 18]


# -- tagged PDF ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"procedure": "pars-defect-decompression", "medications": MEDS, "large_print": True},
        {"language": "es", "medications": MEDS, "sedation": True},
        {"language": "vi", "procedure": "pars-defect-decompression", "large_print": True},
        {
            "day": "2026-11-23",
            "clock": "9:00 AM",
            "medications": ["clopidogrel"],
            "as_of": datetime(2026, 11, 22, 23, 0),
        },
    ],
    ids=["surgery-large", "es", "vi-large", "too-late"],
)
def test_new_parts_are_tagged_and_the_checker_is_clean(options, tmp_path):
    pdfua = pytest.importorskip("pdfua")
    import pikepdf
    from test_tagging import marks

    made = handout(**options)
    data = made.pdf()
    path = tmp_path / "h.pdf"
    path.write_bytes(data)
    assert list(pdfua.validate(str(path)).findings) == []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pages = marks(pdf)
    # Icons, writing lines, grid rules: everything drawn is tagged or an artifact.
    assert all(not unmarked for _, unmarked in pages), pages
    assert all(mcids for mcids, _ in pages)
    text = " ".join(squash(p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages)
    for part in ("keytimes", "questions"):
        assert made.document.find(part).get("title") in text


# -- pages, the patient block, the key times box in large print -----------------------------


def positions(pdf: bytes, number: int = 0) -> list[tuple[float, float, float, str]]:
    """(x, y, type size, text) of each piece of text on page ``number``."""
    out: list[tuple[float, float, float, str]] = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            out.append((tm[4] + cm[4], tm[5] + cm[5], round(size * tm[0], 1), text.strip()))

    PdfReader(io.BytesIO(pdf)).pages[number].extract_text(visitor_text=visit)
    return out


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_surgery_with_three_medicines_fits_two_sheets(paper):
    h = handout("pars-defect-decompression", medications=MEDS, dob="1970-04-02")
    assert len(pages(h.pdf(paper))) <= 4


def test_a_record_number_does_not_sit_alone_on_a_row():
    h = handout("pars-defect-decompression", dob="1970-04-02", mrn="MRN-0012345")
    drawn = positions(h.pdf())
    y = {text: round(y) for _, y, _, text in drawn}
    # The three identifiers share the first row; the procedure has a row of its own.
    assert y["Record number"] == y["Date of birth"] == y["Patient"]
    assert y["Procedure"] < y["Patient"]
    procedure_row = [text for _, at, _, text in drawn if round(at) == y["Procedure"]]
    assert all("Date" not in text and "Record" not in text for text in procedure_row)


def test_a_single_field_takes_its_row_and_pairs_are_kept():
    from pars_docs.render.pdf.pieces import _rows

    fields = [(name, name, name == "procedure") for name in "abc"]
    assert [[f[0] for f in row] for row in _rows(fields)] == [["a", "b", "c"]]
    fields = [("a", "a", False), ("p", "p", True), *[(n, n, False) for n in "defg"]]
    assert [[f[0] for f in row] for row in _rows(fields)] == [["a"], ["p"], ["d", "e"], ["f", "g"]]
    fields = [(n, n, False) for n in "abcde"]
    assert [[f[0] for f in row] for row in _rows(fields)] == [["a", "b"], ["c", "d", "e"]]


def test_large_print_footer_is_at_least_14_points():
    pdf = handout("pars-defect-decompression", medications=MEDS, large_print=True).pdf()
    footer = [size for _, y, size, _ in positions(pdf) if y < FOOTER_TOP + 8]
    assert footer and min(footer) >= 14
    regular = handout("pars-defect-decompression", medications=MEDS).pdf()
    assert {size for _, y, size, _ in positions(regular) if y < FOOTER_TOP} == {10}


def test_large_print_key_times_keep_heading_with_two_lines_and_mark_the_continuation():
    meds = ["Eliquis", "aspirin", "Advil", "Plavix", "fish oil", "Ozempic", "Jardiance", "warfarin"]
    h = handout("pars-defect-decompression", medications=meds, dob="1970-04-02", large_print=True)
    texts = pages(h.pdf())
    lines = summary(h)
    assert "Your key times" in texts[0]
    first_page = [at for _, at, _ in lines if squash(at) in texts[0]]
    assert len(first_page) >= 2
    rest = [n for n, text in enumerate(texts) if "Your key times (continued)" in text]
    assert rest and rest == list(range(1, len(rest) + 1))
    assert squash(lines[-1][1]) in texts[rest[-1]]
    assert "Your key times (continued)" not in render_text(h)
