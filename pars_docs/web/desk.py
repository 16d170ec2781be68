"""One handout from the desk form: the form's fields → a visit → a PDF held in memory.

The form offers every option of ``pars-docs make``. Its values go through the same
:func:`~pars_docs.make_visit` and :meth:`Engine.prepare` as the command line, so an error
reads the same here as there; each is shown beside the field its ``field`` names.
"""

from __future__ import annotations

import inspect
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import ParsDocsError, UsageError
from ..service.offers import form_options, group_order, library_language, sedation_choice
from ..service.outputs import FILE_SUFFIXES, default_filename
from ..service.visits import SkippedTime, UnknownMedicine, Visit, make_visit, visit_or_problems

if TYPE_CHECKING:
    from ..service.outputs import Engine, Handout

log = logging.getLogger("pars_docs.web")
# Form fields in the order the form shows them; an error without a field goes to the top.
FIELDS = (
    "procedure",
    "patient",
    "dob",
    "mrn",
    "date",
    "time",
    "clinician",
    "sedation",
    "medication",
    "note",
    "language",
    "large_print",
    "paper",
)
# Options the library gains later (a language, large print) are offered by the form as soon as
# the front door's ``make_visit`` has a parameter of each name. See docs/web.md.
LATER_OPTIONS = ("language", "large_print")
PAPERS = ("letter", "a4")
MAX_MEDICINES = 30


def _ticked(sent: list) -> list[str] | None:
    """The boxes ticked in a set's option group; None if the form did not show the group
    (it always sends an empty value with it), so each option keeps the set's default."""
    if not sent:
        return None
    return [str(name)[:100] for name in sent if str(name)][:50]


def accepts(function, name: str) -> bool:
    return name in inspect.signature(function).parameters


@dataclass
class FormValues:
    """What was typed, exactly as typed, so the form can show it again."""

    procedure: str = ""
    patient: str = ""
    dob: str = ""
    mrn: str = ""
    date: str = ""
    time: str = ""
    clinician: str = ""
    sedation: str = ""  # "", "yes" or "no"; "" is the set's default
    # The set's other options ticked (None: a new form, each at the set's default).
    options: list[str] | None = None
    medications: list[str] = field(default_factory=list)
    note: str = ""
    paper: str = ""
    language: str = ""
    large_print: bool = False
    reprint: bool = False  # the appointment may be over already
    ask: list[str] = field(default_factory=list)  # unknown medicines to print "Ask us about"
    # Filled in by the checks: medicine box (from 1) → the closest known names.
    unknown: dict[int, list[str]] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form) -> FormValues:
        def text(name: str) -> str:
            return str(form.get(name, ""))[:5000]

        medicines = [str(m)[:500] for m in form.getlist("medication") if str(m).strip()]
        asked = [str(m)[:500] for m in form.getlist("ask")]
        return cls(
            procedure=text("procedure"),
            patient=text("patient"),
            dob=text("dob"),
            mrn=text("mrn"),
            date=text("date"),
            time=text("time"),
            clinician=text("clinician"),
            sedation=text("sedation") if text("sedation") in ("yes", "no") else "",
            # Each set's boxes have their own name, so only the chosen set's are read.
            options=_ticked(form.getlist(f"option-{text('procedure')}")),
            medications=medicines[:MAX_MEDICINES],
            note=text("note"),
            paper=text("paper"),
            language=text("language"),
            large_print=form.get("large_print") == "yes",
            reprint=form.get("reprint") == "yes",
            ask=[name for name in asked if name in medicines],
        )


@dataclass
class DeskHandout:
    """A handout made at the desk: its PDF and page images, held in memory only."""

    pdf: bytes
    filename: str
    title: str
    values: FormValues
    pages: int
    paper: str
    warnings: list[str] = field(default_factory=list)  # made, but staff should check these
    handout: Handout | None = None  # for the other renditions: text, calendar, timeline
    visit: Visit | None = None
    made: float = field(default_factory=time.monotonic)
    images: dict[int, bytes] = field(default_factory=dict)
    owner: str = ""  # the session that made it: only it (or an admin) may fetch it
    # The PDF as PDFium read it, kept for its page images: read once, not once a page.
    document: Any = field(default=None, repr=False)


