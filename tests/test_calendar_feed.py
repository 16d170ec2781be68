"""Calendars that survive a reschedule: UIDs from the booking's identity, a SEQUENCE that
rises, reminders on the days of a last dose and a restart; read by icalendar and vobject."""

import dataclasses
from datetime import date, time, timedelta

import pytest
import vobject
from helpers import DATA, render_ics
from icalendar import Calendar

from pars_docs import Engine, load_site, make_visit
from pars_docs.render.ics import EVENTS

SITE = load_site(DATA / "site-ny.yaml")


def calendar(day="2030-12-03", clock="8:00", site=SITE, **options):
    options.setdefault("medications", ["Eliquis"])
    visit = make_visit("pars-defect-injection", "Ana Díaz", day, clock, "Dr. Lee", **options)
    return render_ics(Engine(site).prepare(visit))


def events(raw: bytes) -> dict:
    """Summary → event, as icalendar reads it; and the same file must read in vobject."""
    parsed = vobject.readOne(raw.decode("utf-8"))
    by_vobject = {e.summary.value: e for e in parsed.vevent_list}
    by_icalendar = {str(e["SUMMARY"]): e for e in Calendar.from_ical(raw).walk("VEVENT")}
    assert set(by_vobject) == set(by_icalendar)
    for summary, event in by_icalendar.items():
        other = by_vobject[summary]
        assert other.uid.value == str(event["UID"])
        assert int(other.sequence.value) == int(event["SEQUENCE"])
        assert other.dtstart.value == event.decoded("DTSTART")
    return by_icalendar


def uids(raw: bytes) -> dict:
    return {summary: str(e["UID"]) for summary, e in events(raw).items()}


def test_a_rescheduled_visit_keeps_its_uids_and_raises_its_sequence():
    first = calendar(visit_id="Appointment/123", revision=14_000_000)
    moved = calendar(
        day="2030-12-05", clock="10:30", visit_id="Appointment/123", revision=14_000_500
    )
    assert uids(first) == uids(moved)
    sequences = [{int(e["SEQUENCE"]) for e in events(raw).values()} for raw in (first, moved)]
    assert sequences == [{14_000_000}, {14_000_500}]


def test_uids_do_not_come_from_the_name_and_time():
    base = uids(calendar(visit_id="A-1"))
    assert uids(calendar(visit_id="A-2")) != base  # another booking
    renamed = make_visit("pars-defect-injection", "Ann Diaz", "2030-12-04", "9:00", "Dr. Lee",
                         visit_id="A-1", medications=["Eliquis"])  # fmt: skip
    assert uids(render_ics(Engine(SITE).prepare(renamed))) == base


KEYED = dataclasses.replace(SITE, calendar_key=b"0123456789abcdef0123")


def test_without_an_id_the_record_number_and_day_name_the_visit():
    morning = uids(calendar(mrn="M-1", clock="8:00", site=KEYED))
    afternoon = uids(calendar(mrn="M-1", clock="14:00", site=KEYED))
    assert morning == afternoon  # moved within the day: the same events
    other_key = dataclasses.replace(SITE, calendar_key=b"another clinic's key!")
    assert uids(calendar(mrn="M-1", clock="8:00", site=other_key)) != morning


def test_without_a_key_or_an_id_uids_are_random_not_a_hash_of_the_name():
    """A hash of the name (or record number) and day could be confirmed by anyone who
    guesses them from the .ics file alone."""
    import hashlib
    import json

    first, again = uids(calendar(mrn="M-1")), uids(calendar(mrn="M-1"))
    assert set(first.values()).isdisjoint(again.values())
    unkeyed = [["mrn", "M-1", "pars-defect-injection", "2030-12-03", name] for name in EVENTS]
    guesses = {hashlib.sha256(json.dumps(k).encode()).hexdigest() for k in unkeyed}
    assert not guesses & {uid.split("@")[0] for uid in first.values()}


def test_a_calendar_key_comes_from_the_site_or_the_environment(tmp_path, monkeypatch):
    from pars_docs.errors import SiteError

    key = tmp_path / "calendar.key"
    key.write_text("f" * 40 + "\n")
    profile = tmp_path / "site.yaml"
    profile.write_text(
        "clinic: {name: Clinic}\ntimezone: America/New_York\ncalendar_key_file: calendar.key\n"
    )
    assert load_site(profile).calendar_key == b"f" * 40
    key.write_text("short")
    with pytest.raises(SiteError, match="shorter than 16 characters"):
        load_site(profile)
    monkeypatch.setenv("PARS_DOCS_CALENDAR_KEY", "e" * 20)
    assert load_site(DATA / "site-ny.yaml").calendar_key == b"e" * 20


def test_whole_day_reminders_at_the_sites_waking_hour():
    waking = dataclasses.replace(SITE, reminder_time=time(7, 30))
    found = events(calendar(site=waking))
    for summary, day in (("Last Eliquis", date(2030, 11, 29)), ("Start Eliquis again", None)):
        (event,) = [e for s, e in found.items() if s.startswith(summary)]
        assert isinstance(event.decoded("DTSTART"), date)
        if day:
            assert event.decoded("DTSTART") == day
        (alarm,) = event.walk("VALARM")
        assert alarm.decoded("TRIGGER") == timedelta(hours=7, minutes=30)
        assert str(alarm["ACTION"]) == "DISPLAY"


def test_make_takes_a_visit_id(runner, tmp_path):
    from pars_docs.cli import cli

    def made(day, *extra):
        out = tmp_path / "visit.ics"
        result = runner.invoke(
            cli,
            ["make", "pars-defect-injection", "--patient", "Ana", "--date", day, "--time"]
            + ["8:00", "--clinician", "Dr. Lee", "--site", str(DATA / "site-ny.yaml")]
            + ["--format", "ics", "-o", str(out), *extra],
        )
        assert result.exit_code == 0, result.output
        return uids(out.read_bytes())

    # Moved to another day: the same events with the id, new ones without.
    assert made("2030-12-03", "--visit-id", "CSN-88") == made("2030-12-05", "--visit-id", "CSN-88")
    assert made("2030-12-03") != made("2030-12-05")
