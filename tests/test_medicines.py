"""The medicine table: what it covers, how it is looked up, and what the handout says."""

import json
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from helpers import squash
from readability import grade
from test_plan import site

from pars_docs import make_handout
from pars_docs.clock import current_time
from pars_docs.errors import UsageError
from pars_docs.handout import Engine
from pars_docs.load.library import Library
from pars_docs.read.visit import make_visit

PRIVATE = re.compile("[\ue000\ue001]")
NY = ZoneInfo("America/New_York")


def table():
    return Library().medicine_table()


def prepare(procedure="pars-defect-injection", meds=(), day="2026-12-03", as_of=None, **kw):
    engine = Engine(kw.pop("site", None) or site(), as_of)
    visit = make_visit(procedure, "Ana", day, "8:00 AM", "Dr. Lee", medications=meds, **kw)
    return engine.prepare(visit)


def medicine_group(handout) -> tuple[str, list[tuple[str, bool]]]:
    """The medicines group's intro and its (line, has a checkbox) items."""
    for group in handout.document.iter("group"):
        if group.get("title", "").startswith("Your medicines"):
            intro = " ".join(p.text for p in group.findall("p"))
            items = [
                (PRIVATE.sub("", " ".join(el.text.split())), el.tag == "check")
                for el in group
                if el.tag in ("check", "bullet")
            ]
            return PRIVATE.sub("", intro), items
    raise AssertionError("no medicines group")


# -- the table ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,generic",
    [
        ("Ozempic", "semaglutide"),
        ("Wegovy", "semaglutide"),
        ("Rybelsus", "semaglutide"),
        ("Mounjaro", "tirzepatide"),
        ("Zepbound", "tirzepatide"),
        ("Victoza", "liraglutide"),
        ("Saxenda", "liraglutide"),
        ("Trulicity", "dulaglutide"),
        ("Byetta", "exenatide"),
        ("Bydureon", "exenatide"),
        ("Jardiance", "empagliflozin"),
        ("Farxiga", "dapagliflozin"),
        ("Invokana", "canagliflozin"),
        ("Steglatro", "ertugliflozin"),
        ("metformin", "metformin"),
        ("insulin", "insulin"),
        ("Lantus", "insulin glargine"),
        ("glipizide", "glipizide"),
        ("heparin", "heparin"),
        ("Tylenol", "acetaminophen"),
        ("Pradaxa", "dabigatran"),
        ("Savaysa", "edoxaban"),
        ("Lovenox", "enoxaparin"),
        ("Effient", "prasugrel"),
        ("Brilinta", "ticagrelor"),
        ("Pletal", "cilostazol"),
    ],
)
def test_the_issue_medicines_are_known(name, generic):
    med, _ = table().lookup(name)
    assert med.name == generic


@pytest.mark.parametrize(
    "code,generic",
    [
        ("1364430", "apixaban"),
        ("11289", "warfarin"),
        ("32968", "clopidogrel"),
        ("1991302", "semaglutide"),
        ("6809", "metformin"),
        ("rxcui:1364430", "apixaban"),
    ],
)
def test_lookup_by_rxcui(code, generic):
    med, shown = table().lookup(code)
    assert med.name == generic and shown == generic


def test_every_entry_has_an_rxcui_or_says_it_has_none():
    codes = [m.rxcui for m in table().medicines if m.rxcui]
    assert len(codes) == len(set(codes))
    assert all(code.isdigit() for code in codes)
    without = sorted(m.name for m in table().medicines if not m.rxcui)
    assert without == ["ferrous sulfate", "fish oil", "garlic", "ginkgo", "ginseng"]


def test_sglt2_stop_days_follow_the_labels_before_surgery_only():
    by_name = {m.name: m for m in table().medicines}
    for name, days in (
        ("canagliflozin", 3),
        ("dapagliflozin", 3),
        ("empagliflozin", 3),
        ("ertugliflozin", 4),
    ):
        assert by_name[name].pause["high"]["stop_days_before"] == days
        assert "restart_days_after" not in by_name[name].pause["high"]
        assert by_name[name].pause["intermediate"]["action"] == "ask"