def language_name(tag: str, own: str = "") -> str:
    """``es`` → "Spanish", or with its own name ``own`` "Spanish (español)". The English
    name is CLDR's name of the language as tagged ("Tagalog", "Simplified Chinese"), not of
    the locale Babel would pick for it ("Filipino (Philippines)"); a tag Babel does not
    know is shown as it is."""
    from babel import Locale, UnknownLocaleError  # on first use: Babel is slow to import

    try:
        english = Locale("en").languages.get(tag.replace("-", "_")) or (
            Locale.parse(tag, sep="-").get_display_name("en") or tag
        )
    except (ValueError, UnknownLocaleError):
        return tag
    if own and own.casefold() != english.casefold():
        return f"{english} ({own})"
    return english


class Desk:
    """Makes handouts for one site with one warm engine, one request at a time (ReportLab
    keeps state in module globals), and keeps each made PDF in memory for a while, under an
    unguessable id, for the preview, print and download."""

    KEEP_SECONDS = 30 * 60
    KEEP_AT_MOST = 40

    def __init__(self, engine: Engine):
        self.engine = engine
        self.site = engine.site
        self.lock = threading.Lock()
        self._made: dict[str, DeskHandout] = {}
        self._left_out: list[dict] | None = None
        self._told: set[tuple[str, str]] = set()  # left-out sets already logged

    # What the form offers ---------------------------------------------------------------

    def procedures(self) -> list[dict]:
        """Every set the site can use, by title, with whether its sedation can be chosen.
        The site's folder is read again each time (a set saved or fixed since is offered at
        once, without a restart); a set that fails its checks is left out, and
        :meth:`left_out` says which and why."""
        found = []
        left_out = []
        library = self.engine.library
        library.refresh()
        for set_id in library.ids():
            try:
                iset = self.engine.get(set_id)
            except ParsDocsError as e:
                reason = (e.message.splitlines() or ["(no reason given)"])[0]
                for folder in library.dirs:  # the file's name is enough for staff
                    reason = reason.replace(f"{folder}/", "")
                more = len(e.message.splitlines()) - 1
                left_out.append(
                    {"id": set_id, "reason": reason + (f" (and {more} more)" if more > 0 else "")}
                )
                if (set_id, reason) not in self._told:
                    self._told.add((set_id, reason))
                    log.warning("left %s out of the procedure list: %s", set_id, reason)
                continue
            choice, default = sedation_choice(iset)
            found.append(
                {
                    "id": iset.id,
                    "title": iset.title,
                    "group": iset.group,
                    "sedation_choice": choice,
                    "sedation_default": default,
                    "options": form_options(iset),
                }
            )
        self._left_out = left_out
        return sorted(found, key=lambda p: p["title"].casefold())

    def left_out(self) -> list[dict]:
        """The sets of the site left out of the procedure list by the last
        :meth:`procedures`, each with its first problem (``pars-docs check`` lists all)."""
        if self._left_out is None:
            self.procedures()
        return list(self._left_out or [])

    def procedure_groups(self) -> list[tuple[str | None, list[dict]]]:
        """:meth:`procedures` under the groups their sets declare (as ``pars-docs list``
        shows them): groups in alphabetical order, sets without a group last (``None``)."""
        groups: dict[str | None, list[dict]] = {}
        for procedure in self.procedures():
            groups.setdefault(procedure["group"], []).append(procedure)
        return sorted(groups.items(), key=lambda item: group_order(item[0]))

    def medicine_names(self) -> list[str]:
        table = self.engine.library.medicine_table()
        names = {alias for med in table.medicines for alias in (med.name, *med.brands)}
        return sorted(names, key=str.casefold)

    def languages(self) -> list[dict]:
        """The languages a handout can be printed in, by name: the site's default first (its
        value empty, so the handout takes the language as ``make`` would), then each one the
        library has, in English and in its own words ("Spanish (español)")."""
        default = self.site.language
        try:
            default = library_language(default, self.engine.library)
        except ParsDocsError:
            pass  # a site language the library lacks: named as written; making says why
        drafts = self.draft_languages()
        status = "draft"  # the translation is not reviewed (the preview says so in full)
        name = language_name(default)
        found = [
            {
                "tag": "",
                "name": f"The clinic’s ({name}: {status})"
                if default in drafts
                else f"The clinic’s ({name})",
            }
        ]
        attested = {tag for tag, _, _ in self.site.translation_reviews}
        for tag in self.engine.library.all_languages():
            name = language_name(tag, own=self.own_name(tag))
            if tag in drafts:
                name = f"{name}: {status}"
            elif tag in attested:
                name = f"{name}: reviewed by the clinic"
            found.append({"tag": tag, "name": name})
        return found

    def own_name(self, tag: str) -> str:
        """The language's name in its own words, as its page words give it ("Tagalog",
        "简体中文"); empty when they cannot be read (making a handout says why)."""
        try:
            return str(self.engine.templates(tag).labels.get("language_name") or "")
        except ParsDocsError:
            return ""

    def draft_languages(self) -> set[str]:
        """The languages some set, or the medicine table, has only as a draft translation."""
        library = self.engine.library
        found: set[str] = set()
        attested = {tag for tag, _, _ in self.site.translation_reviews}
        for set_id in library.ids():
            try:
                for tag in library.languages(set_id):
                    translation = library.get(set_id, tag).translation
                    if translation is not None and translation.status != "reviewed":
                        found.add(tag)
            except ParsDocsError:
                continue  # a broken set is reported by `pars-docs check`, not offered here
        for tag in library.all_languages():
            if tag != "en":
                try:
                    if library.medicine_words(tag).status != "reviewed":
                        found.add(tag)
                except ParsDocsError:
                    continue
        return found - attested

    def later_options(self) -> dict[str, bool]:
        """Which of the options the library gains later it already takes."""
        return {name: accepts(make_visit, name) for name in LATER_OPTIONS}

    def zone_now(self) -> str:
        """The site's zone as a person reads it: "America/New_York (EST)"."""
        now = datetime.now(self.site.tz)
        return f"{self.site.timezone} ({now.tzname()})"

    # Making -------------------------------------------------------------------------------

    def make(self, values: FormValues) -> tuple[str | None, dict[str, str]]:
        """Make the handout; returns (its id, {}) or (None, {field: message})."""
        visit, problems = visit_or_problems(
            self._visit_values(values), self.engine.library, self.site, ask=values.ask
        )
        values.unknown = {p.box: p.closest for p in problems if isinstance(p, UnknownMedicine)}
        if visit is None:
            return None, self._field_errors(problems)
        try:
            if values.paper and values.paper not in PAPERS:
                raise UsageError(f"paper: '{values.paper}' is not one of letter, a4", field="paper")
            with self.lock:
                if values.ask:
                    # The nurse chose "Ask us about …" for each medicine the table lacks:
                    # the site's own rule for unknown medicines, for this handout only.
                    self.engine.site = replace(self.site, unknown_medicines="ask")
                try:
                    handout = self.engine.prepare(visit, include_past=values.reprint)
                finally:
                    self.engine.site = self.site
                pdf = handout.render("pdf", values.paper or None)
                document = _open(pdf)  # pdfium, like ReportLab, is not thread-safe
                pages = len(document)
        except ParsDocsError as e:
            name = _form_field(e.field)
            return None, {name: nurse_words(name, e.message)}
        made = DeskHandout(
            pdf=pdf,
            filename=default_filename(visit),
            title=handout.instruction_set.title,
            values=values,
            pages=pages,
            paper=(values.paper or self.site.paper).upper().replace("LETTER", "US letter"),
            warnings=[without_command_words(w) for w in handout.warnings],
            handout=handout,
            visit=visit,
            document=document,
        )
        return self._keep(made), {}

    def _visit_values(self, values: FormValues) -> dict[str, Any]:
        """The form's values as the front door's loose values for a visit."""
        given: dict[str, Any] = {
            "procedure": values.procedure,
            "patient": values.patient,
            "dob": values.dob,
            "mrn": values.mrn,
            "date": values.date,
            "time": values.time,
            "clinician": values.clinician,
            "sedation": {"yes": True, "no": False}.get(values.sedation),
            "medications": values.medications,
            "note": values.note,
            **self._later_values(values),
        }
        if values.options is not None:
            try:
                boxes = form_options(self.engine.library.get(values.procedure.strip()))
            except ParsDocsError:
                boxes = []  # the procedure's own problem is reported with the others
            ticked = set(values.options)
            given["options"] = {o["name"]: o["name"] in ticked for o in boxes}
        return given

    def _field_errors(self, problems: list[ParsDocsError]) -> dict[str, str]:
        """Every field's problem (the front door finds them all at once) in words for the
        desk, in the order the form shows the fields, so the focus goes to the first: an
        empty field, a date or time that cannot be read, an hour the clocks skip that day,
        and each medicine the table does not know (unless the nurse chose to print "Ask us
        about" it)."""
        errors: dict[str, str] = {}
        for problem in problems:
            if isinstance(problem, UnknownMedicine):
                name = f"medication-{problem.box}"
                errors[name] = f"We do not know the medicine “{problem.name.strip()}”."
            elif isinstance(problem, SkippedTime):
                day, clock = problem.day, problem.clock
                errors.setdefault(
                    "time",
                    f"{clock.strftime('%I:%M %p').lstrip('0')} does not happen on "
                    f"{day.strftime('%B')} {day.day}: the clocks go forward an hour that "
                    "night. Choose another time.",
                )
            else:
                name = _form_field(problem.field)
                errors.setdefault(name, nurse_words(name, problem.message))
        boxes = [int(name.split("-")[1]) for name in errors if name.startswith("medication-")]
        order = [*FIELDS[: FIELDS.index("medication")]]
        order += [f"medication-{box}" for box in sorted(boxes)]
        order += FIELDS[FIELDS.index("medication") :]
        return {name: errors[name] for name in order if name in errors} | {
            k: v for k, v in errors.items() if k not in order
        }

    def _later_values(self, values: FormValues) -> dict[str, Any]:
        """The later options the visit takes."""
        given = {"language": values.language or None, "large_print": values.large_print}
        return {name: value for name, value in given.items() if accepts(make_visit, name)}

    def keep_printed(self, pdf: bytes, values: FormValues, title: str, filename: str) -> str:
        """Keep a handout printed before (a reprint as it was), for the preview, print and
        download; its id."""
        with self.lock:  # pdfium is not thread-safe
            pages = _page_count(pdf)
        made = DeskHandout(
            pdf=pdf,
            filename=filename,
            title=title,
            values=values,
            pages=pages,
            paper=(values.paper or self.site.paper).upper().replace("LETTER", "US letter"),
        )
        return self._keep(made)

    # The store ----------------------------------------------------------------------------

    def _keep(self, made: DeskHandout) -> str:
        key = secrets.token_urlsafe(18)
        with self.lock:
            self._expire()
            self._made[key] = made
        return key

    def get(self, key: str) -> DeskHandout | None:
        with self.lock:
            self._expire()
            return self._made.get(key)

    def page_image(self, key: str, page: int) -> bytes | None:
        """Page ``page`` (from 1) of a made handout as PNG, drawn once and kept with it."""
        made = self.get(key)
        if made is None or not 1 <= page <= made.pages:
            return None
        if page not in made.images:
            with self.lock:  # pdfium is not thread-safe; PNG encoding is, and runs unlocked
                if made.document is None:
                    made.document = _open(made.pdf)
                image = _render_page(made.document, page)
            made.images[page] = _png(image)
        return made.images[page]

    def rendition(self, key: str, suffix: str) -> tuple[bytes, str] | None:
        """A made handout as ``.pdf``, ``.txt``, ``.json`` or ``.ics`` and its file name."""
        made = self.get(key)
        kinds = {ending: kind for kind, ending in FILE_SUFFIXES.items()}
        if made is None or suffix not in kinds:
            return None
        if suffix == ".pdf":
            return made.pdf, made.filename
        if made.handout is None:  # a reprint as printed before: its PDF only
            return None
        with self.lock:
            data = made.handout.render(kinds[suffix])
        return data, default_filename(made.visit, suffix)

    def forget(self, key: str) -> None:
        with self.lock:
            self._made.pop(key, None)

    def clear(self) -> None:
        with self.lock:
            self._made.clear()

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, m in self._made.items() if now - m.made > self.KEEP_SECONDS]:
            del self._made[key]
        while len(self._made) >= self.KEEP_AT_MOST:
            del self._made[next(iter(self._made))]


