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
from typing import Any, Literal, cast
from weakref import WeakKeyDictionary

from reportlab import Version as rl_version
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTEncoding, TTFNameBytes, TTFont, TTFontFace

from ... import startup_cache
from ...compose.markup import BOLD_OFF, BOLD_ON
from ...errors import GlyphError
from ...resources import fonts_dir
from .scripts import FONTS, ScriptFont, font_for, script_of

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
    if font.key == "Arab":
        _text_of_shaped_glyphs()
    family = path.stem.split("[")[0]
    source = path.stat()
    for name, weight, face in ((font.regular, 400.0, "Regular"), (font.bold, 700.0, "Bold")):
        # An instance is the same bytes for the same variable font, location and HarfBuzz:
        # its tables are kept under those, not under a digest of its ten megabytes (a tenth
        # of a cold Chinese `make`).
        made_from = (str(path), source.st_size, source.st_mtime_ns, weight, font.pins)
        loaded = _load(name, _instance(path, weight, font.pins), (repr(made_from), _hb_version()))
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


def _hb_version() -> str:
    import uharfbuzz as hb

    return str(getattr(hb, "__version__", "")) + str(hb.version_string())


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


def _load(name: str, path: Path, made_from: tuple[str, ...] | None = None) -> TTFont:
    """The font at ``path``, its tables kept under a digest of its bytes, or of
    ``made_from`` (what the file was made from) when given."""
    data = path.read_bytes()
    kept = startup_cache.key("font", *(made_from or (data,)), rl_version)[:32]
    record = startup_cache.load("font", kept)
    if record is not None:
        try:
            return _restored(name, path, data, record)
        except Exception:  # noqa: BLE001 (a record of another shape: read the font)
            pass
    font = TTFont(name, str(path))
    font.face.__class__ = _Face
    _keep(font, kept)
    return font


class _Face(TTFontFace):
    """A TrueType face whose subsets are made without copying its glyph table.

    ReportLab takes the whole ``glyf`` table out of the font's bytes (a copy of ten megabytes
    for a Chinese font) for every subset it embeds, four times a handout, only to slice each
    glyph it needs from it: most of the extra time a Chinese handout took in a batch. Here the
    table is a view, and each glyph a copy of its own bytes, the same as before."""

    def get_table(self, tag: str) -> Any:
        if tag != "glyf":
            return super().get_table(tag)
        at, length = self.get_table_pos(tag)
        data: bytes = vars(self)["_ttf_data"]
        return _Slices(memoryview(data)[at : at + length])


class _Slices:
    """A table read only by slicing: each slice is bytes."""

    __slots__ = ("view",)

    def __init__(self, view: memoryview) -> None:
        self.view = view

    def __getitem__(self, part: slice) -> bytes:
        return bytes(self.view[part])

    def __len__(self) -> int:
        return len(self.view)


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
    face = _Face.__new__(_Face)
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


# What a shaped glyph stands for. HarfBuzz shapes an Arabic word into glyphs that are not its
# letters: joining forms, ligatures (lam-alef), and in Noto Sans Arabic a letter's dotless
# body plus its dots as a glyph of their own, the body shared by several letters (ب ت ث ن ي).
# ReportLab gives each glyph one code, the character the font maps to it (the dotless letter
# U+066E for all five) or a private-use character when it has none, and the embedded font's
# ToUnicode map says that: text extraction read wrong letters and private-use codes. Here
# each glyph gets a code for what it stands for in its word: a code per glyph and text, the
# text being the characters of its cluster for the glyph that carries the cluster (on the
# baseline, the widest), nothing for the other glyphs of the cluster (the dots); and the
# ToUnicode map says so (ISO 32000-1, 9.10.3). Fonts with no shaped glyphs keep ReportLab's
# map, byte for byte. This is the one place that touches ReportLab's shaping internals.

_SHAPED_CODE = 0xF0000  # the first code of plane 15's private use area, out of any font's map
_GLYPH_TEXT: dict[bytes, dict[int, str]] = {}  # a face's name → its codes → their text
_GLYPH_CODE: dict[bytes, dict[tuple[int, str], int]] = {}  # a face's name → (glyph, text) → code
_ARABIC_FACES = (FONTS["Arab"].regular,)  # its regular and bold faces: the glyphs recoded


