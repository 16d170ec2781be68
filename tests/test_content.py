"""The built-in instruction sets: plain language, traceable numbers, the safety notice."""

import re

import pytest
from helpers import built_in_sets, sedation_choices
from readability import grade
from test_plan import site

from pars_docs.handout import Engine
from pars_docs.load.library import Library
from pars_docs.read.visit import make_visit

SETS = built_in_sets()
PRIVATE = re.compile("[\ue000\ue001]")


def handout_groups(procedure, sedation=None, medications=()):
    """The patient-facing lines of a handout, group by group."""
    visit = make_visit(
        procedure,
        "Ana Díaz",
        "2026-12-03",
        "8:00 AM",
        "Dr. Lee",
        sedation=sedation,
        medications=medications,
    )
    document = Engine(site()).prepare(visit).document
    groups = []
    for parent in document.iter():
        lines = [
            PRIVATE.sub("", " ".join(el.text.split()))
            for el in parent
            if el.tag in ("p", "check", "bullet", "step") and el.text
        ]
        if lines:
            groups.append((parent.get("title"), lines))
    return groups


@pytest.mark.parametrize(
    "procedure,sedation",
    [(procedure, sedation) for procedure in SETS for sedation in sedation_choices(procedure)],
)
def test_reading_level(procedure, sedation):
    groups = handout_groups(procedure, sedation, ["Eliquis", "Advil", "aspirin"])
    everything = [line for _, lines in groups for line in lines]
    assert grade(everything) <= 6.0, "aim for 6th grade"
    for title, lines in groups:
        assert grade(lines) <= 8.0, f"'{title}' reads above 8th grade"


def test_grade_counter_can_fail():
    hard = [
        "Postprocedural anticoagulation reinitiation necessitates individualized "
        "hematological consultation considering thromboembolic predisposition."
    ]
    assert grade(hard) > 12


@pytest.mark.parametrize("procedure", SETS)
def test_every_number_names_a_listed_source(procedure):
    data = Library().get(procedure).data
    ids = {s["id"] for s in data["sources"]}

    def walk(node, path, parent=None):
        if isinstance(node, dict):
            numbers = {
                k: v
                for k, v in node.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)
            }
            # A moment's calendar reminder is a setting, not a clinical number. A repeated
            # task's spacing (every) and length (for) are the task's: its source names them.
            source = parent if path.endswith((".every", ".for")) else node.get("source")
            if numbers and not path.endswith(".calendar"):
                assert source in ids, f"{path} has numbers without a source"
            for key, child in node.items():
                walk(child, f"{path}.{key}", node.get("source"))

    walk(data["timing"], "timing")
    assert all(s.get("facts") for s in data["sources"]), "each source says what it gave"


def test_medicine_table_pauses_name_sources():
    table = Library().medicine_table()
    ids = {s["id"] for s in table.sources}
    for med in table.medicines:
        for level, rule in med.pause.items():
            assert rule["source"] in ids, (med.name, level)


@pytest.mark.parametrize("procedure", SETS)
def test_handout_tells_patient_to_follow_their_clinician(procedure):
    visit = make_visit(procedure, "A", "2026-12-03", "8:00", "B")
    document = Engine(site()).prepare(visit).document
    notice = document.findtext("notice")
    assert (
        "If your own doctor or nurse tells you something different, do what they tell you" in notice
    )


@pytest.mark.parametrize("procedure", SETS)
def test_call_911_is_kept_apart_from_calling_the_clinic(procedure):
    visit = make_visit(procedure, "A", "2026-12-03", "8:00", "B")
    document = Engine(site()).prepare(visit).document
    clinic = document.find("callbox")
    emergency = document.find("emergency")
    assert "911" in emergency.get("title")
    assert "911" not in " ".join(clinic.itertext())
    assert len(emergency.findall("bullet")) >= 3


# Must-do items start with a verb that tells the patient to act; items that only inform do
# not. Every must-do item has a checkbox, and no informing item has one.
DOING = {
    "Ask", "Bring", "Call", "Check", "Come", "Do", "Drink", "Eat", "Get", "Go", "Have",
    "Keep", "Leave", "Put", "See", "Take", "Tell", "Try", "Walk", "Wear", "Write",
    "Wash", "Sit", "Sleep", "Start",
}  # fmt: skip
BRING = {"bring", "wear"}  # things to bring or wear are listed as nouns, each with a box
CONDITIONS = {"tell_us"}  # "Call us before your visit if you:" and a list of conditions


