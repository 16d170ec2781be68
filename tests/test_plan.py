"""The timeline: absolute-time arithmetic across daylight saving, months and years."""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pars_docs.errors import VisitError
from pars_docs.handout import Engine
from pars_docs.load.site import Site
from pars_docs.plan.timeline import localize, shift_days, shift_hours
from pars_docs.read.visit import make_visit

NY = ZoneInfo("America/New_York")


def site(zone="America/New_York"):
    return Site(name="Clinic", phone="1", after_hours_phone="2", address="", tz=ZoneInfo(zone))


def plan(
    procedure="pars-defect-injection", day="2026-12-03", clock="8:00 AM", zone=None, **options
):
    engine = Engine(site(zone or "America/New_York"))
    visit = make_visit(procedure, "Ana", day, clock, "Dr. Lee", **options)
    return engine.prepare(visit).plan


def wall(moment):
    return moment.strftime("%Y-%m-%d %H:%M")


def test_fast_across_spring_forward_is_counted_in_real_hours():
    # Clocks in New York jump from 2:00 to 3:00 AM on 2026-03-08.
    p = plan(day="2026-03-08", clock="8:00 AM", sedation=True)
    assert wall(p.moments["stop_solids"]) == "2026-03-08 01:00"
    # (Aware datetimes in one zone subtract as wall clocks, so compare in UTC.)
    elapsed = p.moments["start"].astimezone(timezone.utc) - p.moments["stop_solids"]
    assert elapsed == timedelta(hours=6)


def test_fast_across_fall_back():
    # Clocks in New York fall back from 2:00 to 1:00 AM on 2026-11-01: the night has an extra
    # hour, so 8 hours before a 5:00 AM arrival is 10:00 PM, not 9:00 PM.
    p = plan("pars-defect-decompression", day="2026-11-01", clock="7:00 AM")
    assert wall(p.moments["arrive"]) == "2026-11-01 05:00"
    assert wall(p.moments["stop_solids"]) == "2026-10-31 22:00"


def test_evening_before_across_month_and_year_end():
    p = plan("pars-defect-decompression", day="2027-01-01", clock="7:00 AM")
    # Surgery: solids stop 8 hours before arriving 2 hours early.
    assert wall(p.moments["arrive"]) == "2027-01-01 05:00"
    assert wall(p.moments["stop_solids"]) == "2026-12-31 21:00"
    assert wall(p.moments["stop_liquids"]) == "2027-01-01 03:00"


def test_no_fasting_without_sedation():
    p = plan(sedation=False)
    assert "stop_solids" not in p.moments and "stop_liquids" not in p.moments


def test_activity_limits_end_counts_from_the_end_of_the_procedure():
    p = plan(day="2026-12-03", clock="8:00 AM")
    # 30 minutes at most, then 48 hours.
    assert wall(p.moments["activity_end"]) == "2026-12-05 08:30"


def test_calendar_days_keep_the_wall_clock_across_dst():
    p = plan("pars-defect-decompression", day="2026-02-23", clock="9:00 AM")
    # 6 weeks later is after the March change; still 9:00 AM.
    assert wall(p.moments["follow_up"]) == "2026-04-06 09:00"


def test_medicine_last_dose_and_restart_days():
    p = plan(
        "pars-defect-decompression",
        day="2026-03-02",
        medications=["Eliquis", "warfarin", "ASPIRIN", "fish oil"],
    )
    by_name = {m.generic: m for m in p.medicines}
    # warfarin: 5 whole days without it before Monday, March 2 → last dose Tuesday, Feb 24.
    assert by_name["warfarin"].last_dose == date(2026, 2, 24)
    assert by_name["warfarin"].first_skip == date(2026, 2, 25)
    assert by_name["warfarin"].restart == date(2026, 3, 3)
    assert by_name["apixaban"].last_dose == date(2026, 2, 26)
    assert by_name["fish oil"].last_dose == date(2026, 2, 15)
    assert {m.name for m in p.medicines} == {"Eliquis", "warfarin", "aspirin", "fish oil"}


def test_medicine_pause_across_a_year_end():
    p = plan("pars-defect-decompression", day="2027-01-04", medications=["Plavix"])
    assert p.medicines[0].last_dose == date(2026, 12, 27)


def test_medicine_actions_depend_on_bleeding_risk():
    injection = plan(medications=["aspirin"]).medicines[0]
    surgery = plan("pars-defect-decompression", medications=["aspirin"]).medicines[0]
    assert injection.action == "ask"
    assert surgery.action == "stop"


def test_skipped_local_time_is_refused():
    with pytest.raises(VisitError, match="does not exist in America/New_York"):
        localize(date(2026, 3, 8), time(2, 30), NY)


def test_repeated_local_time_takes_the_first():
    moment = localize(date(2026, 11, 1), time(1, 30), NY)
    assert moment.utcoffset() == timedelta(hours=-4)


ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Bucharest",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "UTC",
]


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2037, 12, 31)),
    minute=st.integers(min_value=0, max_value=24 * 60 - 1),
    hours=st.floats(min_value=0.25, max_value=24, allow_nan=False).map(lambda h: round(h * 4) / 4),
)
def test_shift_hours_is_exact_elapsed_time(zone, day, minute, hours):
    tz = ZoneInfo(zone)
    clock = time(minute // 60, minute % 60)
    try:
        start = localize(day, clock, tz)
    except VisitError:
        return  # a skipped time is refused, tested above
    earlier = shift_hours(start, -hours)
    assert start.astimezone(timezone.utc) - earlier.astimezone(timezone.utc) == timedelta(
        hours=hours
    )
    assert earlier.tzinfo is tz
    # The printed wall time is the zone's true reading of that instant.
    assert earlier.replace(tzinfo=None) == earlier.astimezone(timezone.utc).astimezone(tz).replace(
        tzinfo=None
    )


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2037, 12, 31)),
    days=st.integers(min_value=1, max_value=70),
)
def test_shift_days_lands_on_the_right_date(zone, day, days):
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(9, 0), tzinfo=tz)
    later = shift_days(start, days)
    assert later.date() == day + timedelta(days=days)


def test_a_medicine_named_twice_is_listed_once():
    p = plan(medications=["apixaban", "Eliquis"])
    assert [m.generic for m in p.medicines] == ["apixaban"]


def test_anticoagulants_restart_later_after_surgery_and_nsaids_ask():
    p = plan("pars-defect-decompression", day="2026-12-03", medications=["Eliquis", "Advil"])
    eliquis, advil = p.medicines
    assert eliquis.restart == date(2026, 12, 6)  # 48-72 hours: the third day after
    assert advil.action == "stop" and advil.restart is None
