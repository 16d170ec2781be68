"""The key moments of a handout as an RFC 5545 calendar, for the patient's phone.

The times are the plan's; the wording comes from ``templates/calendar.yaml``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING

import jinja2
from icalendar import CLASS, TRANSP, Alarm, Calendar, Event

from .._version import version
from ..clock import build_time
from ..compose.composer import Templates, asks, single_stop, templates_for, tidy_spaces
from ..compose.markup import plain
from ..errors import InstructionError
from ..load.loader import LoadedYAML, load_yaml
from ..load.validate import problem
from ..plan.keytimes import key_times, shown
from ..sandbox import bounded_render, unsafe_constructs

if TYPE_CHECKING:
    from ..plan.timeline import MedicinePlan, Plan

CALENDAR_FILE = "calendar.yaml"
CALENDAR_TEXTS = ("calendar_name", "location")


@dataclass(frozen=True)
class PlannedEvent:
    """One event of the visit's calendar: its UID's name, where its words are (``key`` in
    calendar.yaml, or ``moment`` in the set), when, and its reminder."""

    uid: str
    key: str
    start: date | datetime
    end: datetime | None = None
    medicine: MedicinePlan | None = None
    moment: str | None = None  # the set's moment (or repeated task) whose words it has
    rrule: dict | None = None
    remind_minutes: int | None = None
    remind_on_the_day: bool = False
    visit: bool = False


# The events whose wording is here; every other event's wording is its moment's `calendar`
# in the instruction set (format 2).
EVENTS = ("last_dose", "restart", "avoid", "procedure")
# Whole-day events: their reminders go off on the day, at the site's waking hour.
DAY_EVENTS = ("last_dose", "restart", "avoid")
VISIT_REMINDER_MINUTES = 60  # a visit of its own with no reminder of its own
EVENT_FIELDS = ("summary", "description")
UID_DOMAIN = "pars-docs"
MAX_REMINDER_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class CalendarWording:
    """One language's calendar wording and the reminder settings, from one calendar.yaml."""

    loaded: LoadedYAML
    language: str  # the key of the block used: "en" for a site in en-US

    @property
    def reminders(self) -> dict[str, int]:
        """Event → minutes before it that its reminder goes off."""
        table = self.loaded.data.get("reminders") or {}
        return {
            name: entry["minutes_before"]
            for name, entry in table.items()
            if "minutes_before" in entry
        }

    @property
    def day_reminders(self) -> set[str]:
        """Whole-day events whose reminder goes off on the day, at the site's waking hour."""
        table = self.loaded.data.get("reminders") or {}
        return {name for name, entry in table.items() if entry.get("on_the_day") is True}

    def render(self, templates: Templates, field: tuple, context: dict) -> str:
        """The text at ``field`` of the language block, bold marks dropped, spaces tidied.

        Line breaks are kept (a note's lines stay lines); blank lines are dropped.
        """
        source = self.loaded.data[self.language]
        for key in field:
            source = source[key]
        try:
            text = single_stop(
                bounded_render(templates.compile_text(source), templates.numbers(context))
            )
        except jinja2.TemplateError as e:  # a SecurityError too: over the sandbox's bounds
            where = (self.language, *field)
            raise InstructionError(problem(self.loaded, where, f"template error: {e}")) from e
        lines = (tidy_spaces(line) for line in plain(text).split("\n"))
        return "\n".join(line for line in lines if line)


