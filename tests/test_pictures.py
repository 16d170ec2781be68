"""Pictures that help (issue 21, item 7): a set places a picture by naming it; its words and
alt text are labels in every language; the tagged PDF has a Figure with /Alt in the
handout's language for each; the text rendition prints the alt text in its place; check
refuses a picture that does not exist."""

import io
import re
from datetime import date

import pikepdf
import pytest
from helpers import SITE, render_text
from test_validation import check, edited, line_of

from pars_docs import make_handout
from pars_docs.compose.composer import templates_for
from pars_docs.errors import InstructionError
from pars_docs.load.pictures import label_keys, load_pictures, pictures
from pars_docs.load.site import load_site
from pars_docs.resources import instructions_dir, templates_dir

# The pictures each pars set places, in reading order.
PLACED = {
    "pars-defect-injection": ["lower_spine", "ice", "pain_scale"],
    "pars-defect-decompression": ["lower_spine"],
}


def languages(set_id: str) -> list[str]:
    found = sorted(p.name.split(".")[1] for p in instructions_dir().glob(f"{set_id}.*.yaml"))
    return ["en", *found]


CASES = [(s, lang) for s in PLACED for lang in languages(s)]


@pytest.fixture(scope="module")
def site():
    return load_site(SITE)


def made(site, set_id, language, **kw):
    return make_handout(
        set_id,
        "Ana Díaz",
        date(2027, 3, 4),
        "8:00 AM",
        "Dr. Lee",
        site=site,
        language=language,
        medications=["warfarin", "aspirin", "ibuprofen"],
        **kw,
    )


def figures(data: bytes) -> list[str]:
    """The /Alt of every Figure of the structure tree, in reading order."""
    out: list[str] = []

    def visit(node):
        kids = node.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/MCR":
                if str(kid.get("/S")) == "/Figure":
                    assert "/K" in kid, "a Figure with no marked content"
                    out.append(str(kid.Alt))
                visit(kid)

    with pikepdf.open(io.BytesIO(data)) as pdf:
        visit(pdf.Root.StructTreeRoot)
    return out


def alt_texts(language: str, names: list[str]) -> list[str]:
    labels = templates_for(None, language).labels
    return [labels[f"picture_{name}"] for name in names]


@pytest.mark.parametrize("set_id, language", CASES)
def test_each_picture_is_a_figure_with_alt_text_in_the_handouts_language(site, set_id, language):
    handout = made(site, set_id, language)
    assert figures(handout.pdf()) == alt_texts(language, PLACED[set_id])


@pytest.mark.parametrize("set_id, language", CASES)
def test_the_text_rendition_gives_the_alt_text_in_the_pictures_place(site, set_id, language):
    handout = made(site, set_id, language)
    text = re.sub(r"\s+", " ", render_text(handout))
    wanted = alt_texts(language, PLACED[set_id])
    places = [text.find(re.sub(r"\s+", " ", alt)) for alt in wanted]
    assert all(place >= 0 for place in places), wanted
    assert places == sorted(places)
    # In its place: the spine is read in "About", after what the procedure is.
    about = handout.document.find("section")
    assert about.find("picture").get("name") == "lower_spine"
    assert text.find(re.sub(r"\s+", " ", about.findtext("p"))) < places[0]


@pytest.mark.parametrize("set_id", PLACED)
def test_pictures_are_in_large_print_and_archival_pdfs_too(site, set_id):
    assert figures(made(site, set_id, "en", large_print=True).pdf()) == alt_texts(
        "en", PLACED[set_id]
    )
    archival = load_site(SITE)
    archival = type(archival)(**{**archival.__dict__, "pdfa": True})
    assert figures(made(archival, set_id, "ar").pdf()) == alt_texts("ar", PLACED[set_id])


# The other sets whose wording tells the patient to wrap ice in a cloth or to lift with bent
# knees, where the picture fits the set's pages in every language (docs/layout.md).
OTHERS = {
    "cervical-ilesi": ["ice"],
    "lumbar-facet-injection": ["ice"],
    "lumbar-fusion": ["ice"],
    "lumbar-ilesi": ["ice"],
    "lumbar-tfesi": ["ice"],
    "medial-branch-block": ["ice"],
    "radiofrequency-ablation": ["ice"],
    "kyphoplasty": ["ice"],
    "lumbar-microdiscectomy": ["lifting", "ice"],
}