@cache
def _text_of_shaped_glyphs() -> None:
    from reportlab.pdfbase import ttfonts
    from reportlab.platypus import paragraph

    shape = paragraph.shapeFragWord  # type: ignore[attr-defined]
    shaped_word = ttfonts.ShapedFragWord
    shaped_str = ttfonts.ShapedStr
    to_unicode = ttfonts.makeToUnicodeCMap

    def shape_with_text(word: Any, *args: Any, **kwargs: Any) -> Any:
        new = shape(word, *args, **kwargs)
        if new is word or not isinstance(new, shaped_word):
            return new
        text = "".join(s for f, s in word[1:] if not hasattr(f, "cbDefn"))
        runs = [(at, *item) for at, item in enumerate(new[1:], 1)]
        runs = [r for r in runs if len(getattr(r[2], "__shapeData__", None) or ()) == len(r[2])]
        # Only the Arabic font's glyphs: a Latin word in the same paragraph (shaped for its
        # kerning) keeps its letters' own codes, which the line's ordering reads.
        shaped = [r for r in runs if r[1].fontName.startswith(_ARABIC_FACES)]
        # Where each cluster's characters end: at the next cluster of the word, in any run.
        starts = sorted({d.cluster for _, _, glyphs in runs for d in glyphs.__shapeData__})
        ends = dict(zip(starts, [*starts[1:], len(text)], strict=True))
        for at, frag, glyphs in shaped:
            data = glyphs.__shapeData__
            face = cast(TTFont, pdfmetrics.getFont(frag.fontName)).face
            new[at] = (frag, shaped_str(_recoded(face, glyphs, data, text, ends), shapeData=data))
        return new

    def cmap(fontname: str, subset: list[int]) -> str:
        texts = _GLYPH_TEXT.get(fontname.split("+", 1)[-1].encode("latin-1"))
        if not texts or not any(code in texts for code in subset):
            return to_unicode(fontname, subset)
        made = to_unicode(fontname, [0] * len(subset)).split("\n")
        start = made.index(f"{len(subset)} beginbfchar") + 1
        made[start : start + len(subset)] = [
            f"<{i:02X}> <{texts[code].encode('utf-16-be').hex().upper()}>"
            if code in texts
            else f"<{i:02X}> <{code:04X}>"
            for i, code in enumerate(subset)
        ]
        return "\n".join(made)

    paragraph.shapeFragWord = shape_with_text  # type: ignore[attr-defined]
    ttfonts.makeToUnicodeCMap = cmap


def _recoded(face: Any, glyphs: str, data: list[Any], text: str, ends: dict[int, int]) -> str:
    """``glyphs`` (one shaped run of the word ``text``, as ReportLab's codes) with each
    glyph's code replaced by the code of that glyph standing for its text (see above);
    ``ends``: where each cluster's characters end."""
    carrier: dict[int, tuple[tuple[bool, float], int]] = {}
    for index, d in enumerate(data):
        rank = (d.y_offset == 0, d.x_advance)
        if d.cluster not in carrier or rank > carrier[d.cluster][0]:
            carrier[d.cluster] = (rank, index)
    codes = _GLYPH_CODE.setdefault(face.name, {})
    texts = _GLYPH_TEXT.setdefault(face.name, {})
    out = []
    for index, (char, d) in enumerate(zip(glyphs, data, strict=True)):
        glyph = face.charToGlyph.get(ord(char))
        if glyph is None:
            out.append(char)
            continue
        stands = text[d.cluster : ends[d.cluster]] if carrier[d.cluster][1] == index else ""
        if stands == char:
            out.append(char)  # the glyph of the character it stands for: its own code
            continue
        code = codes.get((glyph, stands))
        if code is None:
            code = _SHAPED_CODE + len(codes)
            codes[glyph, stands] = code
            texts[code] = stands
            face.charToGlyph[code] = glyph
            face.charWidths[code] = face.charWidths[ord(char)]
        out.append(chr(code))
    return "".join(out)


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
