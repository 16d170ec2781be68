"""The printed handout, read back the way a person or a PDF library reads it."""

import io
import unicodedata

import pytest
from helpers import DATA, pdf_text, squash
from pypdf import PdfReader

from pars_docs.render.pdf.fonts import missing_glyphs

NAMES = {
    "vietnamese": "Nguyễn Thị Ánh Tuyết",
    "polish": "Łukasz Żółć-Wiśniewska",
    "turkish": "Şükrü Çağlar İğdırlı",
    "romanian": "Ștefan Țărănuș",
    "german": "Jürgen Größer",
    "icelandic": "Þórður Ægisson",
    "greek": "Ελένη Παπαδοπούλου",
    "cyrillic": "Дмитрий Ёлкин-Щукин",
    "ukrainian": "Олена Ґалаґан-Їжак",
}


def reader(path):
    return PdfReader(io.BytesIO(path.read_bytes()))


@pytest.mark.parametrize("script", NAMES)
def test_names_render_and_read_back(make, script):
    name = NAMES[script]
    assert missing_glyphs(name) == []
    result, out = make(patient=name, clinician=name)
    assert result.exit_code == 0, result.output
    text = unicodedata.normalize("NFC", pdf_text(out))
    assert name in text


def test_decomposed_name_is_printed_composed(make):
    decomposed = unicodedata.normalize("NFD", NAMES["vietnamese"])
    assert decomposed != NAMES["vietnamese"]
    result, out = make(patient=decomposed)
    assert result.exit_code == 0
    assert NAMES["vietnamese"] in pdf_text(out)


@pytest.mark.parametrize(
    "value",
    [
        '<b>Bold</b> & "quotes"',
        "{{ visit.patient }}",
        "{% if 1 %}x{% endif %}",
        "Tom &amp; Jerry",
        "O'Brien",
    ],
)
def test_markup_in_values_prints_literally(make, value):
    result, out = make("--note", value, patient=value, clinician=value)
    assert result.exit_code == 0, result.output
    text = squash(pdf_text(out))
    assert f"Patient {value}" in text
    assert f"Your clinician {value}" in text
    assert value in text.split("A note from your care team", 1)[1]


def test_patient_block_and_sections(make):
    result, out = make("--dob", "1990-04-02", "--mrn", "MRN-001", "--sedation")
    text = squash(pdf_text(out))
    for phrase in [
        "Patient Ana Díaz",
        "Date of birth April 2, 1990",
        "Record number MRN-001",
        "Procedure Pars defect injection",
        "Date Thursday, December 3, 2026",
        "Start time 8:00 AM",
        "Arrive by 7:30 AM",
        "Your clinician Dr. Sam Lee",
        "Before your shot",
        "On the day of your shot",
        "After your shot",
        "Clinic phone: (555) 010-2000",
        "After hours: (555) 010-2999",
        "Call 911 right away",
        "Riverside Spine & Pain <Center>",
    ]:
        assert phrase in text, phrase


def test_times_are_written_out(make):
    result, out = make("--sedation", date="2026-12-03", time="8:00 AM")
    text = squash(pdf_text(out))
    assert "Eat your last food before Thursday, December 3 at 2:00 AM." in text
    assert "Get here by Thursday, December 3 at 7:30 AM." in text
    assert "heavy lifting until Saturday, December 5 at 8:30 AM." in text


def test_spring_forward_fast_prints_one_am(make):
    result, out = make("--sedation", date="2026-03-08", time="8:00 AM")
    assert "Eat your last food before Sunday, March 8 at 1:00 AM." in squash(pdf_text(out))


def test_year_is_shown_when_a_moment_falls_in_another_year(make):
    result, out = make(procedure="pars-defect-decompression", date="2027-01-01", time="7:00")
    assert "Thursday, December 31, 2026 at 9:00 PM" in squash(pdf_text(out))


def test_sedation_adds_fasting_and_a_driver(make):
    _, without = make("--no-sedation")
    text = squash(pdf_text(without))
    assert "Eating and drinking" not in text and "drive you home" not in text
    _, with_sedation = make("--sedation", out=without.parent / "s.pdf")
    text = squash(pdf_text(with_sedation))
    assert "Eating and drinking" in text and "drive you home" in text


