"""Merged packets made in parts and joined on disk (batch/packet.py, batch/pdfjoin.py).

The part sizes are made tiny here, so a handful of rows spans several parts and index pieces.
"""

import io
import re
import shutil
import subprocess

import pytest
from helpers import DATA, squash
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from pars_docs.batch import packet
from pars_docs.batch.pdfjoin import JoinError, PdfJoiner
from pars_docs.cli import cli

SITE = DATA / "site-ny.yaml"
NAMES = [f"Patient {chr(65 + i)}{chr(97 + i)}" for i in range(7)]


def pdf_of(*pages: str) -> bytes:
    """A ReportLab PDF with one page per text."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    for text in pages:
        canvas.drawString(72, 720, text)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def joined(*parts: bytes, duplex: bool) -> bytes:
    out = io.BytesIO()
    joiner = PdfJoiner(out, duplex=duplex)
    for part in parts:
        joiner.add(part)
    joiner.close()
    return out.getvalue()


def page_texts(data: bytes) -> list[str]:
    return [squash(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def qpdf_check(path) -> None:
    if shutil.which("qpdf"):
        done = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout


def test_joiner_keeps_page_order_and_pads_odd_parts_for_duplex(tmp_path):
    parts = [pdf_of("one"), pdf_of("two", "three", "four"), pdf_of("five", "six")]
    simplex = joined(*parts, duplex=False)
    assert page_texts(simplex) == ["one", "two", "three", "four", "five", "six"]
    duplex = joined(*parts, duplex=True)
    # A blank back after "one" and after "four": each part starts on the front of a sheet.
    assert page_texts(duplex) == ["one", "", "two", "three", "four", "", "five", "six"]
    path = tmp_path / "joined.pdf"
    path.write_bytes(duplex)
    qpdf_check(path)
    assert joined(*parts, duplex=True) == duplex  # the same parts, the same bytes


def test_joiner_refuses_what_it_cannot_read():
    with pytest.raises(JoinError, match="not a PDF"):
        joined(b"%PDF-1.4\nnothing here\n", duplex=False)
    with pytest.raises(JoinError, match="nothing to join"):
        joined(duplex=False)


@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setattr(packet, "PART_HANDOUTS", 2)
    monkeypatch.setattr(packet, "INDEX_ROWS", 3)


def run_packet(runner, tmp_path, name, jobs, *extra):
    rows = [
        f"pars-defect-injection,{NAMES[i]},2026-12-0{1 + i % 3},{7 + (6 - i)}:00,Dr. Sam Lee,M{i}"
        for i in range(len(NAMES))
    ]
    source = tmp_path / "list.csv"
    source.write_text("procedure,patient,date,time,clinician,mrn\n" + "\n".join(rows) + "\n")
    target = tmp_path / name
    args = ["batch", str(source), "--site", str(SITE), "--jobs", str(jobs), "--merge", str(target)]
    result = runner.invoke(cli, [*args, *extra])
    assert result.exit_code == 0, result.output
    return target


@pytest.mark.usefixtures("small_parts")
def test_a_packet_in_many_parts_reads_as_one(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    target = run_packet(runner, tmp_path, "packet.pdf", 2, "--duplex", "--index")
    qpdf_check(target)
    reader = PdfReader(target)
    texts = [squash(page.extract_text()) for page in reader.pages]
    # The index, in three pieces, lists every patient once, in appointment order; only the
    # first piece has the title.
    index = " ".join(t for t in texts if "Row" in t and "Page 1 of" not in t)
    assert index.count("Handouts in this packet") == 1
    listed = list(re.findall(r"Patient [A-G][a-g]", index))
    order = sorted(range(len(NAMES)), key=lambda i: (1 + i % 3, 7 + (6 - i)))
    assert listed == [NAMES[i] for i in order]
    # Every handout starts on a front (odd) page, in appointment order, and keeps its own
    # page numbers.
    starts = [n for n, text in enumerate(texts, 1) if "Page 1 of" in text]
    assert all(n % 2 == 1 for n in starts), starts
    firsts = [re.search(r"Patient [A-G][a-g]", texts[n - 1])[0] for n in starts]
    assert firsts == [NAMES[i] for i in order]
    for start, end in zip(starts, [*starts[1:], len(texts) + 1], strict=True):
        numbers = [
            int(m) for t in texts[start - 1 : end - 1] for m in re.findall(r"Page (\d+) of", t)
        ]
        assert numbers == list(range(1, len(numbers) + 1))
    # No working files are left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.csv", "packet.pdf"]
    # The same list makes the same packet, however many processes lay it out.
    again = run_packet(runner, tmp_path, "again.pdf", 1, "--duplex", "--index")
    assert again.read_bytes() == target.read_bytes()


def test_a_small_packet_is_one_part_with_fonts_once(runner, tmp_path):
    target = run_packet(runner, tmp_path, "packet.pdf", 2, "--index")
    reader = PdfReader(target)
    programs = {
        font.get_object()["/FontDescriptor"].raw_get("/FontFile2").idnum
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert len(programs) == 2  # regular and bold, once for the whole packet


@pytest.mark.usefixtures("small_parts")
def test_a_packet_in_many_parts_stays_tagged(runner, tmp_path):
    pikepdf = pytest.importorskip("pikepdf")
    pdfua = pytest.importorskip("pdfua")
    target = run_packet(runner, tmp_path, "packet.pdf", 2, "--duplex", "--index")
    with pikepdf.open(target) as pdf:
        root = pdf.Root
        assert str(root.Lang) == "en" and bool(root.MarkInfo.Marked)
        assert bool(root.ViewerPreferences.DisplayDocTitle) and "/Metadata" in root
        # One document element: the three index pieces, then one part per handout.
        (document,) = root.StructTreeRoot.K
        assert [str(k.S) for k in document.K] == ["/Sect"] * 3 + ["/Part"] * len(NAMES)
        assert all(k.P.objgen == document.objgen for k in document.K)
        # Every page with content has its own key into the parent tree, whose entries are
        # the elements that own that page's marked content.
        parents = pikepdf.NumberTree(root.StructTreeRoot.ParentTree)
        keys = [int(page.StructParents) for page in pdf.pages if "/StructParents" in page]
        assert keys == sorted(set(keys)) and len(keys) == len(list(parents.keys()))
        assert int(root.StructTreeRoot.ParentTreeNextKey) > keys[-1]
        for page in pdf.pages:
            if "/StructParents" not in page:
                continue  # a blank back of a sheet
            for owner in parents[int(page.StructParents)]:
                pages = (
                    {owner.Pg.objgen}
                    | {k.Pg.objgen for k in owner.K if isinstance(k, pikepdf.Dictionary)}
                    if isinstance(owner.K, pikepdf.Array)
                    else {owner.Pg.objgen}
                )
                assert page.obj.objgen in pages
    report = pdfua.validate(str(target))
    assert [(f.rule_id, f.message) for f in report.findings] == []


def test_the_failed_rows_follow_the_handouts_list_on_the_same_page(runner, tmp_path):
    source = tmp_path / "list.csv"
    source.write_text(
        "procedure,patient,date,time,clinician,mrn\n"
        "pars-defect-injection,Patient Aa,2026-12-03,8:00,Dr. Sam Lee,M1\n"
        "pars-defect-injection,Patient Bb,2026-13-01,9:00,Dr. Sam Lee,M2\n"
        "pars-defect-injection,Patient Cc,2026-12-03,9:00,Dr. Sam Lee,M3\n"
    )
    target = tmp_path / "packet.pdf"
    args = ["batch", str(source), "--site", str(SITE), "--merge", str(target)]
    result = runner.invoke(cli, [*args, "--duplex", "--index"])
    assert result.exit_code == 1, result.output
    first = squash(PdfReader(target).pages[0].extract_text())
    assert "Handouts in this packet" in first
    assert "Rows with no handout of their own" in first  # not a sheet of its own
