"""Names and text in Han, Hangul and Arabic script: accepted, printed in the Noto fonts
(embedded and subset), Arabic shaped and ordered right to left, and read back in logical
order (see pars_docs/scripts.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf
import pytest
import yaml
from helpers import DATA

from pars_docs.errors import GlyphError
from pars_docs.load.library import Library
from pars_docs.render.pdf.fonts import check_drawable, register_script, script_runs
from pars_docs.render.pdf.scripts import FONTS, ScriptFont, font_for, visual_order


def _fonts(path) -> set[str]:
    with pikepdf.open(path) as pdf:
        names = set()
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                descendant = font.get("/DescendantFonts")
                base = str(font.BaseFont)
                embedded = font.FontDescriptor if "/FontDescriptor" in font else None
                if descendant is not None:
                    embedded = descendant[0].FontDescriptor
                assert embedded is not None and "/FontFile2" in embedded, base
                names.add(base.split("+", 1)[1])
        return names


def _actual_texts(path) -> list[str]:
    """The /ActualText of every structure element."""
    texts = []
    with pikepdf.open(path) as pdf:
        todo = [pdf.Root.StructTreeRoot]
        while todo:
            node = todo.pop()
            if isinstance(node, pikepdf.Dictionary):
                if "/ActualText" in node:
                    texts.append(str(node.ActualText))
                kids = node.get("/K")
                if isinstance(kids, pikepdf.Array):
                    todo.extend(kids)
                elif isinstance(kids, pikepdf.Dictionary):
                    todo.append(kids)
    return texts


def _span_actual_texts(path) -> list[str]:
    """The /ActualText of every ``Span`` marked-content sequence in the pages' content."""
    texts = []
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for operands, operator in pikepdf.parse_content_stream(page):
                if str(operator) == "BDC" and str(operands[0]) == "/Span":
                    texts.append(str(operands[1].ActualText))
    return texts


def _labelled(language: str, name: str, path) -> None:
    """The English injection set laid out with ``language``'s page words (no set is
    translated into these languages yet), for ``name``."""
    from datetime import date, time

    from pars_docs.compose.composer import compose
    from pars_docs.handout import Engine
    from pars_docs.read.visit import Visit
    from pars_docs.render.pdf import render_pdf

    engine = Engine()
    visit = Visit("pars-defect-injection", name, date(2027, 3, 4), time(8, 0), "Dr. Lee")
    handout = engine.prepare(visit)
    path.write_bytes(render_pdf([compose(handout.plan, engine.templates(language))]))


def _xs(path, text: str) -> list[float]:
    """Where on page 1 (points from the left) each piece of text that starts with ``text``
    is drawn."""
    from pypdf import PdfReader

    found: list[float] = []

    def visit(piece, cm, tm, font, size):
        if piece.startswith(text):
            found.append(cm[4] + tm[4] * cm[0])

    PdfReader(path).pages[0].extract_text(visitor_text=visit)
    return found


@pytest.mark.parametrize(
    "name,font",
    [("李小龍", "NotoSansSC-Regular"), ("김민준", "NotoSansKR-Bold"), ("王小明", "NotoSansSC")],
)
def test_han_and_hangul_names_print_in_noto(make, name, font):
    result, out = make(patient=f"{name} Chen")
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert f"{name} Chen" in text
    assert any(f.startswith(font) for f in _fonts(out))


def test_an_arabic_name_is_shaped_and_read_in_logical_order(make):
    result, out = make(patient="محمد علي")
    assert result.exit_code == 0, result.output
    assert "NotoSansArabic-Bold" in _fonts(out)  # the patient block's value is bold
    # The joined glyphs drawn right to left read back as the name, in logical order.
    assert "محمد علي" in _actual_texts(out)


def test_a_script_font_that_is_not_installed_is_refused_with_the_install_command():
    missing = ScriptFont("Xxxx", "Klingon letters", "no_such_font_package", "x.ttf", "klingon")
    with pytest.raises(GlyphError) as caught:
        register_script(missing)
    assert str(caught.value) == (
        "the fonts for Klingon letters are not installed; install them with: "
        'pip install "pars-docs[klingon]"'
    )


