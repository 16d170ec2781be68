"""Today's and tomorrow's appointments from the site's FHIR server (``fhir_server:``), so a
nurse fills the one-handout form from one instead of retyping the chart.

The schedule is read through the front door (:func:`pars_docs.service.inputs.fhir_schedule`:
the Appointments, their Patients and Practitioners, and each patient's medicines) and turned
into rows by the same reader as an uploaded FHIR list, with the site's code map and clock:
the procedure by code map, the patient, record number and date of birth, the date and time
on the clinic's clock, the clinician, and the medicines from the chart. Nothing is written
to disk; the rows are kept in memory, for the session that asked, for a few minutes.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..errors import ParsDocsError
from ..service.inputs import BadRow, Row, Site, fhir_schedule


@dataclass
class Booking:
    """One appointment of the schedule, as the list shows it and the form takes it."""

    key: str
    values: dict[str, Any]  # the row's fields: procedure, patient, dob, mrn, date, time, …
    title: str  # the procedure's title, or what the code map could not place
    problem: str | None = None  # why it cannot fill the form (no procedure for its code, …)

    @property
    def clinician(self) -> str:
        return str(self.values.get("clinician") or "")


@dataclass
class Fetched:
    owner: str
    bookings: list[Booking]
    at: float = field(default_factory=time.monotonic)


class Schedule:
    """The site's FHIR schedule, fetched on demand, kept a few minutes per session."""

    KEEP_SECONDS = 10 * 60

    def __init__(self, site: Site, library) -> None:
        self.site = site
        self.library = library
        self._fetched: dict[str, Fetched] = {}
        self._lock = threading.Lock()

    def fetch(self, owner: str, clinician: str = "") -> list[Booking]:
        """Today's and tomorrow's appointments (on the clinic's clock), only ``clinician``'s
        when given (any part of the name, any case). A :class:`ParsDocsError` with one
        line when the server cannot be read."""
        today = datetime.now(self.site.tz).date()
        found = fhir_schedule(self.site, self.library, today, today + timedelta(days=1))
        titles = self._titles()
        bookings = []
        for result in found:
            if isinstance(result, Row):
                values, problem = dict(result.values), None
            elif isinstance(result, BadRow):
                values, problem = {}, _first_line(result.error)
            else:
                continue  # cancelled, or already over
            procedure = str(values.get("procedure") or "")
            bookings.append(
                Booking(
                    secrets.token_urlsafe(12),
                    values,
                    titles.get(procedure, procedure or "(no procedure for its code)"),
                    problem,
                )
            )
        wanted = clinician.strip().casefold()
        if wanted:
            bookings = [b for b in bookings if wanted in b.clinician.casefold()]
        bookings.sort(key=lambda b: (str(b.values.get("date", "")), str(b.values.get("time", ""))))
        with self._lock:
            self._expire()
            self._fetched[owner] = Fetched(owner, bookings)
        return bookings

    def get(self, owner: str, key: str) -> Booking | None:
        with self._lock:
            self._expire()
            fetched = self._fetched.get(owner)
        if fetched is None:
            return None
        return next((b for b in fetched.bookings if b.key == key), None)

    def _expire(self) -> None:
        now = time.monotonic()
        for owner in [o for o, f in self._fetched.items() if now - f.at > self.KEEP_SECONDS]:
            del self._fetched[owner]

    def _titles(self) -> dict[str, str]:
        titles = {}
        for set_id in self.library.ids():
            try:
                titles[set_id] = self.library.get(set_id).title
            except ParsDocsError:
                continue
        return titles


def _first_line(error: ParsDocsError) -> str:
    return error.public(False).splitlines()[0]
