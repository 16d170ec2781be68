"""Tagged PDF (PDF/UA-1) and PDF/A: the structure is read back and checked against the handout.

pikepdf reads the structure tree, the marked content and the metadata; poppler's ``pdfinfo
-struct-text`` reads the tagged text in reading order; ``pdfua`` runs an independent checker.
"""

import io
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from datetime import date

import pikepdf
import pytest
from helpers import DATA, render_text
from PIL import Image, ImageCms
from pypdf import PdfReader

from pars_docs import make_handout
from pars_docs.compose.markup import plain
from pars_docs.load.pictures import pictures
from pars_docs.load.site import load_site
from pars_docs.render.pdf import render_pdf
from pars_docs.render.pdf.metadata import srgb_profile
from pars_docs.write.fhir_out import MIME_TYPE_SUFFICIENT, PDFA_FORMAT

pdfua = pytest.importorskip("pdfua")

STANDARD_ROLES = {
    "Document", "Part", "Sect", "Div", "P", "H1", "H2", "H3", "H4", "L", "LI", "Lbl", "LBody",
    "Table", "TR", "TH", "TD", "Figure",
}  # fmt: skip
PAINTING = {"Tj", "TJ", "'", '"', "Do", "S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh"}
NOTE = "Bring your scans.\nCall if you feel unwell."


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The New York test clinic, with a logo."""
    folder = tmp_path_factory.mktemp("site")
    Image.new("RGB", (120, 60), (31, 58, 95)).save(folder / "logo.png")
    text = (DATA / "site-ny.yaml").read_text() + "logo: logo.png\n"
    (folder / "site.yaml").write_text(text)
    return load_site(folder / "site.yaml")


def handout(site, procedure="pars-defect-injection", **kw):
    kw.setdefault("medications", ["warfarin", "aspirin"])
    kw.setdefault("note", NOTE)
    kw.setdefault("mrn", "MR123")
    return make_handout(
        procedure, "Ana Díaz", date(2026, 12, 3), "8:00 AM", "Dr. Lee", site=site, **kw
    )


@pytest.fixture(scope="module")
def injection(site):
    made = handout(site)
    return made, made.pdf()


@pytest.fixture(scope="module")
def packet(site):
    """Two handouts behind an index long enough to continue on a second page."""
    documents = [handout(site).document, handout(site, "pars-defect-decompression").document]
    rows = "".join(
        f"<row><cell>Dec {i}</cell><cell>Patient {i}</cell><cell>Injection</cell>"
        f"<cell>{i}</cell></row>"
        for i in range(1, 70)
    )
    index = ET.fromstring(
        '<index title="Handouts in this packet"><columns><col>When</col><col>Patient</col>'
        f"<col>Procedure</col><col>Row</col></columns>{rows}</index>"
    )
    return render_pdf(documents, logo=site.logo, index=index, title="Packet")


def elements(pdf: pikepdf.Pdf):
    """Every structure element, depth first in reading order: (role, dictionary)."""
    out = []

    def visit(node):
        kids = node.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/MCR":
                out.append((str(kid.S)[1:], kid))
                visit(kid)

    visit(pdf.Root.StructTreeRoot)
    return out


def marks(pdf: pikepdf.Pdf):
    """Per page: the MCIDs marked, and the painting operators outside any marked content."""
    result = []
    for page in pdf.pages:
        mcids, unmarked, depth, artifact_depth = [], [], 0, 0
        stack = []
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op in ("BDC", "BMC"):
                tag = str(operands[0])
                stack.append(tag)
                depth += 1
                if tag == "/Artifact":
                    artifact_depth += 1
                elif op == "BDC":
                    assert artifact_depth == 0, "real content inside an artifact"
                    assert len(stack) == 1, "marked content nested in marked content"
                    mcids.append(int(operands[1].MCID))
            elif op == "EMC":
                if stack.pop() == "/Artifact":
                    artifact_depth -= 1
                depth -= 1
            elif op in PAINTING and depth == 0:
                unmarked.append(op)
        assert depth == 0
        result.append((mcids, unmarked))
    return result


def struct_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "s.pdf"
    path.write_bytes(data)
    out = subprocess.run(
        ["pdfinfo", "-struct-text", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return "".join(re.findall(r'^\s*"(.*)"$', out, flags=re.M))


def check(data: bytes, tmp_path):
    path = tmp_path / "check.pdf"
    path.write_bytes(data)
    return pdfua.validate(str(path))


# -- the structure tree ------------------------------------------------------------------------


def test_every_piece_of_content_is_tagged_or_an_artifact(injection, packet):
    for data in (injection[1], packet):
        with pikepdf.open(io.BytesIO(data)) as pdf:
            pages = marks(pdf)
            assert all(not unmarked for _, unmarked in pages), pages
            assert all(mcids for mcids, _ in pages)  # no page is only furniture


def test_mcids_and_the_parent_tree_agree(injection, packet):
    for data in (injection[1], packet):
        with pikepdf.open(io.BytesIO(data)) as pdf:
            nums = list(pdf.Root.StructTreeRoot.ParentTree.Nums)
            parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
            pages = zip(pdf.pages, marks(pdf), strict=True)
            for number, (page, (mcids, _)) in enumerate(pages):
                assert int(page.StructParents) == number
                assert mcids == list(range(len(mcids)))  # each once, in drawing order
                owners = parents[number]
                assert len(owners) == len(mcids)
                for mcid, owner in enumerate(owners):
                    kids = owner.K if isinstance(owner.K, pikepdf.Array) else [owner.K]
                    claimed = [
                        (k.Pg.objgen if isinstance(k, pikepdf.Dictionary) else owner.Pg.objgen,
                         int(k.MCID) if isinstance(k, pikepdf.Dictionary) else int(k))
                        for k in kids
                        if not isinstance(k, pikepdf.Dictionary) or k.get("/Type") == "/MCR"
                    ]  # fmt: skip
                    assert (page.obj.objgen, mcid) in claimed


def test_roles_are_standard_and_the_document_has_a_language(injection):
    with pikepdf.open(io.BytesIO(injection[1])) as pdf:
        assert str(pdf.Root.Lang) == "en"
        (document,) = pdf.Root.StructTreeRoot.K
        assert str(document.S) == "/Document" and str(document.Lang) == "en"
        assert {role for role, _ in elements(pdf)} <= STANDARD_ROLES
        assert bool(pdf.Root.MarkInfo.Marked) is True
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True


def test_headings_in_order(injection):
    made, data = injection
    document = made.document
    expected = [("H1", document.findtext("header/title"))]
    expected.append(("H2", document.find("keytimes").get("title")))
    expected.append(("H2", document.find("note").get("title")))
    for section in document.findall("section"):
        expected.append(("H2", section.get("title")))
        expected += [("H3", group.get("title")) for group in section.findall("group")]
    expected += [
        ("H2", document.find(part).get("title")) for part in ("questions", "callbox", "emergency")
    ]
    with pikepdf.open(io.BytesIO(data)) as pdf:
        got = [(role, heading_text(pdf, el)) for role, el in elements(pdf) if role[0] == "H"]
    assert got == [(role, plain(text)) for role, text in expected]


def heading_text(pdf, element) -> str:
    """The text of a heading's marked content, read from the page's content stream."""
    page = next(p for p in pdf.pages if p.obj.objgen == element.Pg.objgen)
    mcids = {int(k) for k in (element.K if isinstance(element.K, pikepdf.Array) else [element.K])}
    text, inside = [], None
    for operands, operator in pikepdf.parse_content_stream(page):
        if str(operator) == "BDC" and str(operands[0]) != "/Artifact":
            inside = int(operands[1].MCID)
        elif str(operator) == "EMC":
            inside = None
        elif inside in mcids and str(operator) == "Tj":
            text.append(bytes(operands[0]))
    return decode(pdf, page, b"".join(text))


def decode(pdf, page, raw: bytes) -> str:
    """Text shown with one of ReportLab's subset fonts, through the font's ToUnicode map."""
    fonts = page.Resources.Font
    mapping = {}
    for name in fonts.keys():
        cmap = fonts[name].ToUnicode.read_bytes().decode("latin-1")
        for code, uni in re.findall(r"<([0-9a-f]{2})> <([0-9a-f]{4})>", cmap, flags=re.I):
            mapping.setdefault(int(code, 16), chr(int(uni, 16)))
    return "".join(mapping.get(b, "?") for b in raw)


def test_lists_have_items_with_a_label_and_a_body(injection):
    made, data = injection
    with pikepdf.open(io.BytesIO(data)) as pdf:
        lists = [el for role, el in elements(pdf) if role == "L"]
        items = 0
        for lst in lists:
            kids = list(lst.K) if isinstance(lst.K, pikepdf.Array) else [lst.K]
            assert kids and all(str(k.S) == "/LI" for k in kids)
            for item in kids:
                assert [str(k.S) for k in item.K] == ["/Lbl", "/LBody"]
                items += 1
            numbering = str(lst.A.ListNumbering)
            first_label = kids[0].K[0]
            if numbering == "/None":  # a checklist: the box reads as the template says
                assert str(first_label.Alt) == "Check box"
    composed = sum(
        len(made.document.findall(f".//{tag}")) for tag in ("check", "bullet", "step", "time")
    )
    assert items == composed


def test_patient_block_and_index_are_tables_with_header_scope(injection, packet):
    with pikepdf.open(io.BytesIO(injection[1])) as pdf:
        table = next(el for role, el in elements(pdf) if role == "Table")
        rows = list(table.K)
        assert all([str(c.S) for c in row.K] == ["/TH", "/TD"] for row in rows)
        assert all(str(row.K[0].A.Scope) == "/Row" for row in rows)
    with pikepdf.open(io.BytesIO(packet)) as pdf:
        index = next(el for role, el in elements(pdf) if role == "Table")
        head, *body = list(index.K)
        assert [str(c.A.Scope) for c in head.K] == ["/Column"] * 4
        assert len(body) == 69 and all(str(c.S) == "/TD" for row in body for c in row.K)


def test_the_logo_is_a_figure_with_alt_text(injection):
    with pikepdf.open(io.BytesIO(injection[1])) as pdf:
        figures = [el for role, el in elements(pdf) if role == "Figure"]
        # The logo first; the set's pictures follow (tests/test_pictures.py).
        assert str(figures[0].Alt) == "Riverside Spine & Pain <Center> logo"
        assert not any("logo" in str(f.Alt) for f in figures[1:])


def test_a_duplex_packet_leaves_its_padding_pages_empty(site, tmp_path):
    first = next(
        made.document
        for made in (handout(site), handout(site, sedation=True), handout(site, note=None))
        if len(PdfReader(io.BytesIO(made.pdf())).pages) % 2
    )  # a handout of an odd number of pages, so the next starts after a padding page
    documents = [first, handout(site, "pars-defect-decompression").document]
    data = render_pdf(documents, duplex=True)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pages = marks(pdf)
        assert all(not unmarked for _, unmarked in pages)
        blank = [n for n, page in enumerate(pdf.pages) if "/StructParents" not in page]
        assert blank and all(not pages[n][0] for n in blank)
    assert list(check(data, tmp_path).findings) == []


def test_each_handout_in_a_packet_is_a_tagged_part(packet):
    with pikepdf.open(io.BytesIO(packet)) as pdf:
        (document,) = pdf.Root.StructTreeRoot.K
        kinds = [str(k.S) for k in document.K]
        assert kinds == ["/Sect", "/Part", "/Part"]
        titles = [(role, el) for role, el in elements(pdf) if role == "H1"]
        assert len(titles) == 3  # the index and one title per handout


LAYOUTS = {
    "injection": {},
    "decompression, sedation, a4": {"procedure": "pars-defect-decompression", "sedation": True},
    "long note, many medicines": {
        "note": "\n".join(f"Line {i} of the note." for i in range(45)),
        "medications": ["warfarin", "aspirin", "Eliquis", "Plavix", "Advil", "fish oil"],
    },
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_tagged_text_reads_in_the_order_of_the_text_rendition(site, layout, tmp_path):
    options = dict(LAYOUTS[layout])
    made = handout(site, options.pop("procedure", "pars-defect-injection"), **options)
    data = made.pdf("a4" if "a4" in layout else None)
    tagged = struct_text(data, tmp_path)
    text = render_text(made)
    # The text rendition marks items with "[ ] " and "- " where the PDF draws a box or a
    # bullet, underlines headings, writes "Label: value" where the PDF has table cells, and
    # ends with the set's id, which the PDF prints in its footer (an artifact).
    text = re.sub(r"^\s*(\[ \] |- )", "", text, flags=re.M)
    text = re.sub(r"^[=\-]+$", "", text, flags=re.M)
    text = text.rsplit("\n\n", 1)[0]
    tagged = tagged.replace("☐", "").replace("•", "")
    assert "Take your last warfarin" in tagged and "Call 911" in tagged
    assert list(check(data, tmp_path).findings) == []

    def squash(s: str) -> str:
        return re.sub(r"[\s:]+", "", s)

    # A picture: the text rendition gives its alt text; the tagged PDF's Figure holds the
    # words drawn on it (its digits, then its labels), read as that alt text.
    expected = squash(text)
    for picture in made.document.iter("picture"):
        drawn = pictures()[picture.get("name")]
        words = [s["digits"]["text"] for s in drawn.shapes if "digits" in s]
        words += [label.text for label in picture.findall("label")]
        expected = expected.replace(squash(picture.get("alt")), squash("".join(words)), 1)
    assert squash(tagged) == expected


def test_words_either_side_of_a_line_break_stay_apart(injection, tmp_path):
    tagged = struct_text(injection[1], tmp_path)
    assert "tells you something different" in tagged


def test_repeated_index_header_is_an_artifact(packet):
    with pikepdf.open(io.BytesIO(packet)) as pdf:
        head = next(el for role, el in elements(pdf) if role == "TR")
        # The header cells' content lies on the first page only, though it is drawn again.
        pages = {c.Pg.objgen for c in head.K}
        assert pages == {pdf.pages[0].obj.objgen}
        second = pikepdf.unparse_content_stream(pikepdf.parse_content_stream(pdf.pages[1]))
        assert re.search(rb"/Artifact << /Subtype /Header /Type /Pagination >> BDC", second)


def test_a_paragraph_across_pages_stays_one_element(site):
    note = "\n".join(f"Line {i} of the note." for i in range(45))
    data = handout(site, note=note).pdf()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        sections = [el for role, el in elements(pdf) if role == "Sect"]
        note_section = sections[1]  # after the key times
        assert len(list(note_section.K)) == 46  # the heading and every line, in one section
        pages = {p.objgen for el in note_section.K for p in [el.Pg]}
        assert len(pages) == 2


# -- the independent checker -------------------------------------------------------------------


def test_pdfua_checker_finds_nothing(injection, packet, site, tmp_path):
    decompression = handout(site, "pars-defect-decompression", sedation=True).pdf("a4")
    for data in (injection[1], packet, decompression):
        report = check(data, tmp_path)
        assert [(f.rule_id, f.message) for f in report.findings] == []


# -- reproducible ------------------------------------------------------------------------------


def test_tagged_and_archival_pdfs_are_reproducible(site, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    made = handout(site)
    assert made.pdf() == made.pdf()
    archival = handout(load_site_with(site, pdfa=True))
    assert archival.pdf() == archival.pdf()


def test_every_object_is_where_the_cross_reference_table_says(injection, packet, tmp_path):
    """The structure tree's objects are written as one run of bytes, outside ReportLab's own
    writer; every entry of the table must still point at the start of its object, with none
    missing (a reader would otherwise repair the file quietly, or fail)."""
    for pdf in (injection[1], packet):
        start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))
        table = re.match(rb"xref\n0 (\d+)\n((?:\d{10} \d{5} [fn] \n)+)trailer", pdf[start:])
        size = int(table.group(1))
        entries = table.group(2).splitlines()
        assert len(entries) == size
        assert int(re.search(rb"/Size (\d+)", pdf[start:]).group(1)) == size
        for number, entry in enumerate(entries[1:], 1):
            offset = int(entry[:10])
            assert pdf.startswith(b"%d 0 obj\n" % number, offset), number
        assert len(re.findall(rb"(?m)^\d+ 0 obj$", pdf)) == size - 1
        if shutil.which("qpdf"):
            (tmp_path / "checked.pdf").write_bytes(pdf)
            check = subprocess.run(
                ["qpdf", "--check", tmp_path / "checked.pdf"], capture_output=True
            )
            assert check.returncode == 0, check.stdout + check.stderr


def load_site_with(site, **changes):
    from dataclasses import replace

    return replace(site, **changes)


# -- PDF/A -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def archival(site):
    return handout(load_site_with(site, pdfa=True)).pdf()


def test_pdfa_metadata_agrees_with_the_information_dictionary(archival):
    with pikepdf.open(io.BytesIO(archival)) as pdf:
        info = pdf.docinfo
        assert "/Filter" not in pdf.Root.Metadata
        with pdf.open_metadata() as xmp:
            assert xmp["pdfaid:part"] == "2" and xmp["pdfaid:conformance"] == "B"
            assert xmp["pdfuaid:part"] == "1"
            assert xmp["dc:title"] == str(info.Title)
            assert xmp["dc:creator"] == [str(info.Author)]
            assert xmp["pdf:Producer"] == str(info.Producer)
            assert xmp["xmp:CreatorTool"] == str(info.Creator)
            created = str(info.CreationDate)  # D:YYYYMMDDHHmmSS+HH'mm'
            iso = (
                f"{created[2:6]}-{created[6:8]}-{created[8:10]}T{created[10:12]}:"
                f"{created[12:14]}:{created[14:16]}{created[16:19]}:{created[20:22]}"
            )
            assert xmp["xmp:CreateDate"] == iso == xmp["xmp:ModifyDate"]
        assert set(info.keys()) == {
            "/Title", "/Author", "/Creator", "/Producer", "/CreationDate", "/ModDate"
        }  # fmt: skip


def test_pdfa_output_intent_is_a_working_srgb_profile(archival):
    with pikepdf.open(io.BytesIO(archival)) as pdf:
        (intent,) = pdf.Root.OutputIntents
        assert str(intent.S) == "/GTS_PDFA1"
        data = intent.DestOutputProfile.read_bytes()
        assert int(intent.DestOutputProfile.N) == 3
    assert data == srgb_profile()
    profile = ImageCms.ImageCmsProfile(io.BytesIO(data))
    assert profile.profile.version < 4 and profile.profile.xcolor_space.strip() == "RGB"
    # It maps colours as the sRGB profile of the colour management library does.
    built_in = ImageCms.createProfile("sRGB")
    transform = ImageCms.buildTransform(profile, built_in, "RGB", "RGB")
    colours = [(31, 58, 95), (155, 28, 28), (17, 17, 17), (255, 255, 255), (128, 128, 128)]
    image = Image.new("RGB", (len(colours), 1))
    image.putdata(colours)
    out = ImageCms.applyTransform(image, transform)
    for x, colour in enumerate(colours):
        assert all(abs(a - b) <= 1 for a, b in zip(out.getpixel((x, 0)), colour, strict=True))


def test_pdfa_fonts_embedded_with_widths_no_encryption_or_transparency(archival):
    with pikepdf.open(io.BytesIO(archival)) as pdf:
        assert not pdf.is_encrypted
        for page in pdf.pages:
            for name, font in page.Resources.Font.items():
                descriptor = font.FontDescriptor
                assert "/FontFile2" in descriptor, name
                widths = font.Widths
                assert len(widths) == int(font.LastChar) - int(font.FirstChar) + 1
                assert "/ToUnicode" in font
                # PDF/A-2 6.2.11.6: a symbolic TrueType font has no /Encoding, and its cmap
                # holds exactly one encoding (or the Microsoft Symbol one).
                assert "/Encoding" not in font and int(descriptor.Flags) & 4
                assert cmap_encodings(descriptor.FontFile2.read_bytes()) in ([(1, 0)], [(3, 0)])
            for state in page.Resources.get("/ExtGState", {}).values():
                assert float(state.get("/CA", 1)) == 1 and float(state.get("/ca", 1)) == 1
                assert state.get("/SMask", pikepdf.Name.None_) == pikepdf.Name.None_
        assert archival.startswith(b"%PDF-1.")
        assert min(archival.split(b"\n")[1][1:5]) > 127  # a binary comment after the header


def cmap_encodings(font: bytes) -> list[tuple[int, int]]:
    """The (platform, encoding) pairs of a TrueType font program's cmap table."""
    tables = {
        font[12 + 16 * i : 16 + 16 * i]: struct.unpack(">II", font[20 + 16 * i : 28 + 16 * i])
        for i in range(struct.unpack(">H", font[4:6])[0])
    }
    offset, _ = tables[b"cmap"]
    count = struct.unpack(">H", font[offset + 2 : offset + 4])[0]
    records = [font[offset + 4 + 8 * i : offset + 12 + 8 * i] for i in range(count)]
    return [struct.unpack(">HH", record[:4]) for record in records]