def test_hebrew_is_still_refused_as_nothing_orders_it():
    with pytest.raises(GlyphError, match="patient: the handout fonts cannot draw 'ד'"):
        check_drawable("דוד", "patient")


def test_han_takes_the_font_of_the_handout_language():
    assert font_for("Han", "zh-Hant") is FONTS["Hant"]
    assert font_for("Han", "zh-TW") is FONTS["Hant"]
    assert font_for("Han", "zh-Hans") is FONTS["Hans"]
    assert font_for("Han", "ko") is FONTS["Kore"]
    assert font_for("Han", "en") is FONTS["Hans"]
    assert font_for("Hang", "en") is FONTS["Kore"]


def test_script_runs_wrap_only_the_script_and_keep_markup_whole():
    assert script_runs("Call <b>محمد علي</b> at 10:30.", "en") == (
        'Call <b><font face="ParsDocsArab">محمد علي</font></b> at 10:30.'
    )
    assert script_runs("李 &amp; 김", "zh-Hant") == (
        '<font face="ParsDocsHant">李</font> &amp; <font face="ParsDocsKore">김</font>'
    )
    assert script_runs("李", "en", bold=True) == '<font face="ParsDocsHans-Bold">李</font>'
    assert script_runs("Ana Díaz", "en") == "Ana Díaz"


def test_words_of_a_right_to_left_line_are_ordered_by_the_bidi_algorithm():
    # "في 10:30 AM يوم": drawn "يوم AM 10:30 في", so read from the right it is the logical
    # order (UAX #9 keeps the number and the Latin word as separate runs at level 2).
    order = visual_order(["R", "WS", "EN", "WS", "L", "WS", "R"], rtl=True)
    assert order == [6, 5, 4, 3, 2, 1, 0]
    # An Arabic name inside an English line: its two words swap, the rest stays.
    assert visual_order(["L", "WS", "R", "WS", "R", "WS", "L"], rtl=False) == [0, 1, 4, 3, 2, 5, 6]
    # Latin alone in a right-to-left paragraph keeps its order.
    assert visual_order(["L", "WS", "L"], rtl=True) == [0, 1, 2]


def _page_words_only() -> list[str]:
    """Languages with drafted page words whose sets are not translated yet."""
    translated = Library().languages("pars-defect-injection")
    return [lang for lang in ("ru", "ar", "pt", "fr", "tl", "ht") if lang not in translated]


def _site_with_page_words_for(language: str, tmp_path) -> Path:
    """A site whose own labels.yaml adds page words for ``language``, which no set has: the
    case stays tested once every built-in language with page words has its sets."""
    from pars_docs.resources import templates_dir

    folder = tmp_path / "templates"
    folder.mkdir()
    labels = (templates_dir() / "labels.yaml").read_text(encoding="utf-8")
    block = {language: {**yaml.safe_load(labels)["en"], "language_name": language}}
    (folder / "labels.yaml").write_text(
        labels + "\n" + yaml.safe_dump(block, allow_unicode=True), encoding="utf-8"
    )
    site = tmp_path / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8") + f"templates_dir: {folder}\n",
        encoding="utf-8",
    )
    return site


@pytest.mark.parametrize("language", [*_page_words_only(), "de"])
def test_a_language_with_page_words_but_no_sets_is_refused_not_half_made(make, language, tmp_path):
    site = {"site": _site_with_page_words_for("de", tmp_path)} if language == "de" else {}
    result, out = make("--language", language, patient="李小龍", **site)
    assert result.exit_code == 2
    assert result.output.endswith(
        f"language: language '{language}' is not available for pars-defect-injection: its page "
        f"words ({language}) are there, but the instruction set is not translated into it yet; "
        f"available: {', '.join(Library().languages('pars-defect-injection'))}\n"
    )
    assert not out.exists()