# The command line's messages, said as the desk says them: (pattern, words). Patterns match the
# message without its "field: " prefix; \\1 keeps what the pattern caught.
PLAIN = (
    (r"^unknown procedure ''", "Choose the procedure."),
    (
        r"is always done with sedation",
        "This procedure is always done with sedation: choose “As usual for this procedure”.",
    ),
    (
        r"is always done without sedation",
        "This procedure is always done without sedation: choose “As usual for this procedure”.",
    ),
    (
        r"^unknown procedure",
        "This is not one of the clinic’s procedures; choose one from the list.",
    ),
    (r"^(is required|must not be empty)$", "{empty}"),
    (r"^'' is not a date", "Choose the date of the procedure."),
    (r"^'' is not a time of day", "Choose the start time."),
    (r"is not a time of day", "Type the time as 8:30 AM, or choose it with the clock button."),
    (r"^'[^']*' has the year (\d+)", r"The year \1 cannot be right; check the date."),
    (r"^'[^']*' has no month (\d+)", r"There is no month \1; check the date."),
    (r"^'[^']*' is not a real date \(([^)]*)\)", r"That date does not exist (\1); check it."),
    (r"is not a date", "{date}"),
    (
        r"the visit is already over",
        "This appointment is already over. Check the date and time; to print it again "
        "anyway, tick “Reprint”.",
    ),
    (r"^is (\d+) characters long; the limit is (\d+)", r"This is \1 characters; shorten it to \2."),
    (
        r"^contains an invisible or unassigned character (U\+[0-9A-F]+)",
        r"Remove the invisible character (\1) from this box; typing it again helps.",
    ),
)
EMPTY = {
    "patient": "Type the patient’s name.",
    "clinician": "Type the clinician’s name, or pick one from the list.",
}
DATES = {
    "dob": "Type the date of birth as year-month-day (1961-04-02), or the year alone (1961).",
    "date": "Type the date as month/day/year, or choose it with the calendar button.",
}
# Words of the command line that must not reach the page, and what the page says instead.
COMMAND_WORDS = (
    (r"--[a-z][a-z-]*", "this option"),
    (r"\bYYYY-MM-DD\b", "year-month-day"),
    (r"\bpars-docs [a-z]+\b", "pars-docs"),
)


