"""The composed document keeps its written contract (pars_docs/compose/elements.py), and both
renderers refuse an element it does not have instead of leaving it out."""

import copy
import xml.etree.ElementTree as ET

import pytest
from helpers import SITE

from pars_docs import make_handout
from pars_docs.compose.elements import ELEMENTS, UnknownElement, problems
from pars_docs.render.pdf import render_pdf
from pars_docs.render.renditions import render_text

SETS = ["pars-defect-injection", "pars-defect-decompression"]


def handout(procedure="pars-defect-injection", **kw):
    values = dict(dob="1980-04-05", mrn="A-1", note="Bring your brace.\nAsk for Sam.")
    values.update(kw)
    return make_handout(
        procedure, "Ana Díaz", "2026-12-03", "8:00 AM", "Dr. Lee", site=SITE,
        medications=["warfarin", "Advil"], **values,
    )  # fmt: skip


@pytest.mark.parametrize("procedure", SETS)
@pytest.mark.parametrize("language", ["en", "es", "vi"])
def test_every_built_in_handout_keeps_the_contract(procedure, language):
    for options in ({}, {"large_print": True}, {"also_language": "en"}):
        made = handout(procedure, language=language, **options)
        assert problems(made.composed()) == []
    if procedure == SETS[0]:
        assert problems(handout(procedure, language=language, sedation=True).document) == []


def test_the_contract_finds_what_breaks_it():
    document = handout().document
    broken = copy.deepcopy(document)
    broken.append(ET.Element("sidebar"))
    broken.find("section").set("colour", "red")
    broken.find("patient").append(ET.Element("bullet"))
    assert problems(broken) == [
        "handout/patient/bullet: <bullet> is not allowed in <patient>",
        "handout/section: <section> has no attribute 'colour'",
        "handout/sidebar: <sidebar> is not allowed in <handout>",
        "handout/sidebar: unknown element <sidebar>",
    ]


def test_every_element_a_handler_meets_is_declared():
    # Each child an element may hold is itself declared.
    for spec in ELEMENTS.values():
        assert set(spec.children) <= set(ELEMENTS)


@pytest.mark.parametrize("where", ["handout", "section", "group", "callbox"])
def test_both_renderers_refuse_an_unknown_element(where):
    document = copy.deepcopy(handout().document)
    parent = document if where == "handout" else document.find(f".//{where}")
    parent.append(ET.Element("sidebar"))
    with pytest.raises(UnknownElement, match="<sidebar>"):
        render_text([document])
    with pytest.raises(UnknownElement, match="<sidebar>"):
        render_pdf([document])


def test_a_known_element_out_of_place_is_refused_too():
    document = copy.deepcopy(handout().document)
    document.find("section").append(ET.Element("phone"))
    with pytest.raises(UnknownElement, match="<phone> is not expected here"):
        render_text([document])
    with pytest.raises(UnknownElement, match="<phone> is not expected here"):
        render_pdf([document])
