"""The built-in instruction sets: plain language, traceable numbers, the safety notice."""

import re

import pytest
from readability import grade
from test_plan import site

from pars_docs.handout import Engine
from pars_docs.library import Library
from pars_docs.visit import make_visit

SETS = ["pars-defect-injection", "pars-defect-decompression"]
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
    [
        ("pars-defect-injection", False),
        ("pars-defect-injection", True),
        ("pars-defect-decompression", None),
    ],
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

    def walk(node, path):
        if isinstance(node, dict):
            numbers = {
                k: v
                for k, v in node.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)
            }
            if numbers:
                assert node.get("source") in ids, f"{path} has numbers without a source"
            for key, child in node.items():
                walk(child, f"{path}.{key}")

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
