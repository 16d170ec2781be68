"""The bundled fonts (DejaVu Sans) and the check that they can draw a piece of text.

ReportLab embeds a subset of each TrueType font, so the PDF never depends on fonts installed
on the computer that opens or prints it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Literal, cast
from weakref import WeakKeyDictionary

from reportlab import Version as rl_version
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTEncoding, TTFNameBytes, TTFont, TTFontFace

from ... import startup_cache
from ...compose.markup import BOLD_OFF, BOLD_ON
from ...errors import GlyphError
from ...resources import fonts_dir
from .scripts import ScriptFont, font_for, script_of

REGULAR = "ParsDocsSans"
BOLD = "ParsDocsSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
_FACES: tuple[tuple[Literal[0, 1], Literal[0, 1], str], ...] = (
    (0, 0, REGULAR),
    (1, 0, BOLD),
    (0, 1, REGULAR),
    (1, 1, BOLD),
)
_SCRIPT_FACES: tuple[tuple[Literal[0, 1], Literal[0, 1]], ...] = ((1, 1), (0, 1), (1, 0), (0, 0))
_IGNORABLE = {BOLD_ON, BOLD_OFF, "\n", "\t", "\r"}


@cache
def register_fonts() -> tuple[str, str]:
    """Register the bundled fonts with ReportLab once; return the regular and bold names."""
    for name, filename in _FILES.items():
        pdfmetrics.registerFont(_load(name, fonts_dir() / filename))
    for bold, italic, name in _FACES:
        addMapping(REGULAR, bold, italic, name)
    return REGULAR, BOLD


@cache
def register_script(font: ScriptFont) -> tuple[str, str]:
    """Register the Noto font of one script (regular and bold) once; return their names.

    The Noto fonts ship as variable fonts, which ReportLab cannot instance, so HarfBuzz makes
    the static regular (400) and bold (700) instances, kept in the start-up cache. A font
    whose package is not installed raises :class:`GlyphError` with the command that installs
    it; nothing is downloaded.
    """
    register_fonts()
    path = font.path()
    if path is None:
        raise GlyphError(
            f"the fonts for {font.script} are not installed; install them with: {font.install}"
        )
    try:
        import uharfbuzz  # noqa: F401
    except ImportError as e:
        raise GlyphError(
            f"printing {font.script} needs uharfbuzz; install it with: {font.install}"
        ) from e
    family = path.stem.split("[")[0]
    for name, weight, face in ((font.regular, 400.0, "Regular"), (font.bold, 700.0, "Bold")):
        loaded = _load(name, _instance(path, weight, font.pins))
        # An instance keeps the variable font's name, and ReportLab takes two fonts with one
        # name for one: each gets its weight's name (which the PDF also shows).
        loaded.face.name = TTFNameBytes(f"{family}-{face}".encode())
        pdfmetrics.registerFont(loaded)
    # The last mapping of a name is what ReportLab reads back for it: plain for the regular
    # face, bold (not bold italic) for the bold one.
    for bold, italic in _SCRIPT_FACES:
        addMapping(font.regular, bold, italic, font.bold if bold else font.regular)
    return font.regular, font.bold


def _instance(path: Path, weight: float, pins: tuple[tuple[str, float], ...]) -> Path:
    """A static instance of the variable font at ``path``, made by HarfBuzz (a fraction of a
    second) into a folder of this process's own, removed when it ends.

    The start-up cache keeps data records of at most a few megabytes (see startup_cache.py); an
    instance of a Chinese font is ten, so it is made again by each process, and only the
    tables ReportLab reads from it are kept (:func:`_load`)."""
    import uharfbuzz as hb

    face = hb.Face(hb.Blob.from_file_path(str(path)))
    wanted = hb.SubsetInput()
    wanted.keep_everything()
    wanted.pin_axis_location(face, "wght", weight)
    for axis, value in pins:
        wanted.pin_axis_location(face, axis, value)
    made = _scratch() / f"{path.stem.split('[')[0]}-{int(weight)}.ttf"
    made.write_bytes(bytes(hb.subset(face, wanted).blob.data))
    return made


@cache
def _scratch() -> Path:
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="pars-docs-fonts-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def installed(font: ScriptFont) -> bool:
    """Whether ``font``'s package (and the shaper) are installed."""
    if font.path() is None:
        return False
    return find_spec("uharfbuzz") is not None


