"""Page counts and how much of each page is used, for the layout matrix in docs/layout.md.

    .venv/bin/python benchmarks/layout_matrix.py            # the regular-print table
    .venv/bin/python benchmarks/layout_matrix.py --large-print
    .venv/bin/python benchmarks/layout_matrix.py --large-print --language es --also-language en

Each case is made as a nurse would make it (the test site profile, SOURCE_DATE_EPOCH fixed):
both instruction sets; with and without sedation (surgery always has it); 0, 3 and 8
medicines; no note and a 1,000-character note; Letter and A4. Every page is rendered with
pdfium and the share used is the height from the top of the text frame down to the lowest
ink on the page (text, box or rule), over the frame's height; the footer is not counted.
The script prints a Markdown table, and exits 1 if a target of docs/layout.md is missed:
at default options with 3 medicines, each set fits on 4 pages in English (2 sheets
double-sided); and in
every case, any language, print size or second language, page 1 holds the patient block,
the start of the key times and the clinic's phone (the "page 1" column).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")

from pars_docs import make_handout  # noqa: E402
from pars_docs.compose.composer import templates_for  # noqa: E402
from pars_docs.render.pdf.styles import FRAME_BOTTOM, MARGIN, PAPER  # noqa: E402

SITE = ROOT / "tests" / "data" / "site-ny.yaml"
MEDICINES = {
    0: [],
    3: ["Eliquis", "aspirin", "Advil"],
    8: ["Eliquis", "aspirin", "Advil", "Plavix", "fish oil", "Ozempic", "Jardiance", "metformin"],
}
NOTE = (
    "Please bring your back brace and a list of the exercises your physical therapist "
    "gave you. Wear shoes that are easy to slip on. Your ride must come inside to pick "
    "you up. "
)
NOTE = (NOTE * 8)[:1000]
CASES = [
    ("pars-defect-injection", False),
    ("pars-defect-injection", True),
    ("pars-defect-decompression", True),
]
TARGET_PAGES = 4


def page_use(pdf: bytes, paper: str) -> list[float]:
    """For each page, the share of the text frame's height that holds something."""
    _, height = PAPER[paper]
    top, bottom = MARGIN, height - FRAME_BOTTOM  # the frame, from the top of the page
    shares = []
    document = pdfium.PdfDocument(pdf)
    scale = 1.0  # 72 dpi: one pixel per point
    for page in document:
        image = page.render(scale=scale, grayscale=True).to_pil()
        pixels = image.load()
        lowest = top
        for y in range(int(bottom * scale) - 1, int(top * scale), -1):
            if any(pixels[x, y] < 200 for x in range(0, image.width, 2)):
                lowest = y / scale
                break
        shares.append(max(0.0, min(1.0, (lowest - top) / (bottom - top))))
    return shares


PHONE = "(555) 010-2000"  # the test site's


def page_one_holds(pdf: bytes, labels: dict) -> bool:
    """Whether page 1 has the patient block, the key times' title and the clinic's phone."""
    page = pdfium.PdfDocument(pdf)[0]
    text = " ".join(page.get_textpage().get_text_range().split())
    return all(part in text for part in (labels["patient"], labels["key_times"], PHONE))


def row(
    procedure: str,
    sedation: bool,
    count: int,
    note: bool,
    paper: str,
    large: bool,
    language: str = "en",
    also: str | None = None,
) -> tuple[list[float], bool]:
    handout = make_handout(
        procedure,
        "Ana Díaz",
        "2026-03-09",
        "7:30 AM",
        "Dr. Sam Lee",
        dob="1970-04-02",
        sedation=sedation,
        medications=MEDICINES[count],
        note=NOTE if note else None,
        site=SITE,
        large_print=large,
        language=language,
        also_language=also,
        include_past=True,  # a fixed date: the table must not change with the day it is made
    )
    pdf = handout.pdf(paper)
    labels = templates_for(None, language).labels
    return page_use(pdf, paper), page_one_holds(pdf, labels)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large-print", action="store_true")
    parser.add_argument("--language", default="en", help="the patient's language (en, es, vi)")
    parser.add_argument("--also-language", help="a second language: a bilingual handout")
    args = parser.parse_args()
    missed = []
    print(
        "| set | sedation | medicines | note | paper | pages | page 1 | share of each page used |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for procedure, sedation in CASES:
        for count in MEDICINES:
            for note in (False, True):
                for paper in ("letter", "a4"):
                    shares, holds = row(
                        procedure,
                        sedation,
                        count,
                        note,
                        paper,
                        args.large_print,
                        args.language,
                        args.also_language,
                    )
                    name = "injection" if "injection" in procedure else "surgery"
                    used = " ".join(f"{share:.0%}" for share in shares)
                    print(
                        f"| {name} | {'yes' if sedation else 'no'} | {count} | "
                        f"{'1,000 chars' if note else 'none'} | {paper} | {len(shares)} | "
                        f"{'ok' if holds else 'MISSING'} | {used} |"
                    )
                    if not holds:
                        missed.append(f"{name} {count} {paper}: page 1 lacks a part")
                    # Default options: the injection without sedation, surgery (always with).
                    default = count == 3 and not note and paper == "letter"
                    default = default and sedation == procedure.endswith("decompression")
                    # The page target is the English handout's (Spanish and Vietnamese run
                    # longer; docs/layout.md gives their counts).
                    english = args.language == "en" and not args.also_language
                    if default and english and not args.large_print and len(shares) > TARGET_PAGES:
                        missed.append(f"{name}: {len(shares)} pages (at most {TARGET_PAGES})")
    for line in missed:
        print(f"target missed: {line}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
