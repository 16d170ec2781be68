"""Page counts of every built-in set in each language, regular and large print.

    python benchmarks/page_counts.py                     # en, es, vi, ru, pt, fr
    python benchmarks/page_counts.py --language ru       # en and ru

Each set at its default options, 3 medicines (warfarin, aspirin, ibuprofen), visit Thursday
2027-03-04 at 8:00 AM, Letter, the test site profile (tests/data/site-ny.yaml), patient
"Ana Díaz". A language a set is not translated into is shown as "-". Prints a Markdown
table for docs/layout.md, and after it every handout that takes more than one page more
than English (a translated handout may take one more page; more must be explained there).
Exits 1 if there is one.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

from pypdf import PdfReader

from pars_docs.errors import ParsDocsError
from pars_docs.handout import make_handout
from pars_docs.load.library import Library

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "tests" / "data" / "site-ny.yaml"
LANGUAGES = ("en", "es", "vi", "ru", "pt", "fr")
MEDICINES = ["warfarin", "aspirin", "ibuprofen"]


def pages(set_id: str, language: str, large_print: bool) -> int | None:
    """The handout's page count, or None when the set is not in ``language``."""
    try:
        handout = make_handout(
            set_id,
            "Ana Díaz",
            "2027-03-04",
            "08:00",
            "Dr. Lee",
            medications=MEDICINES,
            language=language,
            large_print=large_print,
            site=SITE,
        )
    except ParsDocsError:
        return None
    return len(PdfReader(io.BytesIO(handout.pdf())).pages)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", action="append", help="a language besides English")
    args = parser.parse_args()
    languages = ("en", *args.language) if args.language else LANGUAGES
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01: the visit is ahead
    print("| set | print | " + " | ".join(languages) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in languages) + " |")
    over = []
    for set_id in Library().ids():
        for large_print in (False, True):
            counts = {lang: pages(set_id, lang, large_print) for lang in languages}
            shown = ["-" if n is None else str(n) for n in counts.values()]
            kind = "large" if large_print else "regular"
            print(f"| {set_id} | {kind} | " + " | ".join(shown) + " |")
            english = counts["en"] or 0
            over += [
                f"{set_id} {kind} {lang}: {n} pages, English {english}"
                for lang, n in counts.items()
                if n is not None and n > english + 1
            ]
    for line in over:
        print(line, file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