def test_a_language_with_nothing_keeps_the_short_message(make):
    result, _ = make("--language", "de")
    assert result.output.endswith(
        "language: language 'de' is not available for pars-defect-injection; available: "
        f"{', '.join(Library().languages('pars-defect-injection'))}\n"
    )


def test_a_right_to_left_handout_mirrors_the_key_times_and_the_patient_block(tmp_path):
    rtl, ltr = tmp_path / "ar.pdf", tmp_path / "en.pdf"
    _labelled("ar", "محمد علي", rtl)
    _labelled("en", "Ana Díaz", ltr)
    # The key times' check boxes: at the left margin in English, at the right in Arabic.
    assert _xs(ltr, "☐") and max(_xs(ltr, "☐")) < 100
    assert _xs(rtl, "☐") and min(_xs(rtl, "☐")) > 500
    # The patient block's first value (the name) starts right of the middle of the page.
    assert min(_xs(ltr, "Pars defect injection")) < 306 < max(_xs(rtl, "Pars defect injection"))
    # Every Arabic paragraph is read by a screen reader in logical order.
    texts = _actual_texts(rtl)
    assert "المريض" in texts and "محمد علي" in texts
    assert "أوقاتك المهمة" in texts
    # And text extraction, which reads the page's content rather than its structure, finds
    # the same words in logical order in the marked content around the glyphs.
    spans = _span_actual_texts(rtl)
    assert {"المريض", "محمد علي", "أوقاتك المهمة"} <= set(spans)
    assert set(spans) <= set(texts)  # each is the text of a paragraph, never its glyph order


@pytest.mark.parametrize("language,name", [("zh-Hans", "李小龍"), ("ko", "김민준"), ("ru", "Иван")])
def test_page_words_in_other_scripts_print_and_read_back(tmp_path, language, name):
    out = tmp_path / "handout.pdf"
    _labelled(language, name, out)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    labels = {"zh-Hans": "您的重要时间", "ko": "꼭 지킬 시간", "ru": "Ваше важное время"}
    assert labels[language] in text
    assert name in text


@pytest.mark.parametrize(
    "language", ["zh-Hans", "zh-Hant", "ko", "ru", "ar", "pt", "fr", "ht", "tl"]
)
def test_drafted_page_words_match_the_english_labels(language):
    from pars_docs.load.languages import load_labels
    from pars_docs.resources import templates_dir

    assert load_labels((templates_dir(),)).problems(language) == []


@pytest.mark.parametrize("language", ["zh-Hans"])
def test_chinese_wraps_between_characters_but_never_inside_a_date_or_time(language):
    from pars_docs.render.pdf.flowables import CachedParagraph
    from pars_docs.render.pdf.scripted import ScriptStyles
    from pars_docs.render.pdf.styles import stylesheet

    date, hour = {
        "zh-Hans": ("2027年3月4日星期四", "上午8:00"),
        "ko": ("2027년 3월 4일 목요일", "오전 8:00"),
    }[language]
    filler = {"zh-Hans": "请在这个时间以前来到诊所", "ko": "이 시간 전에 병원에 오세요"}[language]
    text = f"{filler}{date}{hour}{filler}{filler}，warfarin{filler}"
    shown = script_runs(text, language)
    style = ScriptStyles(stylesheet(), language).get("body", shown)
    broke_between_characters = False
    for width in range(150, 400, 9):  # a date alone fits on a line from 150 pt
        paragraph = CachedParagraph(shown, style)
        paragraph.wrap(width, 10000)
        lines = ["".join(f.text for f in line.words) for line in paragraph.blPara.lines]
        joined = "".join(lines)
        assert joined.replace(" ", "") == text.replace(" ", "")
        for whole in (date, hour, "warfarin"):
            assert any(whole in line for line in lines), (width, lines)
        ends = [line.rstrip() for line in lines]
        broke_between_characters |= any(
            a and b and ord(a[-1]) > 0x2E80 and ord(b[0]) > 0x2E80
            for a, b in zip(ends, ends[1:], strict=False)
        )
    assert broke_between_characters  # wrapped inside runs of characters, not only at spaces