@pytest.mark.parametrize("set_id", OTHERS)
def test_the_other_sets_pictures_are_figures_beside_the_words_they_show(site, set_id):
    handout = made(site, set_id, "es")
    assert figures(handout.pdf()) == alt_texts("es", OTHERS[set_id])
    for picture in handout.document.iter("picture"):
        group = next(g for g in handout.document.iter("group") if picture in list(g))
        words = " ".join(child.text or "" for child in group)
        shown = {"ice": ("hielo",), "lifting": ("rodillas",)}[picture.get("name")]
        assert any(word in words for word in shown), (set_id, group.get("title"))


def test_every_language_has_every_pictures_words():
    labels = templates_for(None, "en")
    for language in ["en", "es", "vi", "zh-Hans", "zh-Hant", "ko", "ru", "ar", "pt", "fr"]:
        words = templates_for(None, language).labels
        for name in pictures():
            for key in label_keys(name):
                assert words.get(key, "").strip(), (language, key)
                if language != "en":
                    assert words[key] != labels.labels[key], (language, key)
    # Haitian Creole and Tagalog have the page's words, pictures' words included.
    import yaml

    data = yaml.safe_load((templates_dir() / "labels.yaml").read_text(encoding="utf-8"))
    for language in ("ht", "tl"):
        for name in pictures():
            for key in label_keys(name):
                assert data[language].get(key, "").strip(), (language, key)


def test_the_drawn_words_are_the_labels_in_the_handouts_language(site):
    handout = made(site, "pars-defect-injection", "es")
    picture = handout.document.find("section").find("picture")
    drawn = {label.get("name"): label.text for label in picture.findall("label")}
    words = templates_for(None, "es").labels
    assert drawn == {
        name: words[f"picture_lower_spine_{name}"] for name in pictures()["lower_spine"].label_names
    }
    assert picture.get("alt") == words["picture_lower_spine"]


def test_check_refuses_a_picture_that_does_not_exist(runner, tmp_path):
    path = edited(tmp_path, [("  picture: lower_spine\n", "  picture: lower_spin\n")])
    result = check(runner, path)
    assert result.exit_code == 1
    line = line_of(path, "  picture: lower_spin")
    assert (
        f"{path}:{line}: about.picture: there is no picture 'lower_spin'; the pictures are "
        "ice, lifting, lower_spine, pain_scale (templates/pictures.yaml)"
    ) in result.output


def test_a_picture_name_in_a_group_is_checked_too(runner, tmp_path):
    path = edited(tmp_path, [("    picture: ice\n", "    picture: snow\n")])
    result = check(runner, path)
    assert result.exit_code == 1
    line = line_of(path, "    picture: snow")
    assert f"{path}:{line}: after.pain.picture: there is no picture 'snow'" in result.output


def test_a_shape_may_draw_digits_but_never_words(tmp_path):
    path = tmp_path / "pictures.yaml"
    path.write_text(
        "scale:\n  size: [100, 40]\n  shapes:\n    - {digits: {at: [10, 10], text: Pain}}\n",
        encoding="utf-8",
    )
    with pytest.raises(InstructionError) as caught:
        load_pictures(path)
    assert str(caught.value) == (
        f"{path}:4: scale.shapes[0].digits: gives at: [x, y] and text: digits only"
    )


def test_a_group_of_shapes_is_scaled_and_moved(tmp_path):
    path = tmp_path / "pictures.yaml"
    path.write_text(
        "p:\n  size: [100, 40]\n  shapes:\n"
        "    - group: {offset: [10, 20], scale: 0.5, shapes: [{rect: [2, 4, 10, 8]}]}\n"
        "  labels:\n    - {name: a, at: [0, 40], width: 50}\n",
        encoding="utf-8",
    )
    (shape,) = load_pictures(path)["p"].shapes
    assert shape["rect"] == [11, 22, 5, 4]
