"""Names that are what they look like (Unicode TR #36, UTS #39 and UAX #31).

A name printed on a handout identifies a patient; staff match it by eye. Three tricks make a
name read as another, or as nothing:

- **Invisible characters**: format characters (zero-width space U+200B, word joiner U+2060,
  U+FEFF, soft hyphen U+00AD), the bidirectional controls that reorder what is shown, the
  other default-ignorable code points (Hangul fillers, variation selectors), and the blank
  braille pattern U+2800, which draws nothing. :func:`strip_invisible` removes them, as UAX #31
  and the UTS #39 General Security Profile leave them out of identifiers. The zero-width
  joiner and non-joiner are kept only between two letters of a script that spells with them
  (UAX #31 A1, A2, B: Arabic, Persian, the Indic scripts), never next to a Latin letter.
- **Mixed scripts**: a Cyrillic "а" among Latin letters draws the same. :func:`mixed_script`
  finds a word with letters of more than one of the scripts that share shapes (Latin, Greek,
  Cyrillic, Armenian, Cherokee), the "single script" restriction of UTS #39 applied per word.
- **Confusable names**: "Ana Díaz" and "Аna Díaz" are the same to a reader. :func:`skeleton`
  maps each character to one representative of its confusable set (UTS #39 section 4, with
  the confusables table that the confusable-homoglyphs package ships, derived from Unicode's
  confusables.txt), so duplicate detection compares what a reader sees.
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache

# Default_Ignorable_Code_Point (DerivedCoreProperties.txt) that are not format characters
# (category Cf, all removed): Hangul fillers, the combining grapheme joiner, Khmer inherent
# vowels, Mongolian free variation selectors and the variation selectors; with U+2800, the
# braille pattern that has no dots.
_IGNORABLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, 0x2800]
    + list(range(0x180B, 0x1810))
    + list(range(0xFE00, 0xFE10))
    + list(range(0xE0100, 0xE01F0))
)
_JOINERS = ("\u200c", "\u200d")  # zero-width non-joiner and joiner
# Scripts whose letters share shapes: a word may use only one of them.
CONFUSABLE_SCRIPTS = frozenset({"LATIN", "GREEK", "CYRILLIC", "ARMENIAN", "CHEROKEE"})
# Scripts that never need a joiner inside a word.
_NO_JOINERS = CONFUSABLE_SCRIPTS | {"COMMON", "INHERITED", "Unknown"}


@cache
def _categories():
    from confusable_homoglyphs import categories

    return categories


@cache
def _confusables() -> dict[str, list[dict[str, str]]]:
    from confusable_homoglyphs import confusables

    table: dict[str, list[dict[str, str]]] = confusables.confusables_data
    return table


def script(char: str) -> str:
    """The script a character belongs to (``LATIN``, ``CYRILLIC``, ``COMMON`` …)."""
    if char < "\u0250" and char.isalpha() and char != "\u00b5":
        # Basic Latin, Latin-1 and Latin Extended-A and -B letters (all but the micro sign)
        # are Latin: most names need not load the script table.
        return "LATIN"
    return str(_categories().alias(char))


def invisible(char: str) -> bool:
    """Whether ``char`` draws nothing and so must not be part of a name."""
    return unicodedata.category(char) == "Cf" or ord(char) in _IGNORABLE


def strip_invisible(text: str) -> str:
    """``text`` without invisible characters (see the module's notes); a joiner stays only
    between two letters of a script that spells with one."""
    kept: list[str] = []
    for index, char in enumerate(text):
        if char in _JOINERS:
            before = text[index - 1] if index else ""
            after = text[index + 1] if index + 1 < len(text) else ""
            if (
                before.isalpha()
                and after.isalpha()
                and script(before) not in _NO_JOINERS
                and script(after) not in _NO_JOINERS
            ):
                kept.append(char)
            continue
        if not invisible(char):
            kept.append(char)
    return "".join(kept)


def mixed_script(text: str) -> str | None:
    """A word of ``text`` that mixes letters of scripts that look alike (Latin and Cyrillic,
    say), described by its scripts and first letter out of place; None if no word does."""
    for word in text.split():
        scripts: dict[str, list[str]] = {}
        for char in word:
            if char.isalpha():
                name = script(char)
                if name in CONFUSABLE_SCRIPTS:
                    scripts.setdefault(name, []).append(char)
        if len(scripts) > 1:
            # The letter out of place is one of the script the word has fewest of.
            odd = min(scripts.values(), key=len)[0]
            return (
                f"{' and '.join(sorted(s.title() for s in scripts))} letters in one word "
                f"(U+{ord(odd):04X} {unicodedata.name(odd, '')})"
            )
    return None


@lru_cache(maxsize=4096)
def _representative(char: str) -> str:
    group = [char] + [h["c"] for h in _confusables().get(char, []) if len(h["c"]) == 1]
    return min(group, key=ord)


def skeleton(text: str) -> str:
    """What ``text`` looks like: case folded, invisible characters removed, and each
    character replaced by one representative of the characters it can be mistaken for.
    Two names with the same skeleton read the same."""
    folded = unicodedata.normalize("NFD", strip_invisible(text).casefold())
    shown = "".join(_representative(char) for char in folded)
    return " ".join(unicodedata.normalize("NFD", shown).split())