@pytest.mark.parametrize(
    "procedure,sedation",
    [
        ("pars-defect-injection", False),
        ("pars-defect-injection", True),
        ("pars-defect-decompression", None),
    ],
)
def test_every_must_do_item_has_a_checkbox_and_no_other(procedure, sedation):
    data = Library().get(procedure).data
    titles = {
        data[part][key]["heading"]: key
        for part in ("before", "day_of", "after")
        for key in data[part]
        if isinstance(data[part][key], dict)
    }
    visit = make_visit(
        procedure, "A", "2026-12-03", "8:00", "B", sedation=sedation, medications=["Eliquis"]
    )
    document = Engine(site()).prepare(visit).document
    checked = 0
    for group in document.iter("group"):
        key = titles.get(group.get("title"))
        for item in group:
            if item.tag not in ("check", "bullet"):
                continue
            text = PRIVATE.sub("", item.text)
            does = key in BRING or (key not in CONDITIONS and text.split()[0].strip(",") in DOING)
            assert (item.tag == "check") == does, (group.get("title"), text)
            checked += item.tag == "check"
    assert checked > 10
    for box in ("callbox", "emergency"):
        assert not list(document.find(box).iter("check")), "signs to watch for are not tasks"


def all_text(procedure, sedation=None):
    visit = make_visit(procedure, "A", "2026-12-03", "8:00", "B", sedation=sedation)
    document = Engine(site()).prepare(visit).document
    return PRIVATE.sub("", " ".join(" ".join(document.itertext()).split()))


@pytest.mark.parametrize("procedure", SETS)
def test_aftercare_covers_standard_discharge_teaching(procedure):
    text = all_text(procedure, sedation=True)
    for phrase in (
        "stay with you for the first night",
        "Do not drink alcohol, drive, or make big decisions until",
        "100.4 °F (38 °C) or higher",
        "A headache that",
        "worse when you sit or stand",
        "Trouble passing urine",
        "Put ice on the sore",
        "minutes at a time, no more often than every 2 hours",
        "If you cannot reach us and you feel worse, go to the nearest emergency room.",
    ):
        assert phrase in text, phrase


def test_surgery_aftercare_has_lifting_walking_and_bowel_advice():
    text = all_text("pars-defect-decompression")
    assert "Do not lift more than 10 pounds (4.5 kilograms) until at least" in text
    assert "Walk a little each day" in text
    assert "Do not bend or twist your back" in text
    assert "Clear, watery fluid from the cut." in text
    assert "stool softener" in text
    assert "wound check" not in text  # only when the site has one


def test_wound_check_visit_prints_when_the_site_has_one():
    from dataclasses import replace

    visit = make_visit("pars-defect-decompression", "A", "2026-12-03", "8:00", "B")
    document = Engine(replace(site(), wound_check_days=10)).prepare(visit).document
    text = PRIVATE.sub("", " ".join(" ".join(document.itertext()).split()))
    # 10 days after Thursday, December 3 is a Sunday: the clinic's next open day instead.
    assert "Come to your wound check visit around Monday, December 14." in text


def test_injection_without_sedation_says_eat_drink_and_drive_as_usual():
    text = all_text("pars-defect-injection", sedation=False)
    assert "You may eat, drink, and drive as usual, unless we tell you something else." in text
    assert "The steroid can raise it." in text
    assert "Check your blood sugar more often than usual until Thursday, December 17." in text
    assert "big decisions" not in text


@pytest.mark.parametrize("procedure", SETS)
def test_no_sign_is_in_both_call_lists(procedure):
    visit = make_visit(procedure, "A", "2026-12-03", "8:00", "B")
    document = Engine(site()).prepare(visit).document
    clinic = {b.text for b in document.find("callbox").iter("bullet")}
    emergency = {b.text for b in document.find("emergency").iter("bullet")}
    assert not clinic & emergency
    for word in ("bladder", "weakness", "Bleeding", "blood"):
        both = [t for t in clinic | emergency if word.lower() in t.lower()]
        assert len(both) <= 2, both
