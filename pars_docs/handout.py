"""The pipeline from a visit to a finished handout, and the Python API over it.

load → validate (library.py) → visit (visit.py) → plan (plan.py) → compose (compose.py)
→ render (pdf/) → write (the caller).
"""

from __future__ import annotations

import datetime
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from .compose import compose, templates_for
from .errors import GlyphError, ParsDocsError
from .fonts import check_drawable, missing_glyphs
from .library import InstructionSet, Library
from .pdf import render_pdf
from .plan import Plan, current_time, make_plan
from .rows import Row
from .site import Site, load_site
from .visit import Visit, visit_from_row

# Every rendition a handout has, and the file suffix it is written with.
RENDITIONS = {"pdf": ".pdf", "text": ".txt", "json": ".json", "ics": ".ics"}


@dataclass
class Handout:
    """A composed handout: the computed plan and the document every rendition is made from."""

    plan: Plan
    document: ET.Element

    @property
    def instruction_set(self) -> InstructionSet:
        return self.plan.instruction_set

    @property
    def warnings(self) -> list[str]:
        """What staff should know though the handout was made: a medicine the table does not
        know, a stop time or fast already past, two medicines of one class. No patient name."""
        return self.plan.warnings

    def render(self, rendition: str = "pdf", paper: str | None = None) -> bytes:
        """The handout as ``pdf``, ``text`` (UTF-8), ``json`` (the timeline) or ``ics``."""
        if rendition == "pdf":
            return self.pdf(paper)
        from . import renditions

        if rendition == "text":
            return renditions.render_text(self).encode("utf-8")
        if rendition == "json":
            return renditions.render_json(self).encode("utf-8")
        if rendition == "ics":
            return renditions.render_ics(self)
        raise ValueError(f"unknown rendition {rendition!r}")

    def document_reference(
        self, pdf: bytes | None = None, references: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A FHIR R4 DocumentReference with the PDF attached; ``references`` may name the
        Patient, Practitioner and Appointment it belongs to."""
        from .fhir_out import document_reference

        return document_reference(self, pdf if pdf is not None else self.pdf(), references)

    def pdf(self, paper: str | None = None) -> bytes:
        site = self.plan.site
        return render_pdf(
            [self.document],
            paper=paper or site.paper,
            logo=site.logo,
            author=site.name,
            pdfa=site.pdfa,
        )


class Engine:
    """Makes handouts for one site; reuses its loaded sets, table and templates."""

    def __init__(self, site: Site | None = None, as_of: datetime.datetime | None = None) -> None:
        """``as_of`` fixes "now" (a reprint, a test); default: ``SOURCE_DATE_EPOCH``, else the
        real time, read when each handout is prepared."""
        self.site = site or load_site()
        self.as_of = as_of
        self.library = Library(self.site.instructions_dir)
        self.templates = templates_for(self.site.templates_dir, self.site.language)

    def warm(self) -> None:
        """Load and check every instruction set, and lay out one handout of each, so that
        processes forked afterwards start with everything loaded and cached."""
        for set_id in self.library.ids():
            visit = Visit(
                set_id, "Warm Up", datetime.date(2026, 1, 5), datetime.time(9, 0), "Warm Up"
            )
            try:
                self.prepare(visit).pdf()
            except ParsDocsError:
                continue  # a broken set costs only the rows that use it

    def prepare(self, visit: Visit) -> Handout:
        """Plan and compose ``visit``'s handout, checking every character can be printed."""
        iset = self.library.get(visit.procedure)
        for field in ("patient", "clinician", "mrn", "note"):
            check_drawable(getattr(visit, field), field)
        for name in visit.medications:
            check_drawable(name, "medication")
        now = current_time(self.site.tz, self.as_of)
        plan = make_plan(iset, visit, self.site, self.library.medicine_table(), now)
        document = compose(plan, self.templates)
        missing = missing_glyphs("".join(document.itertext()))
        if missing:
            raise GlyphError(
                f"the site profile or instruction set '{iset.id}' holds text the "
                f"fonts cannot draw: {''.join(missing[:5])}"
            )
        return Handout(plan, document)


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
    medications: list[str] | tuple[str, ...] = (),
    note: str | None = None,
    visit_id: str | None = None,
    site: Site | str | os.PathLike[str] | None = None,
    as_of: datetime.datetime | None = None,
) -> Handout:
    """Make one patient's handout.

    ``date`` is ``YYYY-MM-DD`` (or a ``date``), ``time`` is ``14:30`` or ``2:30 PM`` (or a
    ``time``), in the site's time zone. ``visit_id`` is the appointment's id in the booking
    system (its calendar events keep their UIDs). ``site`` is a :class:`Site`, a path to a
    site profile, or ``None`` for ``$PARS_DOCS_SITE`` or the built-in default. ``as_of`` is
    "now" for the too-late checks (default: ``SOURCE_DATE_EPOCH``, else the real time). Raises a
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
    }
    given = {name: value for name, value in values.items() if value is not None}
    visit = visit_from_row(Row(1, given), sedation=sedation)
    return Engine(site, as_of).prepare(visit)
