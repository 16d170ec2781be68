"""Which language a handout is written in, and the labels of the page template in it.

A patient's language arrives as a BCP 47 tag (``es``, ``es-US``, ``vi-VN``, ``zh-Hant-TW``)
from the command line, a batch column, FHIR ``Patient.communication`` or the site profile. It
is resolved to the nearest language pars-docs has: the whole tag, then the tag with its last
subtag dropped, and so on (``es-US`` → ``es``). An unknown language is an error that lists
the languages there are.

The labels of the page templates (the patient block, the footer, the packet index) live in
``templates/labels.yaml``, one block per language, like ``formats.yaml`` and
``calendar.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import InstructionError, UsageError
from .loader import LoadedYAML, load_yaml
from .translations import english_left
from .validate import problem

LABELS_FILE = "labels.yaml"
# Language tags as BCP 47 writes them (language, script, region, variants); case is ignored.
_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
# Places a language may fill that English does not: the verb for taking a medicine, which
# Vietnamese chooses by its form (uống, tiêm, bôi) and English does not ("take").
LANGUAGE_ONLY = frozenset({"{verb}"})
_PLACEHOLDER = re.compile(r"{[a-z_]+}")


def normalise(tag: str) -> str:
    """``es_us`` → ``es-US``: the language lower case, a region upper case."""
    parts = str(tag).strip().replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.upper() if len(part) == 2 else part.title() if len(part) == 4 else part)
    return "-".join(out)


def check_tag(tag: str, field: str = "language") -> str:
    """``tag`` normalised, or a :class:`UsageError` if it is not a language tag at all."""
    text = str(tag).strip()
    if not _TAG.match(text):
        raise UsageError(
            f"{field}: '{text}' is not a language tag; write one such as en, es or vi",
            field=field,
            # What is not a tag may be anything a row's column holds, a name among it.
            redacted=f"{field}: '…' is not a language tag; write one such as en, es or vi",
        )
    return normalise(text)


def resolve(tag: str, available, field: str = "language", what: str = "") -> str:
    """The nearest of ``available`` to ``tag``: the tag, then shorter and shorter prefixes.

    An unavailable language is a :class:`UsageError` listing the available ones.
    """
    wanted = check_tag(tag, field)
    by_key = {a.casefold(): a for a in available}
    # Each candidate is made only if the ones before it found nothing: the later ones read
    # CLDR, which a handout in a language given as it is never needs to load.
    candidates = (
        lambda: wanted,
        lambda: _with_script(wanted),
        lambda: _two_letter(wanted),
        lambda: _with_script(_two_letter(wanted)),
    )
    for make in candidates:
        candidate = make()
        parts = candidate.split("-")
        while parts:
            found = by_key.get("-".join(parts).casefold())
            if found:
                return found
            parts.pop()
    raise UsageError(
        f"{field}: language '{wanted}' is not available{what}; available: "
        f"{', '.join(sorted(available))}",
        field=field,
    )


def _with_script(tag: str) -> str:
    """``zh-TW`` → ``zh-Hant-TW``, ``zh-CN`` → ``zh-Hans-CN``: a tag without a script subtag
    with the script CLDR's likely subtags give its language and region, so a Chinese tag finds
    the Simplified or Traditional set; the tag itself if it names a script or CLDR has none."""
    parts = tag.split("-")
    if len(parts) > 1 and len(parts[1]) == 4:
        return tag
    from babel.core import get_global

    likely = get_global("likely_subtags")
    region = parts[1] if len(parts) > 1 and len(parts[1]) == 2 else ""
    found = (region and likely.get(f"{parts[0]}_{region}")) or likely.get(parts[0])
    script = found.split("_")[1] if found and found.count("_") == 2 else ""
    return "-".join([parts[0], script, *parts[1:]]) if script else tag


def _two_letter(tag: str) -> str:
    """``spa`` → ``es``: a three-letter ISO 639-2 language (as HL7 v2 feeds send) as the
    two-letter code BCP 47 prefers, from CLDR's aliases; the tag itself if there is none."""
    language, _, rest = tag.partition("-")
    if len(language) != 3:
        return tag
    from babel import Locale, UnknownLocaleError

    try:
        short = Locale.parse(language).language
    except (UnknownLocaleError, ValueError):
        return tag
    return f"{short}-{rest}" if rest else short


@dataclass(frozen=True)
class Labels:
    """The labels file a site uses: its languages and each one's labels."""

    loaded: LoadedYAML

    @property
    def languages(self) -> list[str]:
        data = self.loaded.data
        return sorted(k for k, v in data.items() if isinstance(v, dict))

    def get(self, language: str) -> dict:
        return self.loaded.data[language]

    def problems(self, language: str) -> list[str]:
        """What ``language``'s block lacks or adds against English, and placeholders that do
        not match."""
        english, block = self.get("en"), self.get(language)
        found = []
        for key, text in english.items():
            other = block.get(key)
            if not isinstance(other, str) or not other.strip():
                found.append(problem(self.loaded, (language, key), "is missing"))
                continue
            leftover = english_left(other, text) if language != "en" else None
            if leftover:
                found.append(problem(self.loaded, (language, key), leftover))
            want, got = sorted(_PLACEHOLDER.findall(text)), sorted(_PLACEHOLDER.findall(other))
            got = [part for part in got if part in want or part not in LANGUAGE_ONLY]
            if want != got:
                found.append(
                    problem(
                        self.loaded,
                        (language, key),
                        f"uses {', '.join(got) or 'no placeholder'}; the English uses "
                        f"{', '.join(want) or 'none'}",
                    )
                )
        for key in block:
            if key not in english:
                found.append(problem(self.loaded, (language, key), "is not an English label"))
        return found


@lru_cache(maxsize=8)
def load_labels(dirs: tuple[Path, ...]) -> Labels:
    """The first ``labels.yaml`` on the template search path (the site's, then built-in)."""
    for folder in dirs:
        path = folder / LABELS_FILE
        if path.is_file():
            loaded = load_yaml(path, InstructionError)
            if not isinstance(loaded.data, dict) or not isinstance(loaded.data.get("en"), dict):
                raise InstructionError(f"{path}: needs an 'en' block of labels")
            return Labels(loaded)
    raise InstructionError(f"templates: no {LABELS_FILE} found")