@cache
def _covered(font: str) -> frozenset[int]:
    register_fonts()
    face = cast(TTFont, pdfmetrics.getFont(font)).face
    return frozenset(face.charToGlyph)


@cache
def _both() -> frozenset[int]:
    return _covered(REGULAR) & _covered(BOLD)


def missing_glyphs(text: str, language: str | None = None) -> list[str]:
    """Characters of ``text`` that the fonts lack, in order, without repeats: DejaVu's
    characters in either of its faces, Han, Hangul and Arabic in the Noto font that draws them
    in ``language`` (see :func:`.scripts.font_for`), registered on first use."""
    both = _both()
    unknown = set()
    for char in set(text) - _IGNORABLE:
        code = ord(char)
        if code in both:
            continue
        script = script_of(char)
        if script is None:
            unknown.add(char)
            continue
        regular, bold = register_script(font_for(script, language))
        if code not in _covered(regular) or code not in _covered(bold):
            unknown.add(char)
    return sorted(unknown, key=text.index)


# Reading a TrueType font's tables (its character map and every glyph's width) is a tenth of
# a cold `make`. What ReportLab reads is kept in the cache folder (see startup_cache.py), keyed by
# the font file and ReportLab's version, and a start puts it back into a TTFont instead of
# reading the tables again. This is the one place outside pdf/flowables.py and pdf/tagging.py
# that relies on ReportLab's internals: a TTFont's face is a plain object whose attributes
# are the tables' contents, except the file's bytes and a scaling function, made again here.
# Anything unexpected in a kept copy, and the font is read from its file as usual.


def _load(name: str, path: Path) -> TTFont:
    data = path.read_bytes()
    kept = startup_cache.key("font", data, rl_version)[:32]
    record = startup_cache.load("font", kept)
    if record is not None:
        try:
            return _restored(name, path, data, record)
        except Exception:  # noqa: BLE001 (a record of another shape: read the font)
            pass
    font = TTFont(name, str(path))
    _keep(font, kept)
    return font


def _keep(font: TTFont, kept: str) -> None:
    state = {}
    names = []
    for attribute, value in vars(font.face).items():
        if attribute in _MADE_AGAIN:
            continue
        if type(value) is TTFNameBytes:
            names.append(attribute)
            value = bytes(value)
        state[attribute] = value
    # A ReportLab whose fonts hold other kinds of value is not kept: read the file each time.
    startup_cache.keep("font", kept, {"face": state, "names": names, "font": _font_state(font)})


_MADE_AGAIN = ("_ttf_data", "_pdfScale")


def _font_state(font: TTFont) -> dict:
    return {k: v for k, v in vars(font).items() if k not in ("face", "encoding", "state")}


def _restored(name: str, path: Path, data: bytes, kept: dict) -> TTFont:
    state = dict(kept["face"])
    if not (
        all(type(k) is str for k in (*state, *kept["font"], *kept["names"]))
        and type(state.get("unitsPerEm")) is int
        and state["unitsPerEm"] > 0
        and type(state.get("charWidths")) is dict
        and type(state.get("charToGlyph")) is dict
    ):
        raise ValueError("a font record of another shape")
    face = TTFontFace.__new__(TTFontFace)
    for attribute in kept["names"]:
        state[attribute] = TTFNameBytes(state[attribute])
    vars(face).update(state)
    scale = 1000 / face.unitsPerEm
    vars(face).update(
        filename=str(path),
        _ttf_data=data,
        _pdfScale=(lambda x: x) if face.unitsPerEm == 1000 else (lambda x: x * scale),
    )
    font = TTFont.__new__(TTFont)
    vars(font).update(kept["font"])
    font.fontName = name
    font.face = face
    font.encoding = TTEncoding()
    font.state = WeakKeyDictionary()
    return font


_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC", "COMBINING", "MODIFIER")