def test_surgery_handout_stops_jardiance_and_asks_about_the_restart():
    _, items = medicine_group(prepare("pars-defect-decompression", ["Jardiance"]))
    line = items[0][0]
    # Procedure Thursday, December 3: 3 whole days without it, last dose Sunday, November 29.
    assert line.startswith("Take your last Jardiance (empagliflozin) on Sunday, November 29.")
    # The restart is asked for by a day (ask_by: 3 days before, a clinic-policy rule).
    assert "Call us by Monday, November 30 to ask when you may start it again." in line


def test_glp1_is_kept_with_the_2024_guidance_wording():
    with_sedation = medicine_group(prepare(meds=["Ozempic"], sedation=True))[1][0][0]
    assert with_sedation.startswith("Keep taking Ozempic (semaglutide) as usual.")
    assert "only liquids on the whole day before" in with_sedation
    without = medicine_group(prepare(meds=["Ozempic"], sedation=False))[1][0][0]
    assert "Tell us that you take it" in without
    assert "liquids" not in without  # the stomach advice is for sedation only


def test_unknown_medicine_is_an_error_by_default_with_the_closest_names():
    with pytest.raises(UsageError) as caught:
        prepare(meds=["Ozempik"])
    assert "unknown medicine 'Ozempik'. Closest known names: Ozempic." in str(caught.value)
    # Without --verbose the typed name is left out (a row's column may hold anything).
    assert "unknown medicine '…'. Closest known names: Ozempic." in caught.value.public()


def test_unknown_medicines_ask_prints_a_line_and_warns():
    clinic = site()
    clinic = type(clinic)(**{**clinic.__dict__, "unknown_medicines": "ask"})
    handout = prepare(meds=["Ozempik", "Eliquis"], site=clinic)
    _, items = medicine_group(handout)
    assert any(
        text.startswith("Call us by Monday, November 30 about Ozempik. We will tell you what to do")
        for text, _ in items
    )
    assert handout.warnings == [
        "medication: unknown medicine 'Ozempik'. Closest known names: Ozempic. The handout asks "
        "the patient to call about it."
    ]


# -- the section's introduction fits the medicines listed ---------------------------------


def test_introduction_fits_the_medicines_listed():
    glp1_only, _ = medicine_group(prepare(meds=["Ozempic"], sedation=True))
    assert "bleed" not in glp1_only and "stomach empties" in glp1_only
    blood_thinner, _ = medicine_group(prepare(meds=["Eliquis"]))
    assert "bleed more easily" in blood_thinner and "stomach" not in blood_thinner
    both, _ = medicine_group(prepare(meds=["Eliquis", "metformin"]))
    assert "bleed more easily" in both and "diabetes medicines need a change" in both


# -- order, names, warnings ---------------------------------------------------------------


def test_lines_are_in_date_order_with_brand_and_generic_together():
    _, items = medicine_group(prepare("pars-defect-decompression", ["Advil", "fish oil", "Plavix"]))
    texts = [text for text, _ in items]
    assert texts[0].startswith("Take your last fish oil (omega-3) on")  # 14 days
    assert texts[1].startswith("Take your last Plavix (clopidogrel) on")  # 7 days
    assert texts[2].startswith("Take your last Advil (ibuprofen) on")  # 1 day


def test_two_anticoagulants_or_two_nsaids_warn():
    assert prepare(meds=["Eliquis"]).warnings == []
    two = prepare(meds=["warfarin", "Xarelto"]).warnings
    assert two == [
        "two or more anticoagulants in one visit (warfarin (Coumadin, Jantoven), Xarelto "
        "(rivaroxaban)): check the list with the prescriber."
    ]
    nsaids = prepare(meds=["Advil", "Aleve"]).warnings
    assert len(nsaids) == 1 and "two or more NSAIDs" in nsaids[0]