def test_medicine_lines(make):
    result, out = make(
        "--medication",
        "Eliquis",
        "--medication",
        "advil",
        "--medication",
        "aspirin",
        date="2026-12-03",
    )
    text = squash(pdf_text(out))
    assert "Take your last Eliquis (apixaban) on Sunday, November 29." in text
    assert "Take your last Advil (ibuprofen) on Tuesday, December 1." in text
    assert (
        "Call us by Monday, November 30 about aspirin (Bayer, Ecotrin, Bufferin). We will tell "
        "you what to do before your shot."
    ) in text
    # Date order: Eliquis stops before Advil, whatever order they were given in.
    assert text.index("Take your last Eliquis") < text.index("Take your last Advil")


def test_no_medicines_listed_asks_for_them(make):
    _, out = make()
    assert "Tell us about every medicine you take." in squash(pdf_text(out))


def test_footer_on_every_page(make):
    _, out = make(patient="Zoë Quinn")
    pages = reader(out).pages
    assert len(pages) >= 2
    for number, page in enumerate(pages, 1):
        text = squash(page.extract_text())
        assert "Zoë Quinn" in text
        assert f"Page {number} of {len(pages)}" in text
        assert "pars-defect-injection v1.2.0" in text


def test_fonts_are_embedded_subsets(make):
    _, out = make()
    fonts = set()
    for page in reader(out).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/FontDescriptor"] if "/FontDescriptor" in font else None
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert descriptor is not None, font
            assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"
            fonts.add(str(font["/BaseFont"]))
    assert fonts and all("DejaVu" in f or "ParsDocs" in f for f in fonts)


def test_text_sizes(make):
    """Body text is 12 pt or more; only the footer is smaller."""
    _, out = make("--sedation", "--medication", "Eliquis")
    sizes = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            sizes.append((size * tm[0], text.strip()))

    for page in reader(out).pages:
        page.extract_text(visitor_text=visit)
    footer_bits = ("Page ", "pars-defect-injection v", "Ana Díaz")
    body = [s for s, t in sizes if not t.startswith(footer_bits)]
    assert min(body) >= 12
    assert max(s for s, _ in sizes) >= 20  # a large title


def test_metadata_has_title_and_no_patient(make):
    _, out = make("--dob", "1990-04-02", "--mrn", "MRN-424242", patient="Ana Díaz")
    meta = reader(out).metadata
    assert meta.title == "Pars defect injection: instructions for your procedure"
    info = " ".join(str(v) for v in meta.values())
    for identifier in ("Ana", "Díaz", "MRN-424242", "1990"):
        assert identifier not in info


def test_paper_sizes(make, tmp_path):
    _, letter = make()
    _, a4 = make("--paper", "a4", out=tmp_path / "a4.pdf")
    assert [round(float(x)) for x in reader(letter).pages[0].mediabox[2:]] == [612, 792]
    assert [round(float(x)) for x in reader(a4).pages[0].mediabox[2:]] == [595, 842]


def test_reproducible_with_source_date_epoch(make, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    _, first = make(out=tmp_path / "1.pdf")
    _, second = make(out=tmp_path / "2.pdf")
    assert first.read_bytes() == second.read_bytes()
    _, other = make(out=tmp_path / "3.pdf", patient="Someone Else")
    assert other.read_bytes() != first.read_bytes()


def test_default_site_leaves_lines_for_phone_numbers(make, tmp_path, monkeypatch):
    monkeypatch.delenv("PARS_DOCS_SITE", raising=False)
    monkeypatch.setenv("TZ", "America/New_York")  # a place: UTC would be refused
    result, out = make(site=None)
    assert result.exit_code == 0, result.output
    text = squash(pdf_text(out))
    assert "Clinic phone: ________________________" in text


VARIANTS = [
    (procedure, sedation, meds, paper, note)
    for procedure, sedation in (
        ("pars-defect-injection", "--sedation"),
        ("pars-defect-injection", "--no-sedation"),
        ("pars-defect-decompression", "--sedation"),
    )
    for meds in ((), ("Eliquis",), ("Eliquis", "warfarin", "Advil", "aspirin", "fish oil"))
    for paper in ("letter", "a4")
    for note in (None, "Please bring your brace and your walker. " * 4)
]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(map(str, v))[:60])
def test_no_heading_is_left_alone_at_the_foot_of_a_page(make, tmp_path, variant):
    procedure, sedation, meds, paper, note = variant
    extra = [sedation, "--paper", paper]
    for med in meds:
        extra += ["--medication", med]
    if note:
        extra += ["--note", note]
    result, out = make(*extra, procedure=procedure, out=tmp_path / "v.pdf")
    assert result.exit_code == 0, result.output
    from pars_docs.handout import Engine
    from pars_docs.load.site import load_site
    from pars_docs.read.visit import make_visit

    visit = make_visit(
        procedure,
        "Ana Díaz",
        "2026-12-03",
        "8:00 AM",
        "Dr. Sam Lee",
        sedation=sedation == "--sedation",
        medications=meds,
        note=note,
    )
    document = Engine(load_site(DATA / "site-ny.yaml")).prepare(visit).document
    headings = {squash(el.get("title")) for el in document.iter() if el.tag in ("section", "group")}
    leads = {squash(el.text) for el in document.iter() if el.tag == "p" and el.text}
    pages = reader(out).pages
    for number, page in enumerate(pages[:-1], 1):
        lines = [squash(line) for line in page.extract_text().splitlines() if line.strip()]
        body = [
            line for line in lines if not line.startswith(("Page ", "Ana Díaz", "pars-defect-"))
        ]
        last = body[-1]
        assert last not in headings, f"page {number} ends with the heading '{last}'"
        assert not any(lead.endswith(last) and lead.endswith(":") for lead in leads), (
            f"page {number} ends with the lead-in '{last}'"
        )