def _lines(text: str, language: str, style_name: str, width: float) -> list[str]:
    """``text`` laid out as a paragraph of ``style_name`` in ``language``, ``width`` points
    wide: its lines' text (each but the last ends with a space)."""
    from pars_docs.render.pdf.flowables import CachedParagraph
    from pars_docs.render.pdf.scripted import ScriptStyles
    from pars_docs.render.pdf.styles import stylesheet

    shown = script_runs(text, language)
    style = ScriptStyles(stylesheet(), language).get(style_name, shown)
    paragraph = CachedParagraph(shown, style)
    paragraph.wrap(width, 10000)
    blPara = paragraph.blPara
    if blPara.kind == 0:
        return [" ".join(words) for _, words in blPara.lines]
    return ["".join(f.text for f in line.words) for line in blPara.lines]


def _break_points(text: str, lines: list[str]) -> list[int]:
    """Where in ``text`` each line after the first starts (the space added at a line's end,
    where the text had none, is not the text's)."""
    at, starts = 0, []
    for line in lines:
        if text.startswith(line, at):
            at += len(line)
        else:
            assert line.endswith(" ") and text.startswith(line[:-1], at), (text[at:], line)
            at += len(line) - 1
        starts.append(at)
    assert at == len(text)
    return starts[:-1]


def test_korean_wraps_at_spaces_never_inside_a_word_a_date_or_a_time():
    """Korean puts spaces between its words: a line breaks at a space, as English does, not
    between two syllables of a word as Chinese may; and never inside a date or a time."""
    date, hour = "2027년 3월 4일 목요일", "오전 8:00"
    text = (
        f"시술 날짜는 {date}입니다. {hour}까지 병원에 도착하세요. 와파린(Coumadin)은 "
        f"마지막으로 복용한 다음 중단하세요. 기다리라고 하면 기다리세요. {date} {hour}"
    )
    for width in range(150, 400, 7):
        lines = _lines(text, "ko", "body", width)
        for start in _break_points(text, lines):
            assert text[start - 1] == " ", (width, lines)
        for whole in (date, hour, "Coumadin"):
            assert any(whole in line for line in lines), (width, lines)