def test_every_medicine_line_has_a_checkbox():
    _, items = medicine_group(prepare(meds=["Eliquis", "Ozempic", "metformin"]))
    assert items and all(check for _, check in items)


def test_reading_level_with_the_new_medicines():
    handout = prepare(meds=["Ozempic", "Jardiance", "metformin", "Eliquis"], sedation=True)
    intro, items = medicine_group(handout)
    assert grade([intro, *(text for text, _ in items)]) <= 8.0


# -- too late to stop ---------------------------------------------------------------------


def test_too_late_to_stop_says_so_and_prints_no_past_date():
    # Tomorrow's injection; clopidogrel needed its last dose 8 days before.
    handout = prepare(meds=["clopidogrel"], day="2026-11-23", as_of=datetime(2026, 11, 22, 9))
    _, items = medicine_group(handout)
    text, check = items[0]
    assert text == (
        "You needed to stop clopidogrel (Plavix) 7 days before your shot. If you have not "
        "stopped it yet, call us today. Do not stop it or change how you take it until we talk."
    )
    assert check
    assert "November 15" not in squash(" ".join(handout.document.itertext()))
    assert handout.warnings == [
        "too late to stop clopidogrel on time: its last dose was due 8 days before the "
        "procedure day. The handout tells the patient to call today."
    ]
    assert json.loads(handout.render("json"))["medicines"][0]["action"] == "late"
    assert b"last_dose" not in handout.render("ics")


def test_the_last_dose_day_itself_is_not_too_late():
    handout = prepare(meds=["Eliquis"], day="2026-11-26", as_of=datetime(2026, 11, 22, 20))
    _, items = medicine_group(handout)
    assert items[0][0].startswith("Take your last Eliquis (apixaban) on Sunday, November 22.")
    assert handout.warnings == []


def test_a_fast_already_started_says_so():
    # Fasting starts at 2:00 AM for an 8:00 AM start with sedation; it is now 3:00 AM.
    handout = prepare(sedation=True, as_of=datetime(2026, 12, 3, 3, 0))
    lines = [PRIVATE.sub("", " ".join(el.text.split())) for el in handout.document.iter("check")]
    assert (
        "Your fast began at Thursday, December 3 at 2:00 AM. Do not eat now. If you ate after "
        "that time, call us today."
    ) in lines
    assert any(line.startswith("Drink only clear liquids until") for line in lines)
    assert handout.warnings == [
        "too late for stop_solids on time. The handout tells the patient to call today."
    ]


def test_a_visit_in_the_past_warns():  # a reprint: without include_past it is refused
    engine = Engine(site(), datetime(2026, 12, 4, 9, 0), include_past=True)
    visit = make_visit("pars-defect-injection", "Ana", "2026-12-03", "8:00 AM", "Dr. Lee")
    handout = engine.prepare(visit)
    assert "the whole visit is in the past: check the date and time." in handout.warnings


