"""The pipeline from a visit to a finished handout, and the Python API over it.

load (load/) → read the visit (read/) → plan (plan/) → compose (compose/) → render (render/)
→ write (write/, or the caller).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from .clock import current_time
from .compose.composer import Templates, compose, templates_for, translation_status
from .compose.dry_run import check_set
from .errors import GlyphError, ParsDocsError, UsageError, VisitError
from .load.languages import load_labels, resolve
from .load.library import InstructionSet, Library
from .load.site import Site, load_site
from .plan.timeline import Plan, make_plan
from .read.rows import Row
from .read.visit import Visit, visit_from_row
from .render.pdf import render_pdf
from .render.pdf.fonts import check_drawable, missing_glyphs


@dataclass
class Handout:
    """A composed handout: the computed plan and the document every rendition is made from."""

    plan: Plan
    document: ET.Element
    # A bilingual handout's second part: the same visit planned and composed in the second
    # language, printed after the first.
    also: list[tuple[Plan, ET.Element]] = field(default_factory=list)
    # The language asked for, when it had no translation and the site's fallback was used.
    requested_language: str | None = None

    @property
    def instruction_set(self) -> InstructionSet:
        return self.plan.instruction_set

    @property
    def warnings(self) -> list[str]:
        """What staff should know though the handout was made: a medicine the table does not
        know, a stop time or fast already past, two medicines of one class. No patient name."""
        return self.plan.warnings

    @property
    def language(self) -> str:
        return self.plan.instruction_set.language

    @property
    def languages(self) -> list[str]:
        """The patient's language, then any second language."""
        return [self.language, *(plan.instruction_set.language for plan, _ in self.also)]

    @property
    def documents(self) -> list[ET.Element]:
        """Every part, the patient's language first; each ``<handout>`` carries its ``lang``."""
        return [self.document, *(document for _, document in self.also)]

    def composed(self) -> ET.Element:
        """All parts in one tree: ``<handouts>`` holding one ``<handout lang=…>`` per
        language, for renderers that mark each part's language."""
        root = ET.Element("handouts", {"lang": self.language})
        root.extend(self.documents)
        return root

    def render(self, rendition: str = "pdf", paper: str | None = None) -> bytes:
        """The handout as ``pdf``, ``text`` (UTF-8), ``json`` (the timeline) or ``ics``."""
        if rendition == "pdf":
            return self.pdf(paper)
        if rendition == "text":
            from .render.renditions import render_text

            return render_text(self.documents).encode("utf-8")
        if rendition == "json":
            from .render.renditions import render_json

            return render_json(self.plan, self.documents, self.requested_language).encode("utf-8")
        if rendition == "ics":
            from .render.ics import render_ics

            return render_ics(self.plan)
        raise ValueError(f"unknown rendition {rendition!r}")

    def document_reference(
        self, pdf: bytes | None = None, references: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A FHIR R4 DocumentReference with the PDF attached; ``references`` may name the
        Patient, Practitioner and Appointment it belongs to."""
        from .write.fhir_out import document_reference

        return document_reference(self, pdf if pdf is not None else self.pdf(), references)

    def pdf(self, paper: str | None = None) -> bytes:
        site = self.plan.site
        return render_pdf(
            self.documents,
            paper=paper or site.paper,
            logo=site.logo,
            author=site.name,
            pdfa=site.pdfa,
        )


class Engine:
    """Makes handouts for one site; reuses its loaded sets, table and templates."""

    def __init__(
        self,
        site: Site | None = None,
        as_of: datetime.datetime | None = None,
        include_past: bool = False,
    ) -> None:
        """``as_of`` fixes "now" (a reprint, a test); default: ``SOURCE_DATE_EPOCH``, else the
        real time, read when each handout is prepared. A visit already over when its handout
        is prepared is refused, unless ``include_past``: then it is a reprint, marked so."""
        self.site = site or load_site()
        self.as_of = as_of
        self.include_past = include_past
        self.library = Library(self.site.instructions_dir, self.site.translation_reviews)

    def templates(self, language: str) -> Templates:
        """The site's templates, formats and labels in ``language``."""
        return templates_for(self.site.templates_dir, language, self.site.clock)

    def warm(self) -> None:
        """Load and check every instruction set and translation, and lay out one handout of
        each set, so that processes forked afterwards start with everything loaded and cached."""
        for set_id in self.library.ids():
            # A broken set or translation costs only the rows that use it.
            try:
                visit = Visit(
                    set_id, "Warm Up", datetime.date(2026, 1, 5), datetime.time(9, 0), "Warm Up"
                )
                self.prepare(visit, fallback=True, include_past=True).pdf()
                languages = self.library.languages(set_id)
            except ParsDocsError:
                continue
            for language in languages:
                try:
                    check_set(self.library, self.library.get(set_id, language))
                except ParsDocsError:
                    continue

    def get(self, set_id: str, language: str | None = None) -> InstructionSet:
        """The set in ``language`` (default its own), dry-run before its first handout (see
        :mod:`pars_docs.compose.dry_run`)."""
        iset = self.library.get(set_id, language)
        check_set(self.library, iset)
        return iset

    def language_of(self, visit: Visit, fallback: bool = False) -> tuple[str, str | None]:
        """The language ``visit``'s handout is written in, and the language asked for when the
        site's fallback language stands in for it (only with ``fallback``)."""
        available = self.library.languages(visit.procedure)
        wanted = visit.language or self.site.language
        field_name = "language" if visit.language else "site language"
        try:
            return resolve(wanted, available, field_name, f" for {visit.procedure}"), None
        except UsageError:
            if not (fallback and self.site.fallback_language):
                resolve(wanted, available, field_name, self._not_yet(visit.procedure, wanted))
        chosen = resolve(
            self.site.fallback_language, available, "fallback_language", f" for {visit.procedure}"
        )
        return chosen, wanted

    def _not_yet(self, procedure: str, wanted: str) -> str:
        """How a language without ``procedure``'s set is described: a language whose page
        words exist but whose sets do not is said to be not translated yet, not half made."""
        labels = load_labels(tuple(self.templates("en").dirs)).languages
        try:
            drafted = resolve(wanted, labels)
        except UsageError:
            return f" for {procedure}"
        return (
            f" for {procedure}: its page words ({drafted}) are there, but the instruction set "
            f"is not translated into it yet"
        )

    def _plan(self, iset: InstructionSet, visit: Visit, now: datetime.datetime) -> Plan:
        table = self.library.medicine_table()
        plan = make_plan(iset, visit, self.site, table, now)
        if iset.language == "en":
            return plan
        words = self.library.medicine_words(iset.language)
        plan.medicine_words_draft = bool(plan.medicines) and words.status != "reviewed"
        medicines = []
        for med in plan.medicines:
            row = table.find(med.generic) if med.generic else None
            if row is not None:
                med = dataclasses.replace(
                    med,
                    name=words.name(med.name, med.generic),
                    label=words.label(med.name, row[0]),
                    note=words.note(row[0], med.note),
                    verb=words.verb(med.form),
                )
            medicines.append(med)
        plan.medicines = medicines
        return plan

    def prepare(
        self, visit: Visit, fallback: bool = False, include_past: bool | None = None
    ) -> Handout:
        """Plan and compose ``visit``'s handout, checking every character can be printed.

        ``fallback`` lets the site's ``fallback_language`` stand in for a patient language
        that has no translation (a batch does this; ``make`` reports the error).
        ``include_past`` (default: the engine's) allows a visit already over: a reprint."""
        language, requested = self.language_of(visit, fallback)
        iset = self.get(visit.procedure, language)
        for name in ("patient", "clinician", "mrn", "note"):
            check_drawable(getattr(visit, name), name, language)
        for name in visit.medications:
            check_drawable(name, "medication", language)
        second = visit.also_language if visit.also_language is not None else self.site.also_language
        other = None
        if second:
            other = resolve(
                second,
                self.library.languages(visit.procedure),
                "also_language",
                f" for {visit.procedure}",
            )
        if other == language:
            other = None
        templates = self.templates(language)
        now = current_time(self.site.tz, self.as_of)
        plan = self._plan(iset, visit, now)
        if plan.moments["end"] < now:
            if not (self.include_past if include_past is None else include_past):
                made = now.strftime("%Y-%m-%d %H:%M")
                message = (
                    f"date: the visit is already over (it is {made} on the clinic's clock); "
                    "check the date and time, or give --include-past for a reprint"
                )
                raise VisitError(message, field="date", redacted=message)
            plan.reprint = True
        other_name = self.templates(other).labels["language_name"] if other else None
        handout = Handout(plan, compose(plan, templates, other_name), [], requested)
        _warn_if_draft(plan, plan)
        if other:
            other_plan = self._plan(self.get(visit.procedure, other), visit, now)
            other_plan.reprint = plan.reprint
            _warn_if_draft(other_plan, plan)
            other_document = compose(
                other_plan, self.templates(other), templates.labels["language_name"], part=2
            )
            handout.also.append((other_plan, other_document))
        text = "".join("".join(d.itertext()) for d in handout.documents)
        missing = missing_glyphs(text, language)
        if missing:
            raise GlyphError(
                f"the site profile or instruction set '{iset.id}' holds text the "
                f"fonts cannot draw: {''.join(missing[:5])}"
            )
        return handout


def _warn_if_draft(plan: Plan, into: Plan) -> None:
    """Add to ``into``'s warnings that ``plan``'s translation is a draft, if it is."""
    if translation_status(plan) == "draft":
        into.warnings.append(
            f"the {plan.instruction_set.language} translation is a draft, not reviewed: every "
            "page says so; have a clinician who reads the language check it before it is "
            "handed out."
        )


def make_handout(
    procedure: str,
    patient: str,
    date: str | datetime.date,
    time: str | datetime.time,
    clinician: str,
    *,
    dob: str | datetime.date | None = None,
    mrn: str | None = None,
    sedation: bool | None = None,
    large_print: bool | None = None,
    medications: list[str] | tuple[str, ...] = (),
    note: str | None = None,
    visit_id: str | None = None,
    language: str | None = None,
    also_language: str | None = None,
    site: Site | str | os.PathLike[str] | None = None,
    as_of: datetime.datetime | None = None,
    include_past: bool = False,
) -> Handout:
    """Make one patient's handout.

    ``date`` is ``YYYY-MM-DD`` (or a ``date``), ``time`` is ``14:30`` or ``2:30 PM`` (or a
    ``time``), in the site's time zone. ``visit_id`` is the appointment's id in the booking
    system (its calendar events keep their UIDs). ``language`` is a BCP 47 tag (default: the
    site's); ``also_language`` prints the handout again in a second language after it.
    ``large_print`` prints body text at 18 pt (default: the site profile's ``large_print``).
    ``site`` is a :class:`Site`, a path to a site profile, or ``None`` for
    ``$PARS_DOCS_SITE`` or the built-in default. ``as_of`` is "now" for the too-late checks
    (default: ``SOURCE_DATE_EPOCH``, else the real time); a visit already over then is
    refused unless ``include_past`` (a reprint, marked so on page 1). Raises a
    :class:`~pars_docs.errors.ParsDocsError` subclass for any bad input.

    >>> handout = make_handout("pars-defect-injection", "Ana Díaz", "2026-12-03", "8:00 AM",
    ...                        "Dr. Lee")                                    # doctest: +SKIP
    >>> pdf_bytes = handout.pdf()                                            # doctest: +SKIP
    """
    if not isinstance(site, Site):
        site = load_site(site)
    # The same row -> visit step as the command line and batch runs.
    values: dict[str, Any] = {
        "procedure": procedure,
        "patient": patient,
        "date": date,
        "time": time,
        "clinician": clinician,
        "dob": dob,
        "mrn": mrn,
        "medications": list(medications),
        "note": note,
        "visit_id": visit_id,
        "language": language,
        "large_print": large_print,
    }
    given = {name: value for name, value in values.items() if value is not None}
    visit = visit_from_row(Row(1, given), sedation=sedation, also_language=also_language)
    return Engine(site, as_of, include_past).prepare(visit)
