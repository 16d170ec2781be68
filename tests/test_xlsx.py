"""Excel workbooks (.xlsx) as appointment lists, for `pars-docs batch` and the desk: written
here with openpyxl, the library that reads them, as Excel saves them (date and time cells,
record numbers typed as numbers)."""

import datetime as dt

from helpers import pdf_names, read_manifest, text_of
from openpyxl import Workbook

from pars_docs.read.rows import Row as ListRow
from pars_docs.read.rows import Source, read_rows


def workbook(path, rows, title="Tomorrow"):
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


HEADER = ("Procedure", "Patient Name", "Appointment Date", "Start Time", "Provider", "MRN")


def test_an_xlsx_list_makes_a_handout_per_row_from_its_date_and_time_cells(batch, tmp_path):
    source = workbook(
        tmp_path / "tomorrow.xlsx",
        [
            HEADER,
            (
                "pars-defect-injection",
                "Zoë Brown",
                dt.datetime(2026, 12, 3),
                dt.time(8, 0),
                "Dr. Sam Lee",
                4417,
            ),
            (None, None, None, None, None, None),  # a blank row in the sheet
            (
                "pars-defect-decompression",
                "Ana Díaz",
                dt.date(2026, 12, 4),
                dt.time(14, 30),
                "Dr. Sam Lee",
                "A-77",
            ),
        ],
    )
    out, manifest = tmp_path / "out", tmp_path / "manifest.jsonl"
    result = batch(source, "--out-dir", out, "--manifest", manifest)
    assert result.exit_code == 0, result.output
    # The record number typed as a number is its digits, not 4417.0; rows are the sheet's.
    assert pdf_names(out) == [
        "2026-12-03_0800_pars-defect-injection_4417.pdf",
        "2026-12-04_1430_pars-defect-decompression_A-77.pdf",
    ]
    records = read_manifest(manifest)
    assert [r["row"] for r in records] == [2, 4]
    assert "Zoë Brown" in text_of(out / "2026-12-03_0800_pars-defect-injection_4417.pdf")


def test_a_date_cell_is_read_as_a_date_whatever_date_format_says(batch, tmp_path):
    # A sheet mixing date cells and dates typed as text: --date-format is for the text.
    source = workbook(
        tmp_path / "mixed.xlsx",
        [
            HEADER,
            (
                "pars-defect-injection",
                "Zoë Brown",
                dt.datetime(2026, 12, 3),
                "8:00 AM",
                "Dr. Sam Lee",
                "B1",
            ),
            ("pars-defect-injection", "Li Wei", "12/04/2026", "9:15 AM", "Dr. Sam Lee", "B2"),
        ],
    )
    out = tmp_path / "out"
    result = batch(source, "--out-dir", out, "--date-format", "%m/%d/%Y")
    assert result.exit_code == 0, result.output
    assert pdf_names(out) == [
        "2026-12-03_0800_pars-defect-injection_B1.pdf",
        "2026-12-04_0915_pars-defect-injection_B2.pdf",
    ]


def test_a_bad_row_in_a_workbook_fails_alone_naming_its_sheet_row(batch, tmp_path):
    source = workbook(
        tmp_path / "list.xlsx",
        [
            ("", "", "", "", "", ""),  # the header need not be the first row
            HEADER,
            (
                "pars-defect-injection",
                "Zoë Brown",
                dt.datetime(2026, 12, 3),
                dt.time(8),
                "Dr. Sam Lee",
                "C1",
            ),
            (
                "pars-defect-injection",
                "Li Wei",
                dt.datetime(2026, 12, 3),
                "25:00",
                "Dr. Sam Lee",
                "C2",
            ),
        ],
    )
    out, manifest = tmp_path / "out", tmp_path / "manifest.jsonl"
    result = batch(source, "--out-dir", out, "--manifest", manifest)
    assert result.exit_code == 1
    assert pdf_names(out) == ["2026-12-03_0800_pars-defect-injection_C1.pdf"]
    failed = [r for r in read_manifest(manifest) if r["status"] == "failed"]
    assert [r["row"] for r in failed] == [4]
    assert "time" in failed[0]["reason"]


def test_a_file_named_xlsx_that_is_not_a_workbook_is_one_line(batch, tmp_path):
    fake = tmp_path / "list.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a zip archive at all")
    result = batch(fake, "--out-dir", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"pars-docs: error: {fake}: cannot be read as an Excel workbook (.xlsx) (BadZipFile); "
        "save it again from Excel, or as CSV"
    ]


def test_an_empty_workbook_holds_no_rows(batch, tmp_path):
    source = workbook(tmp_path / "empty.xlsx", [])
    result = batch(source, "--out-dir", tmp_path / "out")
    assert result.exit_code == 1
    assert "holds no rows" in result.stderr


def test_the_reader_gives_typed_rows_from_the_first_sheet(tmp_path):
    path = workbook(
        tmp_path / "two.xlsx",
        [
            HEADER,
            (
                "pars-defect-injection",
                "Zoë Brown",
                dt.datetime(2026, 12, 3),
                dt.time(8, 5),
                "Dr. Sam Lee",
                12.0,
            ),
        ],
    )
    source = Source(str(path))
    assert source.format == "xlsx"
    (row,) = list(read_rows(source, {}))
    assert isinstance(row, ListRow) and row.number == 2
    assert row.values["date"] == dt.date(2026, 12, 3)
    assert row.values["time"] == dt.time(8, 5)
    assert row.values["mrn"] == "12"


def test_the_desk_makes_a_packet_from_an_xlsx_upload(tmp_path):
    import io
    import re
    import time

    from helpers import DATA, pdf_text, squash

    from pars_docs import load_site
    from pars_docs.web.server import build

    app = build(load_site(DATA / "site-ny.yaml"), "127.0.0.1", 8765, None, tmp_path, warm=False)
    client = app.test_client()
    base = "http://127.0.0.1:8765"
    page = client.get("/packet", base_url=base).text
    assert ".xlsx" in page and "Excel (.xlsx)" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    path = workbook(
        tmp_path / "list.xlsx",
        [
            HEADER,
            (
                "pars-defect-injection",
                "Zoë Brown",
                dt.datetime(2026, 12, 3),
                dt.time(8, 0),
                "Dr. Sam Lee",
                4417,
            ),
        ],
    )
    response = client.post(
        "/packet",
        base_url=base,
        data={"csrf": csrf, "input": (io.BytesIO(path.read_bytes()), "list.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.text
    location = response.headers["Location"]
    for _ in range(600):
        if client.get(location + "/status", base_url=base).json["state"] not in (
            "running",
            "packing",
        ):
            break
        time.sleep(0.1)
    result = client.get(location, base_url=base).text
    assert "Every row has its handout." in result
    packet = re.search(r'id="download-packet" href="([^"]+)"', result).group(1)
    assert "Zoë Brown" in squash(pdf_text(client.get(packet, base_url=base).data))