def test_now_comes_from_as_of_then_source_date_epoch(monkeypatch):
    assert current_time(NY, datetime(2026, 11, 22, 9, 30)) == datetime(
        2026, 11, 22, 9, 30, tzinfo=NY
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795305600")  # 2026-11-22 00:00 UTC
    assert current_time(NY) == datetime(2026, 11, 21, 19, 0, tzinfo=NY)


def test_make_handout_takes_as_of():
    handout = make_handout(
        "pars-defect-injection",
        "Ana",
        "2026-11-23",
        "8:00 AM",
        "Dr. Lee",
        medications=["Plavix"],
        site=site(),
        as_of=datetime(2026, 11, 22, 9, 0),
    )
    assert handout.plan.medicines[0].action == "late"
    earlier = make_handout(
        "pars-defect-injection",
        "Ana",
        "2026-11-23",
        "8:00 AM",
        "Dr. Lee",
        medications=["Plavix"],
        site=site(),
        as_of=datetime(2026, 11, 1, 9, 0),
    )
    assert earlier.plan.medicines[0].last_dose == date(2026, 11, 15)


def test_make_too_late_warns_on_stderr_and_exits_0(make):
    result, out = make(
        "--medication", "clopidogrel", "--as-of", "2026-11-22T09:00", date="2026-11-23"
    )
    assert result.exit_code == 0, result.output
    assert (
        "pars-docs: warning: too late to stop clopidogrel on time: its last dose was due 8 days "
        "before the procedure day. The handout tells the patient to call today."
    ) in result.output
    assert out.exists()


def test_make_refuses_a_bad_as_of(make):
    result, _ = make("--as-of", "yesterday")
    assert result.exit_code == 2
    assert "as-of: 'yesterday' is not a date and time" in result.output


@pytest.mark.parametrize(
    "typed,shown,dropped",
    [
        ("eliquis 5mg", "Eliquis", "5 mg"),
        ("Plavix 75 mg", "Plavix", "75 mg"),
        ("metformin ER 500", "metformin", "ER 500"),
        ("Ozempic 0.5 mg pen", "Ozempic", "0.5 mg pen"),
        ("vitamin E 400 IU", "vitamin E", "400 IU"),
    ],
)
def test_a_medicine_typed_with_its_dose_is_read_as_the_medicine(typed, shown, dropped):
    reading = table().read(typed)
    assert reading is not None and (reading.name, reading.dropped) == (shown, dropped)
    handout = prepare(meds=[typed])
    assert [m.name for m in handout.plan.medicines] == [shown]
    text = squash(handout.render("text").decode())
    assert typed not in text and dropped not in text
    assert f"medication: '{typed}' is read as {shown}; '{dropped}' is not printed" in (
        handout.warnings
    )


def test_a_dose_alone_or_an_unknown_name_with_a_dose_is_still_refused():
    assert table().read("5 mg") is None
    with pytest.raises(UsageError, match="Closest known names: Eliquis"):
        prepare(meds=["Eliqis 5mg"])


def test_the_exact_name_wins_over_reading_a_dose():
    assert table().read("Bydureon BCise").name == "Bydureon BCise"
    assert table().read("Bydureon BCise").dropped == ""


@pytest.mark.parametrize(
    "typed,verb",
    [
        ("Ozempic", "tiêm"),
        ("Mounjaro", "tiêm"),
        ("Lantus", "tiêm"),
        ("Rybelsus", "uống"),
        ("metformin", None),  # an "ask" line: no verb of taking
        ("Eliquis", "uống"),
        ("Voltaren gel", "bôi"),
    ],
)
def test_vietnamese_verbs_fit_how_the_medicine_is_taken(typed, verb):
    handout = prepare(meds=[typed], language="vi", as_of=datetime(2026, 11, 20, 9))
    med = handout.plan.medicines[0]
    if verb is None:
        return
    assert med.verb == verb
    text = handout.render("text").decode()
    wrong = {"uống", "tiêm", "bôi"} - {verb}
    label = med.label.split(" (")[0]
    lines = [" ".join(line.split()) for line in squash(text).split("[ ]") if label in line]
    assert lines
    for line in lines:
        for other in wrong:
            assert f"{other} {label.lower()}" not in line.lower()
            assert f"{other} liều" not in line.lower()


def test_a_verbs_block_must_name_every_form(tmp_path):
    from pars_docs.load.translations import medicine_words

    source = (Library().table_path).read_text(encoding="utf-8")
    (tmp_path / "medicines.yaml").write_text(source, encoding="utf-8")
    vi = (Library().table_path.with_name("medicines.vi.yaml")).read_text(encoding="utf-8")
    (tmp_path / "medicines.vi.yaml").write_text(vi.replace("  topical: bôi\n", ""), "utf-8")
    words = medicine_words(tmp_path / "medicines.yaml", "vi")
    problems = words.problems(table())
    assert any("no verb for the form topical" in p for p in problems)