def test_midnight_and_noon_are_written_in_words(make, tmp_path):
    # 6 hours before 6:00 AM is exactly midnight: the end of Wednesday, not "12:00 AM".
    _, out = make("--sedation", date="2026-12-03", time="6:00 AM")
    text = squash(pdf_text(out))
    assert "Eat your last food before Wednesday, December 2 at midnight." in text
    assert "12:00 AM" not in text
    _, out = make(date="2026-12-03", time="12:00 PM", out=tmp_path / "noon.pdf")
    assert "Start time noon" in squash(pdf_text(out))


def test_midnight_at_a_year_end_shows_the_year(make):
    _, out = make("--sedation", date="2027-01-01", time="6:00 AM")
    assert "Thursday, December 31, 2026 at midnight" in squash(pdf_text(out))


def test_restart_left_to_the_surgeon_is_said_in_words(make):
    _, out = make("--medication", "Advil", procedure="pars-defect-decompression")
    assert "Then stop it. Call us by Monday, November 30 to ask when you may start it again." in (
        squash(pdf_text(out))
    )


def test_a_time_in_the_repeated_hour_says_which(make):
    # Clocks in New York go back at 2:00 AM on 2026-11-01, so 1:30 AM happens twice. Six hours
    # before 7:30 AM (EST) is the second 1:30 AM.
    _, out = make("--sedation", date="2026-11-01", time="7:30 AM")
    assert (
        "Eat your last food before Sunday, November 1 at 1:30 AM (the second time, "
        "after the clocks go back)."
    ) in squash(pdf_text(out))


def test_a_paragraph_split_across_pages_renders(make, tmp_path):
    # This combination puts a long medicine line across a page break, where ReportLab splits
    # the paragraph into pieces made from fragments.
    note = 'Line one.\nLine two, with a comma.\nShe said "ok".'
    result, out = make(
        "--dob",
        "1977-06-17",
        "--mrn",
        "MR5002951",
        "--medication",
        "aspirin",
        "--medication",
        "warfarin",
        "--medication",
        "Xarelto",
        "--note",
        note,
        procedure="pars-defect-decompression",
        patient="Agnieszka Żółkiewska",
        date="2026-03-08",
        time="13:00",
        clinician="X",
    )
    assert result.exit_code == 0, result.output
    text = squash(pdf_text(out))
    for medicine in ("aspirin", "warfarin", "Xarelto"):
        assert f"Take your last {medicine} (" in text


def test_a_long_note_continues_on_the_next_page(make):
    note = "\n".join(f"Line {i} of the note." for i in range(45))
    result, out = make("--note", note)
    assert result.exit_code == 0, result.output
    text = squash(pdf_text(out))
    assert "Line 0 of the note." in text and "Line 44 of the note." in text


@pytest.mark.parametrize(
    "time,arrive",
    [
        ("0:15", "Arrive by Wednesday, December 2 at 11:45 PM"),
        ("0:30", "Arrive by Wednesday, December 2 at midnight"),
        ("8:00", "Arrive by 7:30 AM"),
    ],
)
def test_arrive_by_names_the_day_when_it_is_not_the_procedure_date(make, time, arrive):
    _, out = make(date="2026-12-03", time=time)
    assert arrive in squash(pdf_text(out))


def test_a_day_at_midnight_in_the_next_year_shows_its_year(make):
    # 5 days after midnight on December 27 is midnight on January 1: the day filter writes
    # the date itself, so it must carry the year.
    _, out = make(date="2026-12-27", time="12:00 AM")
    assert "full effect by Friday, January 1, 2027." in squash(pdf_text(out))