def test_the_document_reference_names_the_format(site):
    made = handout(site)
    assert made.document_reference()["content"][0]["format"] == MIME_TYPE_SUFFICIENT
    archived = handout(load_site_with(site, pdfa=True))
    assert archived.document_reference()["content"][0]["format"] == PDFA_FORMAT


def test_pdfa_option_on_make(make, tmp_path):
    result, out = make("--pdfa")
    assert result.exit_code == 0, result.output
    with pikepdf.open(out) as pdf, pdf.open_metadata() as xmp:
        assert xmp["pdfaid:part"] == "2"
    result, plain_out = make(out=tmp_path / "plain.pdf")
    with pikepdf.open(plain_out) as pdf:
        assert "/OutputIntents" not in pdf.Root
        with pdf.open_metadata() as xmp:
            assert xmp["pdfuaid:part"] == "1" and "pdfaid:part" not in xmp


def test_pdfa_site_setting(tmp_path):
    text = (DATA / "site-ny.yaml").read_text() + "pdfa: true\n"
    (tmp_path / "site.yaml").write_text(text)
    assert load_site(tmp_path / "site.yaml").pdfa is True
    assert load_site(DATA / "site-ny.yaml").pdfa is False


@pytest.mark.skipif(not shutil.which("pdfinfo"), reason="poppler not installed")
def test_poppler_reports_a_tagged_file(injection, tmp_path):
    path = tmp_path / "h.pdf"
    path.write_bytes(injection[1])
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, flags=re.M)
    assert re.search(r"^Metadata Stream:\s+yes$", info, flags=re.M)
