"""The writing systems a handout can print beyond DejaVu's (Han, Hangul, Arabic), and how
their text is set: which font draws a character, which runs of a paragraph go to which font,
and the order in which the words of a right-to-left line are drawn.

DejaVu Sans draws Latin, Greek and Cyrillic. The Noto fonts (SIL Open Font License) draw the
rest, installed as extras so the base install stays small (see the README): ``pars-docs[cjk]``
brings Noto Sans SC, TC and KR, ``pars-docs[arabic]`` Noto Sans Arabic, and both bring
uharfbuzz, which shapes the text (Arabic joining forms) and makes the static regular and bold
instances of the variable fonts; ``[arabic]`` also brings python-bidi, which orders
right-to-left lines. Nothing is downloaded at run time: a script whose fonts are not installed
is refused with the command that installs them.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path


@dataclass(frozen=True)
class ScriptFont:
    """The Noto font one script is printed with, and where it comes from."""

    key: str  # the font's own name part: ParsDocsHans, ParsDocsHans-Bold
    script: str  # how a message names what it draws
    package: str  # the Python package that ships the font file
    file: str  # the file inside that package
    extra: str  # pars-docs' extra that installs the package
    pins: tuple[tuple[str, float], ...] = ()  # axes other than the weight, pinned

    @property
    def regular(self) -> str:
        return f"ParsDocs{self.key}"

    @property
    def bold(self) -> str:
        return f"ParsDocs{self.key}-Bold"

    @property
    def install(self) -> str:
        return f'pip install "pars-docs[{self.extra}]"'

    def path(self) -> Path | None:
        """The font file, or None when its package is not installed."""
        try:
            spec = find_spec(self.package)
        except (ImportError, ValueError):
            return None
        for folder in (spec.submodule_search_locations or []) if spec else []:
            candidate = Path(folder) / self.file
            if candidate.is_file():
                return candidate
        return None


_CJK = "justmytype_intl_cjk"
FONTS = {
    "Hans": ScriptFont(
        "Hans", "Chinese characters", _CJK, "fonts/ofl/notosanssc/NotoSansSC[wght].ttf", "cjk"
    ),
    "Hant": ScriptFont(
        "Hant", "Chinese characters", _CJK, "fonts/ofl/notosanstc/NotoSansTC[wght].ttf", "cjk"
    ),
    "Kore": ScriptFont(
        "Kore", "Korean letters", _CJK, "fonts/ofl/notosanskr/NotoSansKR[wght].ttf", "cjk"
    ),
    "Arab": ScriptFont(
        "Arab",
        "Arabic letters",
        "fontpkg_noto_sans_arabic",
        "files/NotoSansArabic[wdth,wght].ttf",
        "arabic",
        (("wdth", 100.0),),
    ),
}

# Unicode blocks (first, last code point) and the script they hold. Han includes the CJK
# punctuation, the full-width forms and Bopomofo that Chinese text is set with.
_BLOCKS = sorted(
    [
        (0x0600, 0x06FF, "Arab"),
        (0x0750, 0x077F, "Arab"),
        (0x08A0, 0x08FF, "Arab"),
        (0xFB50, 0xFDFF, "Arab"),
        (0xFE70, 0xFEFF, "Arab"),
        (0x1100, 0x11FF, "Hang"),
        (0x3130, 0x318F, "Hang"),
        (0xA960, 0xA97F, "Hang"),
        (0xAC00, 0xD7FF, "Hang"),
        (0x2E80, 0x2FDF, "Han"),
        (0x3000, 0x303F, "Han"),
        (0x3100, 0x312F, "Han"),
        (0x31A0, 0x31BF, "Han"),
        (0x31C0, 0x31EF, "Han"),
        (0x3200, 0x32FF, "Han"),
        (0x3400, 0x4DBF, "Han"),
        (0x4E00, 0x9FFF, "Han"),
        (0xF900, 0xFAFF, "Han"),
        (0xFE30, 0xFE4F, "Han"),
        (0xFF00, 0xFFEF, "Han"),
    ]
)
_STARTS = [block[0] for block in _BLOCKS]


def script_of(char: str) -> str | None:
    """``Han``, ``Hang`` or ``Arab`` for a character one of the Noto fonts draws; None for
    everything else (DejaVu's, or nobody's)."""
    code = ord(char)
    if code < 0x0600:
        return None
    at = bisect_right(_STARTS, code) - 1
    if at >= 0 and code <= _BLOCKS[at][1]:
        return _BLOCKS[at][2]
    return None


def font_for(script: str, language: str | None) -> ScriptFont:
    """The font that draws ``script`` in a handout in ``language``: Han in Traditional
    Chinese (``zh-Hant``, ``zh-TW``, ``zh-HK``) with Noto Sans TC, in Korean with Noto Sans
    KR (its Hanja), elsewhere with Noto Sans SC."""
    if script == "Arab":
        return FONTS["Arab"]
    if script == "Hang":
        return FONTS["Kore"]
    tag = (language or "").replace("_", "-").casefold()
    if tag.startswith("ko"):
        return FONTS["Kore"]
    if tag.startswith("zh") and any(p in tag.split("-") for p in ("hant", "tw", "hk", "mo")):
        return FONTS["Hant"]
    return FONTS["Hans"]


def language_script(language: str | None) -> str | None:
    """The Noto script a handout language is written in (``Han``, ``Hang``, ``Arab``)."""
    tag = (language or "").replace("_", "-").casefold().split("-")[0]
    return {"zh": "Han", "ko": "Hang", "ar": "Arab"}.get(tag)


def is_rtl(language: str | None) -> bool:
    """Whether a handout in ``language`` reads right to left."""
    return language_script(language) == "Arab"


def is_cjk(language: str | None) -> bool:
    """Whether a handout in ``language`` wraps between characters."""
    return language_script(language) in ("Han", "Hang")


def right_to_left(char: str) -> bool:
    """Whether ``char`` is a strong right-to-left letter."""
    return unicodedata.bidirectional(char) in ("R", "AL")


def has_noto(text: str) -> bool:
    """Whether ``text`` holds a character one of the Noto fonts draws."""
    return bool(text) and max(text) >= "\u0600" and any(script_of(c) for c in text)


# A word's class, as one character of the same bidirectional type, for ordering a line.
_CLASS_CHARS = {"R": "\u0627", "L": "a", "EN": "1", "ON": "-", "WS": " "}


def visual_order(classes: list[str], rtl: bool) -> list[int]:
    """The order, left to right, in which to draw a line's pieces (words and the spaces
    between them) whose bidirectional classes are ``classes`` (``R``, ``L``, ``EN``, ``ON``,
    ``WS``), in a paragraph whose base direction is right to left when ``rtl``.

    python-bidi's implementation of the Unicode Bidirectional Algorithm (UAX #9) resolves the
    levels and reorders; each piece stands in as one character of its class, so a number or a
    Latin name inside an Arabic line keeps its own order.
    """
    from bidi import algorithm as uba

    storage = uba.get_empty_storage()
    storage["base_level"] = 1 if rtl else 0
    storage["base_dir"] = "R" if rtl else "L"
    uba.get_embedding_levels("".join(_CLASS_CHARS[c] for c in classes), storage)
    for index, char in enumerate(storage["chars"]):
        char["index"] = index
    uba.explicit_embed_and_overrides(storage, False)
    uba.resolve_weak_types(storage, False)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    uba.reorder_resolved_levels(storage, False)
    return [char["index"] for char in storage["chars"]]
