"""Page counts and sentence lengths of every built-in set in every language it is translated
into, for docs/layout.md.

    python benchmarks/language_pages.py            # a Markdown table per measure
    python benchmarks/language_pages.py --site S   # with a site profile's own sets too
    python benchmarks/language_pages.py --language en --language tl   # only these languages

Each handout: default options, 3 medicines (warfarin, aspirin, ibuprofen), Letter, a visit on
Thursday 2027-03-04 at 8:00 AM, regular and large print, counted with pypdf. A language with
more than one page over English at regular print is marked with "!" (docs/layout.md says why
for each one).

Sentence length is the mean number of words per sentence of the set's wording (each text of
the set split at ".", "?", "!", "。", "？", "！" and the Arabic "؟"), with the Jinja parts left
out; Chinese has no spaces between words, so its length is counted in characters (and marked
"chars"). Where a readability formula exists for the language (Spanish: Szigriszt-Pazos,
tests/readability.py) the test suite holds it; elsewhere this is the measure recorded.
"""

from __future__ import annotations

import io
import re
import statistics
import sys
from datetime import date, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

_SENTENCE = re.compile(r"(?<=[.?!。？！؟])\s*")
_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
MEDICINES = ("warfarin", "aspirin", "ibuprofen")


def pages(engine, set_id: str, language: str, large: bool) -> int:
    from pypdf import PdfReader

    from pars_docs.read.visit import Visit
    from pars_docs.render.pdf import render_pdf

    visit = Visit(
        set_id,
        "Ana Díaz",
        date(2027, 3, 4),
        time(8, 0),
        "Dr. Lee",
        medications=MEDICINES,
        language=language,
        large_print=large,
    )
    handout = engine.prepare(visit)
    return len(PdfReader(io.BytesIO(render_pdf(handout.documents))).pages)


def sentence_length(iset, language: str) -> tuple[float, str]:
    from pars_docs.load.library import texts

    counts = []
    chars = language.startswith("zh")
    for _, text in texts(iset.data):
        prose = " ".join(_JINJA.sub(" x ", text).split())
        for sentence in _SENTENCE.split(prose):
            if not sentence.strip():
                continue
            counts.append(len(re.sub(r"\W", "", sentence)) if chars else len(sentence.split()))
    return statistics.mean(counts), "chars" if chars else "words"


def main() -> int:
    import argparse

    from pars_docs.handout import Engine
    from pars_docs.load.site import load_site

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--site", default=str(Path(__file__).resolve().parents[1] / "tests/data/site-ny.yaml")
    )
    parser.add_argument(
        "--language", action="append", help="Only this language (repeat for each; en is always in)"
    )
    args = parser.parse_args()
    site = load_site(args.site)
    engine = Engine(site)
    library = engine.library
    languages = library.all_languages()
    if args.language:
        languages = [lang for lang in languages if lang == "en" or lang in args.language]
    rows = {}
    lengths = {}
    for set_id in library.ids():
        for language in library.languages(set_id):
            if language not in languages:
                continue
            for large in (False, True):
                rows[set_id, language, large] = pages(engine, set_id, language, large)
            value, unit = sentence_length(library.get(set_id, language), language)
            lengths[set_id, language] = f"{value:.1f}" + (" chars" if unit == "chars" else "")
    print("| set | print | " + " | ".join(languages) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in languages) + " |")
    for set_id in library.ids():
        for large in (False, True):
            english = rows[set_id, "en", large]
            cells = []
            for language in languages:
                count = rows.get((set_id, language, large))
                mark = "!" if count is not None and not large and count > english + 1 else ""
                cells.append("–" if count is None else f"{count}{mark}")
            print(f"| {set_id} | {'large' if large else 'regular'} | " + " | ".join(cells) + " |")
    print()
    print("| set | " + " | ".join(languages) + " |")
    print("| --- | " + " | ".join("---" for _ in languages) + " |")
    for set_id in library.ids():
        cells = [lengths.get((set_id, language), "–") for language in languages]
        print(f"| {set_id} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