def _printable_script(char: str) -> bool:
    """Whether ``char`` belongs to a script the handout can set correctly.

    Han, Hangul and Arabic are set with the Noto fonts (shaped, and Arabic ordered right to
    left). DejaVu also holds Hebrew and other letters that nothing here shapes or orders, so
    those would print garbled; emoji and other characters outside the Basic Multilingual Plane
    do not read back reliably. Both are refused.
    """
    if ord(char) > 0xFFFF:
        return False
    if script_of(char):
        return True
    if unicodedata.bidirectional(char) in ("R", "AL", "AN"):
        return False
    if unicodedata.category(char)[0] in "LM":
        return unicodedata.name(char, "").startswith(_SCRIPTS)
    return True


def describe(char: str) -> str:
    name = unicodedata.name(char, "unnamed character")
    return f"'{char}' (U+{ord(char):04X} {name})"


def check_drawable(text: str | None, field: str, language: str | None = None) -> None:
    """Raise :class:`GlyphError` naming ``field`` if the fonts cannot draw all of ``text``
    (in a handout in ``language``), or if the fonts its script needs are not installed."""
    if not text:
        return
    for script in dict.fromkeys(filter(None, map(script_of, text))):
        font = font_for(script, language)
        if not installed(font):
            raise GlyphError(
                f"{field}: printing {font.script} needs the Noto fonts, which are not "
                f"installed; install them with: {font.install}",
                field=field,
            )
    missing = missing_glyphs(text, language)
    missing += [c for c in dict.fromkeys(text) if c not in missing and not _printable_script(c)]
    if missing:
        shown = ", ".join(describe(c) for c in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        hidden = ", ".join(["'…'"] * len(missing[:3]))
        covered = "they cover Latin, Greek, Cyrillic, Chinese, Korean and Arabic scripts"
        raise GlyphError(
            f"{field}: the handout fonts cannot draw {shown}{more}; {covered}",
            field=field,
            # The characters are a name's or a row's: left out, with how many there are.
            redacted=f"{field}: the handout fonts cannot draw {hidden}{more}; {covered}",
        )


_UNITS = re.compile(r"<[^>]*>|&[#\w]+;|.", re.S)
_GAPS = (" ", "\u00a0")


def script_runs(markup: str, language: str | None, bold: bool = False) -> str:
    """Paragraph markup with every run of Han, Hangul or Arabic put in the Noto font that
    draws it in ``language``. ``bold``: the paragraph's style is bold, and so are the runs
    (``<b>`` inside a run makes it bold in any style).

    A space between two letters of one run stays in it, so an Arabic phrase is shaped as one.
    A word that holds Arabic goes to the Arabic font whole (its punctuation too), and a
    no-break space beside it becomes a space: ReportLab shapes a word as one piece in one
    direction, so a number glued to an Arabic word would be reversed, and a word in two fonts
    would take one font's glyph numbers for the other's.
    """
    if not markup or max(markup) < "\u0600":
        return markup
    units = _UNITS.findall(markup)
    scripts: list[str | None] = [None if len(u) > 1 or u in _GAPS else script_of(u) for u in units]
    start = 0
    for end in [*(i for i, u in enumerate(units) if u in _GAPS), len(units)]:
        if "Arab" in scripts[start:end]:
            for i in range(start, end):
                if units[i][0] != "<":
                    scripts[i] = "Arab"
            for gap in (start - 1, end):
                if 0 <= gap < len(units) and units[gap] == "\u00a0":
                    units[gap] = " "
        start = end + 1
    out: list[str] = []
    current: str | None = None
    pending = ""  # spaces after a run, kept in it if the run goes on
    for unit, script in zip(units, scripts, strict=True):
        if unit == " " and current is not None:
            pending += unit
            continue
        if unit[0] == "<" and len(unit) > 1:
            script = None
        if script != current:
            if current is not None:
                out.append("</font>")
            out.append(pending)
            pending = ""
            if script is not None:
                faces = register_script(font_for(script, language))
                out.append(f'<font face="{faces[1] if bold else faces[0]}">')
            current = script
        else:
            out.append(pending)
            pending = ""
        out.append(unit)
    if current is not None:
        out.append("</font>")
    out.append(pending)
    return "".join(out)