def _wording_problems(loaded: LoadedYAML, language: str, templates: Templates) -> list[str]:
    data = loaded.data
    block = data[language]
    problems = []
    fields: list[tuple[str, ...]] = [(key,) for key in CALENDAR_TEXTS]
    for name in EVENTS:
        if not isinstance(block.get(name), dict):
            problems.append(problem(loaded, (language, name), "is missing"))
            continue
        fields += [(name, key) for key in EVENT_FIELDS]
    for field in fields:
        source = block
        for key in field:
            source = source.get(key) if isinstance(source, dict) else None
        if not isinstance(source, str):
            problems.append(problem(loaded, (language, *field), "is missing or not text"))
            continue
        try:
            templates.compile_text(source)
            unsafe = unsafe_constructs(source)
        except jinja2.TemplateSyntaxError as e:
            problems.append(problem(loaded, (language, *field), f"template error: {e.message}"))
            continue
        problems += [
            problem(loaded, (language, *field), f"{what}: not allowed in a template")
            for what in unsafe
        ]
    reminders = data.get("reminders") or {}
    if not isinstance(reminders, dict):
        return problems + [problem(loaded, ("reminders",), "must map event names to settings")]
    for name, entry in reminders.items():
        minutes = entry.get("minutes_before") if isinstance(entry, dict) else None
        if name not in EVENTS:
            problems.append(
                problem(loaded, ("reminders", name), f"unknown event (known: {', '.join(EVENTS)})")
            )
        elif name in DAY_EVENTS:
            if not isinstance(entry, dict) or entry.get("on_the_day") not in (True, False):
                problems.append(
                    problem(
                        loaded,
                        ("reminders", name),
                        "a whole-day event takes on_the_day: true or false (the reminder goes "
                        "off at the site's reminder_time)",
                    )
                )
        elif (
            isinstance(minutes, bool)
            or not isinstance(minutes, int)
            or not 0 <= minutes <= MAX_REMINDER_MINUTES
        ):
            # A week at most: a larger number would overflow the calendar's dates.
            problems.append(
                problem(
                    loaded,
                    ("reminders", name),
                    f"give minutes_before as a whole number from 0 to {MAX_REMINDER_MINUTES}",
                )
            )
    return problems


def translation_problems(wording: CalendarWording, english: CalendarWording) -> list[str]:
    """A translated calendar block against the English one: placeholders, numbers and English
    left behind (see translations.text_problems)."""
    from ..load.translations import text_problems

    fields = [(key,) for key in CALENDAR_TEXTS] + [
        (name, key) for name in EVENTS for key in EVENT_FIELDS
    ]
    found = []
    for field in fields:
        text, source = wording.loaded.data[wording.language], english.loaded.data[english.language]
        for key in field:
            text, source = text[key], source[key]
        found += text_problems(wording.loaded, (wording.language, *field), text, source)
    return found


@lru_cache(maxsize=8)
def calendar_wording(templates: Templates) -> CalendarWording:
    """The calendar wording for ``templates``' language, from the first folder of its search
    path (the site's templates, then the built-ins) whose calendar.yaml has that language."""
    language = templates.language
    base = language.replace("-", "_").split("_")[0]
    for folder in templates.dirs:
        path = folder / CALENDAR_FILE
        if not path.is_file():
            continue
        loaded = load_yaml(path, InstructionError)
        table = loaded.data if isinstance(loaded.data, dict) else {}
        chosen = next((k for k in (language, base) if isinstance(table.get(k), dict)), None)
        if chosen:
            problems = _wording_problems(loaded, chosen, templates)
            if problems:
                raise InstructionError("\n".join(problems))
            return CalendarWording(loaded, chosen)
    raise InstructionError(
        f"templates: no calendar wording for language '{language}' in {CALENDAR_FILE}"
    )


def _uid(plan, name: str) -> str:
    """An event's UID, which no one can trace back to the patient.

    With the clinic's calendar key (site ``calendar_key_file`` or
    ``$PARS_DOCS_CALENDAR_KEY``) it is an HMAC of the booking's identity, so the same event
    of the same booking always gets the same UID and a calendar that imports a later file (a
    rescheduled visit) updates the event instead of doubling it. The booking's identity is
    its id in the system that made it (a FHIR Appointment id, an HL7 SIU filler id,
    ``--visit-id``), else the record number (else the patient) with the procedure and day.

    Without a key, a booking id is hashed alone (it says nothing of who); without either,
    the UID is random: a hash of a name or record number could be confirmed by anyone who
    guesses them.
    """
    visit = plan.visit
    if visit.visit_id:
        identity = ["visit", visit.visit_id, name]
    else:
        who = ["mrn", visit.mrn] if visit.mrn else ["patient", visit.patient]
        identity = [*who, plan.instruction_set.id, visit.date.isoformat(), name]
    message = json.dumps(identity, ensure_ascii=False).encode("utf-8")
    key = plan.site.calendar_key
    if key:
        digest = hmac.new(key, message, hashlib.sha256).hexdigest()
    elif visit.visit_id:
        digest = hashlib.sha256(message).hexdigest()
    else:
        digest = secrets.token_hex(32)
    return f"{digest}@{UID_DOMAIN}"