def nurse_words(field_name: str, message: str) -> str:
    """``message`` (the library's, written for the command line) in the desk's words: no
    field prefix, no option names, no date patterns."""
    import re

    text = re.sub(r"^[a-z_]+: ", "", message.strip())
    for pattern, words in PLAIN:
        found = re.search(pattern, text)
        if found:
            words = words.format(
                empty=EMPTY.get(field_name, "Fill this in."),
                date=DATES.get(field_name, "That is not a date; check it."),
            )
            return found.expand(words) if "\\" in words else words
    text = without_command_words(text)
    return text[:1].upper() + text[1:]


def without_command_words(text: str) -> str:
    """``text`` without a leading "field: " and with no option names or date patterns."""
    import re

    text = re.sub(r"^[a-z_]+: ", "", text.strip())
    for pattern, words in COMMAND_WORDS:
        text = re.sub(pattern, words, text)
    return text


def _form_field(name: str | None) -> str:
    if name in FIELDS:
        return name
    return {"medications": "medication", "format": "paper"}.get(name or "", "form")


def _page_count(pdf: bytes) -> int:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


PREVIEW_SCALE = 96 / 72  # a page at screen size: 816 × 1056 pixels for US letter


def _open(pdf: bytes):
    import pypdfium2

    return pypdfium2.PdfDocument(pdf)


def _render_page(document, page: int):
    """Page ``page`` (from 1) of a PDFium document as a PIL image."""
    return document[page - 1].render(scale=PREVIEW_SCALE).to_pil()


PALETTE_COLORS = 64  # a handout's page has a few hundred colours, most of them grey edges


def _png(image) -> bytes:
    """A page image as a palette PNG: the palette is found on every eighth pixel of every
    eighth row (fast; a page is mostly white, black and grey, with a few colours in large
    areas), and every pixel takes its nearest colour without dithering, so text stays
    sharp. Run-length deflate: a page is long runs of one colour. About 80 kB a page, in a
    quarter of the time of 0.1's RGB PNG (190 kB)."""
    import io
    import zlib

    from PIL import Image

    sample = image.resize((image.width // 8, image.height // 8), Image.Resampling.NEAREST)
    palette = sample.quantize(
        colors=PALETTE_COLORS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )
    paletted = image.quantize(palette=palette, dither=Image.Dither.NONE)
    out = io.BytesIO()
    paletted.save(out, format="PNG", compress_level=1, compress_type=zlib.Z_RLE)
    return out.getvalue()