def test_korean_key_times_keep_a_time_whole_in_large_print(tmp_path):
    """A Korean key time at large print: the weekday may go to the next line, a time never
    splits ("오전 7:30", never "오" and "전 7:30")."""
    from datetime import date, time

    from pars_docs.handout import Engine
    from pars_docs.read.visit import Visit
    from pars_docs.render.pdf import render_pdf

    engine = Engine()
    visit = Visit(
        "pars-defect-injection",
        "김민준",
        date(2027, 3, 4),
        time(8, 0),
        "Dr. Lee",
        medications=["warfarin"],
        language="ko",
        large_print=True,
    )
    pdf = tmp_path / "handout.pdf"
    pdf.write_bytes(render_pdf(engine.prepare(visit).documents))
    page = subprocess.run(
        ["pdftotext", "-raw", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "오전 7:30" in page
    assert not [line for line in page.splitlines() if line.endswith(("오", "오후", "오전"))]


def _squeezed(text: str) -> str:
    """Text compared across renditions: compatibility forms folded (NFKC), no whitespace."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", text).split())


def _paragraphs(text: str) -> list[str]:
    """The running text of a text rendition: each paragraph and list item, without
    underlines, list marks, the key times and the patient block (set as tables in the PDF,
    read cell by cell)."""
    import re

    out = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if not re.fullmatch(r"[=\-*_ ]*", line)]
        items: list[str] = []
        for line in lines:
            mark = re.match(r"^(?:- |\d+\. |\[ \] )", line)
            if mark or not items:
                items.append(line[mark.end() :] if mark else line)
            else:
                items[-1] += " " + line
        out.extend(i for i in items if not i.startswith("***") and ": " not in i[:40])
    return out


@pytest.mark.parametrize("language", ["en", "es", "vi", "zh-Hans", "zh-Hant", "ko", "ru"])
def test_the_pdf_reads_back_as_the_text_rendition(tmp_path, language):
    """pdftotext reads every paragraph and list item of the PDF as the text rendition has
    it, after normalisation (NFKC, no whitespace). ``-raw`` reads in the order the text is
    drawn, which is the handout's reading order (pdftotext's own layout analysis splits a
    two-line check-list item at its label). Not Arabic: its glyphs are drawn right to left
    and pdftotext reads them so; a screen reader reads each Arabic paragraph's /ActualText
    (test_a_right_to_left_handout_mirrors_the_key_times_and_the_patient_block)."""
    from datetime import date, time

    from pars_docs.compose.composer import compose
    from pars_docs.handout import Engine
    from pars_docs.read.visit import Visit
    from pars_docs.render.pdf import render_pdf
    from pars_docs.render.renditions import render_text

    engine = Engine()
    names = {"zh-Hans": "李小龍", "zh-Hant": "李小龍", "ko": "김민준", "ru": "Иван Петров"}
    translated = language in ("en", "es", "vi")
    visit = Visit(
        "pars-defect-injection",
        names.get(language, "Ana Díaz"),
        date(2027, 3, 4),
        time(8, 0),
        "Dr. Lee",
        medications=["warfarin"],
        language=language if translated else None,
    )
    handout = engine.prepare(visit)
    documents = (
        handout.documents if translated else [compose(handout.plan, engine.templates(language))]
    )
    pdf = tmp_path / "handout.pdf"
    pdf.write_bytes(render_pdf(documents))
    # The text frame of each Letter page: without the draft band above it and the footer
    # below it, which are page furniture (artifacts) that pdftotext reads between the parts
    # of an item continued on the next page.
    frame = ["-x", "0", "-y", "34", "-W", "612", "-H", "703"]
    extracted = subprocess.run(
        ["pdftotext", "-raw", *frame, str(pdf), "-"], capture_output=True, text=True, check=True
    )
    read = _squeezed(extracted.stdout)
    # The footer's line naming the set is page furniture in the PDF; a picture's alt text,
    # printed in its place in the text rendition, is the figure's /Alt in the PDF.
    alts = {_squeezed(p.get("alt")) for d in documents for p in d.iter("picture")}
    paragraphs = [
        p
        for p in _paragraphs(render_text(documents))
        if "pars-defect-injection v" not in p and _squeezed(p) not in alts
    ]
    assert len(paragraphs) > 20
    missing = [p for p in paragraphs if _squeezed(p) not in read]
    assert missing == []


def test_the_arabic_medicine_words_and_calendar_wording_are_complete():
    """Drafted before the Arabic sets: every medicine note made from the current English
    note, and the calendar's wording with the English placeholders and no English left."""
    from pars_docs.compose.composer import templates_for
    from pars_docs.load.library import Library
    from pars_docs.render.ics import calendar_wording, translation_problems
    from pars_docs.resources import instructions_dir

    words = instructions_dir() / "medicines.ar.yaml"
    assert Library().check_medicine_words("ar", words) == "medicine words ar (draft)"
    english = calendar_wording(templates_for(None, "en", 12))
    arabic = calendar_wording(templates_for(None, "ar", 12))
    assert arabic.language == "ar"
    assert translation_problems(arabic, english) == []


def test_the_arabic_pdf_carries_the_text_rendition_in_logical_order(tmp_path):
    """Every paragraph and list item of an Arabic handout's text rendition that holds Arabic
    is, after normalisation, the /ActualText of a marked-content Span in the PDF (what text
    extraction reads in place of the glyphs drawn right to left), and every other one is
    read by pdftotext as it is drawn."""
    from datetime import date, time

    from pars_docs.handout import Engine
    from pars_docs.read.visit import Visit
    from pars_docs.render.pdf import render_pdf
    from pars_docs.render.renditions import render_text

    engine = Engine()
    visit = Visit(
        "lumbar-tfesi",
        "محمد علي",
        date(2027, 3, 4),
        time(8, 0),
        "Dr. Lee",
        medications=("warfarin", "aspirin"),
        language="ar",
    )
    documents = engine.prepare(visit).documents
    pdf = tmp_path / "handout.pdf"
    pdf.write_bytes(render_pdf(documents))
    spans = "".join(_squeezed(text) for text in _span_actual_texts(pdf))
    frame = ["-x", "0", "-y", "34", "-W", "612", "-H", "703"]
    extracted = subprocess.run(
        ["pdftotext", "-raw", *frame, str(pdf), "-"], capture_output=True, text=True, check=True
    )
    read = _squeezed(extracted.stdout)
    # The footer (naming the set) is page furniture in the PDF; a picture's alt text is the
    # Figure's /Alt (tests/test_pictures.py), not a span of drawn text.
    alts = {_squeezed(p.get("alt")) for d in documents for p in d.iter("picture")}
    assert alts, "the TFESI handout shows the ice picture"
    paragraphs = [
        p
        for p in _paragraphs(render_text(documents))
        if "lumbar-tfesi" not in p and _squeezed(p) not in alts
    ]
    arabic = [p for p in paragraphs if any("\u0600" <= c <= "\u06ff" for c in p)]
    assert len(arabic) > 60
    assert [p for p in arabic if _squeezed(p) not in spans] == []
    assert [p for p in paragraphs if p not in arabic and _squeezed(p) not in read] == []


def test_every_shaped_arabic_glyph_maps_to_the_letters_it_stands_for(tmp_path):
    """The embedded Arabic font's ToUnicode map gives each drawn glyph the letters it stands
    for: no private-use codes (ligatures, forms the font has no character for) and no
    dotless letter bodies (Noto Sans Arabic draws ب ت ث ن ي as one body and their dots).
    Read through the glyphs (pdfinfo -struct-text reads the content, not the /ActualText),
    each Arabic word of the handout's paragraphs is there, drawn right to left."""
    import re
    import unicodedata
    from datetime import date, time

    from pars_docs.handout import Engine
    from pars_docs.read.visit import Visit
    from pars_docs.render.pdf import render_pdf
    from pars_docs.render.renditions import render_text

    engine = Engine()
    visit = Visit(
        "lumbar-tfesi",
        "محمد علي",
        date(2027, 3, 4),
        time(8, 0),
        "Dr. Lee",
        medications=("warfarin", "aspirin"),
        language="ar",
    )
    documents = engine.prepare(visit).documents
    pdf = tmp_path / "handout.pdf"
    pdf.write_bytes(render_pdf(documents))
    read = {}
    for command in (["pdftotext"], ["pdfinfo", "-struct-text"]):
        out = subprocess.run(
            [*command, str(pdf), "-"][: 3 if command[0] == "pdfinfo" else 4],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        read[command[0]] = unicodedata.normalize("NFKC", out)
        assert not re.findall("[\ue000-\uf8ff\U000f0000-\U000ffffd]", out), command
        assert not re.findall("[\u066e\u066f\u06a1\u06ba]", read[command[0]]), command
    # Words of plain letters (no marks, no lam-alef, which is one glyph for two letters), of
    # the paragraphs drawn as text (a picture's description is its alternative text).
    drawn = "".join(_squeezed(text) for text in _span_actual_texts(pdf))
    words = {
        word.strip(".,:;،()؟")
        for paragraph in _paragraphs(render_text(documents))
        if _squeezed(paragraph) in drawn or not any("\u0600" <= c <= "\u06ff" for c in paragraph)
        for word in paragraph.split()
    }
    words = {
        w
        for w in words
        if w and all("\u0621" <= c <= "\u064a" for c in w) and not re.search("ل[اأإآ]", w)
    }
    assert len(words) > 300
    # Outside the tagged content (the draft band, the footer) there is no /ActualText and
    # pdftotext reads the glyphs, putting them in logical order itself.
    missing = [w for w in words if w[::-1] not in read["pdfinfo"] and w not in read["pdftotext"]]
    assert missing == []
    # Latin names inside an Arabic line keep their letters' codes and their order.
    assert "(Bayer, Ecotrin, Bufferin)" in read["pdfinfo"]