_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _sequence(plan, stamp: datetime) -> int:
    """RFC 5545 SEQUENCE: minutes since 2000 of when the booking last changed, else of when
    the file was made. A later file for the same visit always has a higher one, so a
    calendar takes its events over the earlier file's."""
    if plan.visit.revision is not None:
        return plan.visit.revision
    return max(0, int((stamp - _EPOCH).total_seconds() // 60))


def calendar_context(plan) -> dict:
    site = plan.site
    iset = plan.instruction_set
    return {
        "set": {"id": iset.id, "title": iset.title, "version": iset.version},
        "clinic": {
            "name": site.name,
            "phone": site.phone,
            "after_hours_phone": site.after_hours_phone,
            "address": site.address,
        },
        "visit": {
            "clinician": plan.visit.clinician,
            **plan.options,
            "note": plan.visit.note or "",
        },
        "t": iset.data["timing"],
        "moments": plan.moments,
        "asks": asks(plan),
    }


def _planned_events(
    plan: Plan, reminders: dict[str, int], day_reminders: set[str]
) -> list[PlannedEvent]:
    """Each event this visit has.

    One event per key time still to come (:mod:`pars_docs.plan.keytimes`, the same list as the
    handout's page 1; a repeated task is one event that repeats), then the procedure itself,
    then each moment with calendar wording but no key time. A day (a last dose, a follow-up
    shown as a day) is an all-day event; a point in time (stop eating) has no end unless its
    calendar says ``until`` (arriving lasts until the start).
    """
    moments = plan.moments
    timing = plan.instruction_set.data["timing"]
    events: list[PlannedEvent] = []

    def moment_event(name: str, start, rrule=None, visit: bool = False) -> PlannedEvent:
        entry = timing.get(name) or {}
        calendar = entry.get("calendar") or {}
        until = moments.get(calendar.get("until", ""))
        minutes = calendar.get("remind_minutes")
        on_the_day = bool(calendar.get("remind_on_the_day"))
        if visit and minutes is None and not on_the_day:
            minutes, on_the_day = VISIT_REMINDER_MINUTES, True
        return PlannedEvent(
            name,
            name,
            start,
            until if isinstance(until, datetime) else None,
            moment=name,
            rrule=rrule,
            remind_minutes=minutes,
            remind_on_the_day=on_the_day,
            visit=visit,
        )

    for item in key_times(plan):
        if item.late or item.at is None:
            continue  # "call us today" is not a time to put in a calendar
        med = item.medicine
        if med is not None:
            events.append(
                PlannedEvent(
                    f"{item.action}:{med.generic}",
                    item.action,
                    item.at,
                    medicine=med,
                    remind_minutes=reminders.get(item.action),
                    remind_on_the_day=item.action in day_reminders,
                )
            )
        elif item.last is not None:
            repeat = plan.repeats[item.action]
            events.append(moment_event(item.action, item.at, rrule=repeat.rrule))
        else:
            events.append(moment_event(item.action, item.at, visit=item.visit))
    events.append(
        PlannedEvent(
            "procedure",
            "procedure",
            moments["start"],
            moments["end"],
            remind_minutes=reminders.get("procedure"),
        )
    )
    keyed = {e.moment for e in events}
    for name, moment in moments.items():
        entry = timing.get(name) or {}
        if (
            name in keyed
            or entry.get("key")
            or not entry.get("calendar")
            or isinstance(moment, list)
        ):
            continue
        events.append(moment_event(name, shown(moment, entry), visit=bool(entry.get("visit"))))
    return events


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _unambiguous(moment):
    """``moment`` as the calendar should write it. RFC 5545 (3.3.5) reads a wall-clock time
    the clocks show twice as its first showing, so a moment in the second one (``fold=1``, as
    the plan marks it) is written in UTC instead of on the site's clock."""
    if not isinstance(moment, datetime) or not moment.fold:
        return moment
    if moment.replace(fold=0).utcoffset() == moment.utcoffset():
        return moment
    return moment.astimezone(timezone.utc)


def _set_text(templates: Templates, source: str | None, context: dict) -> str:
    """A moment's calendar wording from the instruction set, bold marks dropped."""
    if not source:
        return ""
    text = single_stop(templates.compile_text(source).render(templates.numbers(context)))
    lines = (tidy_spaces(line) for line in plain(text).split("\n"))
    return "\n".join(line for line in lines if line)


def render_ics(plan: Plan) -> bytes:
    """An RFC 5545 calendar of the visit's key moments, in the site's time zone.

    Events: the last dose and the restart of each medicine to stop (all day), stop eating,
    stop clear liquids, arrive (until the start), the procedure (start to end) and the end
    of the activity limits, each only when this visit has it. Wording and reminders come from
    calendar.yaml; a whole-day event's reminder goes off on the day at the site's
    ``reminder_time``. UIDs come from the booking's identity (see :func:`_uid`); with
    ``SOURCE_DATE_EPOCH`` set the bytes are identical for the same visit.
    """
    site = plan.site
    # The patient's language (a bilingual handout's calendar is in its first language).
    templates = templates_for(site.templates_dir, plan.instruction_set.language, site.clock)
    wording = calendar_wording(templates)
    context = calendar_context(plan)
    stamp = build_time()
    reminders = wording.reminders
    day_reminders = wording.day_reminders
    sequence = _sequence(plan, stamp)
    waking = site.reminder_time
    location = wording.render(templates, ("location",), context)

    calendar = Calendar()
    calendar.add("prodid", f"-//pars-docs//pars-docs {version()}//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-language", plan.instruction_set.language)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = wording.render(templates, ("calendar_name",), context)
    if name:
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)

    days = []
    timing = plan.instruction_set.data["timing"]
    for planned in _planned_events(plan, reminders, day_reminders):
        start, end = planned.start, planned.end
        if planned.moment is not None:
            entry = timing.get(planned.moment) or {}
            said = entry.get("calendar") or {}
            summary = _set_text(templates, said.get("summary") or entry.get("key"), context)
            description = _set_text(templates, said.get("description"), context)
        else:
            event_context = {**context, "med": planned.medicine} if planned.medicine else context
            summary = wording.render(templates, (planned.key, "summary"), event_context)
            description = wording.render(templates, (planned.key, "description"), event_context)
        busy = end is not None or planned.visit  # reminders are points in time
        event = Event.new(
            uid=_uid(plan, planned.uid),
            stamp=stamp,
            start=_unambiguous(start),
            end=_unambiguous(end),
            summary=summary,
            description=description,
            location=location if busy and location else None,
            transparency=TRANSP.OPAQUE if busy else TRANSP.TRANSPARENT,
            classification=CLASS.PRIVATE,
        )
        event.add("sequence", sequence)
        if planned.rrule is not None:
            event.add("rrule", planned.rrule)
        trigger = None
        if planned.remind_minutes is not None and isinstance(start, datetime):
            trigger = timedelta(minutes=-planned.remind_minutes)
        elif planned.remind_on_the_day and not isinstance(start, datetime):
            # After the start of a whole day (its midnight): the waking hour on that day.
            trigger = timedelta(hours=waking.hour, minutes=waking.minute)
        if trigger is not None:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", trigger)
            alarm.add("description", summary)
            event.add_component(alarm)
        calendar.add_component(event)
        days.append(_day(start))
    # Describe the zone over whole years around the visit: enough for any event, and the
    # same text for every visit in those years.
    calendar.add_missing_timezones(
        first_date=date(min(days).year, 1, 1), last_date=date(max(days).year + 1, 1, 1)
    )
    return calendar.to_ical()
