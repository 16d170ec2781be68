"""Text, JSON and calendar renditions: the same times as the PDF, taken from the same plan."""

import dataclasses
import json
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml
from helpers import DATA, built_in_sets, pdf_text, render_ics, render_json, render_text, squash
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from readability import grade

from pars_docs import load_site, make_handout
from pars_docs.compose.markup import WRITE_IN
from pars_docs.errors import InstructionError, UsageError, VisitError
from pars_docs.load.site import Site
from pars_docs.render.renditions import TEXT_WIDTH
from pars_docs.resources import templates_dir

SITE = DATA / "site-ny.yaml"
NY = ZoneInfo("America/New_York")
PRIVATE = re.compile("[\ue000\ue001]")
TITLE = "Pars defect injection"
MARKUP = [
    '<b>Bold</b> & "quotes"',
    "{{ visit.patient }}",
    "{% if 1 %}x{% endif %}",
    "Tom &amp; Jerry",
    "O'Brien; Smith, Jr. \\ Jones",
]


def handout(
    procedure="pars-defect-injection",
    patient="Ana Díaz",
    day="2026-12-03",
    clock="8:00 AM",
    clinician="Dr. Sam Lee",
    site=SITE,
    **options,
):
    return make_handout(procedure, patient, day, clock, clinician, site=site, **options)


def bare_site(**overrides):
    values = dict(name="", phone="", after_hours_phone="", address="", tz=NY)
    return Site(**{**values, **overrides})


def calendar_of(h) -> Calendar:
    return Calendar.from_ical(render_ics(h))


def events_by_summary(cal: Calendar) -> dict:
    events = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    assert len(events) == len(cal.walk("VEVENT")), "two events share a summary"
    return events


def builtin_calendar_yaml() -> dict:
    return yaml.safe_load((templates_dir() / "calendar.yaml").read_text(encoding="utf-8"))


# -- text ---------------------------------------------------------------------------------


def test_text_holds_the_same_times_as_the_pdf(make):
    result, out = make("--sedation", "--medication", "Eliquis", "--medication", "Advil")
    assert result.exit_code == 0, result.output
    pdf = squash(pdf_text(out))
    text = squash(render_text(handout(sedation=True, medications=["Eliquis", "Advil"])))
    for phrase in (
        "Eat your last food before Thursday, December 3 at 2:00 AM.",
        "Drink only clear liquids until Thursday, December 3 at 6:00 AM.",
        "Take your last Eliquis (apixaban) on Sunday, November 29. Then stop it.",
        "Take your last Advil (ibuprofen) on Tuesday, December 1.",
        "Start it again on Friday, December 4.",
        "Get here by Thursday, December 3 at 7:30 AM.",
        "heavy lifting until Saturday, December 5 at 8:30 AM.",
        "Start time 8:00 AM",
    ):
        assert phrase in pdf
        assert phrase.replace("Start time", "Start time:") in text


def test_text_holds_the_same_times_across_spring_forward(make):
    result, out = make("--sedation", date="2026-03-08")
    assert result.exit_code == 0, result.output
    phrase = "Eat your last food before Sunday, March 8 at 1:00 AM."
    assert phrase in squash(pdf_text(out))
    assert phrase in squash(render_text(handout(day="2026-03-08", sedation=True)))


@pytest.mark.parametrize("procedure", built_in_sets())
def test_text_has_every_line_of_the_document(procedure):
    h = handout(procedure, medications=["Eliquis", "aspirin"], mrn="A-1", dob="1990-02-03")
    text = squash(render_text(h))
    assert not PRIVATE.search(text)
    for element in h.document.iter():
        if element.tag in ("p", "check", "bullet", "step", "notice", "title", "subtitle"):
            assert squash(PRIVATE.sub("", element.text)) in text
        if element.tag in ("section", "group", "callbox", "emergency", "note", "keytimes"):
            assert squash(element.get("title")) in text
        if element.tag == "time":
            line = f"[ ] {element.get('at')}: {element.text}"
            assert squash(PRIVATE.sub("", line)) in text
        if element.tag == "field":
            assert squash(f"{element.get('label')}: {PRIVATE.sub('', element.text)}") in text


def test_text_layout():
    h = handout(sedation=True)
    text = render_text(h)
    lines = text.split("\n")
    assert text.endswith("pars-defect-injection v1.2.0, reviewed 2026-11-20\n")
    assert lines[:2] == [
        "Riverside Spine & Pain <Center>",
        "12 Harbor Street, Springfield, NY 10001",
    ]
    assert all(len(line) <= TEXT_WIDTH for line in lines)
    for line in (
        "Patient: Ana Díaz",
        "Date: Thursday, December 3, 2026",
        "Start time: 8:00 AM",
        "[ ] Eat your last food before Thursday, December 3 at 2:00 AM.",
        "- A crack in the pars (spondylolysis).",
        "1. You lie face down on a table.",
        "6. The needle comes out. We put a small bandage on the spot.",
        "Clinic phone: (555) 010-2000",
        "After hours: (555) 010-2999",
        "- Trouble breathing.",
    ):
        assert line in lines
    # Headings are underlined to their own length.
    heading = lines.index("Before your shot")
    assert lines[heading + 1] == "=" * len("Before your shot")
    group = lines.index("Eating and drinking")
    assert lines[group + 1] == "-" * len("Eating and drinking")
    # A wrapped item continues under its text, not under its box.
    first = next(i for i, line in enumerate(lines) if line.startswith("[ ] Drink only clear"))
    assert lines[first + 1].startswith("    ") and lines[first + 1][4] != " "
    assert render_text(handout(sedation=True)) == text


def test_text_leaves_a_line_to_write_a_missing_phone_on():
    lines = render_text(handout(site=bare_site())).split("\n")
    assert f"Clinic phone: {WRITE_IN}" in lines
    assert f"After hours: {WRITE_IN}" in lines
    assert lines[0] == TITLE  # no clinic name, no address: the title comes first


# -- JSON ---------------------------------------------------------------------------------


def test_json_is_the_plans_timeline():
    h = handout(sedation=True, medications=["Eliquis", "aspirin"])
    raw = render_json(h)
    data = json.loads(raw)
    assert list(data) == [
        "schema_version",
        "instruction_set",
        "procedure",
        "patient",
        "language",
        "clinician",
        "timezone",
        "sedation",
        "moments",
        "medicines",
        "key_times",
    ]
    assert data["instruction_set"] == {
        "id": "pars-defect-injection",
        "version": "1.2.0",
        "title": TITLE,
    }
    assert data["timezone"] == "America/New_York"
    assert data["sedation"] is True
    assert '"patient": "Ana Díaz"' in raw  # UTF-8, not \u escapes
    assert set(data["moments"]) == set(h.plan.moments)
    for name, text in data["moments"].items():
        parsed = datetime.fromisoformat(text)
        assert parsed == h.plan.moments[name]
        assert parsed.utcoffset() == h.plan.moments[name].utcoffset()
    assert data["moments"]["stop_solids"] == "2026-12-03T02:00:00-05:00"
    assert data["medicines"] == [
        {
            "name": "Eliquis",
            "generic": "apixaban",
            "action": "stop",
            "last_dose": "2026-11-29",
            "first_skip": "2026-11-30",
            "restart": "2026-12-04",
        },
        {
            "name": "aspirin",
            "generic": "aspirin",
            "action": "ask",
            "last_dose": None,
            "first_skip": None,
            "restart": None,
        },
    ]
    assert render_json(handout(sedation=True, medications=["Eliquis", "aspirin"])) == raw


@pytest.mark.parametrize(
    "day,expected",
    [
        # Clocks spring forward at 2:00 AM: the fast starts in EST, the visit is in EDT.
        (
            "2026-03-08",
            {
                "stop_solids": "2026-03-08T01:00:00-05:00",
                "stop_liquids": "2026-03-08T06:00:00-04:00",
                "arrive": "2026-03-08T07:30:00-04:00",
                "start": "2026-03-08T08:00:00-04:00",
            },
        ),
        # Clocks fall back at 2:00 AM: six real hours before 8:00 AM EST is 2:00 AM EST.
        (
            "2026-11-01",
            {
                "stop_solids": "2026-11-01T02:00:00-05:00",
                "start": "2026-11-01T08:00:00-05:00",
            },
        ),
    ],
)
def test_json_offsets_across_daylight_saving_changes(day, expected):
    moments = json.loads(render_json(handout(day=day, sedation=True)))["moments"]
    for name, text in expected.items():
        assert moments[name] == text


def test_json_has_dob_and_mrn_only_when_given():
    assert not {"dob", "mrn"} & set(json.loads(render_json(handout())))
    data = json.loads(render_json(handout(dob="1990-02-03", mrn="A-1")))
    assert (data["dob"], data["mrn"]) == ("1990-02-03", "A-1")


# -- calendar -----------------------------------------------------------------------------


def test_calendar_has_the_key_moments_of_the_visit():
    h = handout(sedation=True, medications=["Eliquis", "Advil", "aspirin"])
    moments = h.plan.moments
    raw = render_ics(h)
    cal = Calendar.from_ical(raw)
    zones = cal.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["America/New_York"]
    events = events_by_summary(cal)
    expected = {
        f"Stop eating: {TITLE}": (moments["stop_solids"], None),
        f"Stop drinking: {TITLE}": (moments["stop_liquids"], None),
        f"Last Eliquis: {TITLE}": (date(2026, 11, 29), None),
        f"Last Advil: {TITLE}": (date(2026, 12, 1), None),
        f"Arrive: {TITLE}": (moments["arrive"], moments["start"]),
        TITLE: (moments["start"], moments["end"]),
        f"Activity limits end: {TITLE}": (moments["activity_end"], None),
        f"Bandage may come off: {TITLE}": (moments["bandage_off"], None),
        f"Follow-up: {TITLE}": (moments["follow_up"].date(), None),
        # aspirin is "ask": one day to call by (ask_by), as on page 1.
        f"Call us about your medicines: {TITLE}": (moments["ask_by"].date(), None),
    }
    restarts = {m.name: m.restart for m in h.plan.medicines if m.restart}
    assert set(restarts) == {"Eliquis", "Advil"}
    for name, day in restarts.items():
        expected[f"Start {name} again: {TITLE}"] = (day, None)
    assert set(events) == set(expected)
    for summary, (start, end) in expected.items():
        event = events[summary]
        assert event.start == start
        assert type(event.start) is type(start)  # last doses are all-day dates
        if isinstance(start, datetime):
            assert event.start.utcoffset() == start.utcoffset()
            assert event.start.tzinfo.key == "America/New_York"
        if end is None:
            assert "DTEND" not in event
        else:
            assert event.end == end
    assert b"DTSTART;TZID=America/New_York:20261203T020000\r\n" in raw
    assert b"DTSTART;VALUE=DATE:20261129\r\n" in raw
    assert not PRIVATE.search(raw.decode("utf-8"))  # the handout's bold marks are dropped
    uids = [str(e["UID"]) for e in cal.walk("VEVENT")]
    assert len(set(uids)) == len(uids)
    assert all(re.fullmatch(r"[0-9a-f]{64}@pars-docs", uid) for uid in uids)
    location = "Riverside Spine & Pain <Center>, 12 Harbor Street, Springfield, NY 10001"
    assert str(events[TITLE]["LOCATION"]) == location


def test_calendar_reminders_come_from_the_sets_moments():
    # Format 2: a moment's reminder is part of its calendar wording in the set.
    from pars_docs.load.library import Library

    timing = Library().get("pars-defect-injection").data["timing"]
    reminders = {
        name: {"minutes_before": entry["calendar"]["remind_minutes"]}
        for name, entry in timing.items()
        if "remind_minutes" in (entry.get("calendar") or {})
    }
    events = events_by_summary(calendar_of(handout(sedation=True)))
    keys = {
        f"Stop eating: {TITLE}": "stop_solids",
        f"Stop drinking: {TITLE}": "stop_liquids",
        f"Arrive: {TITLE}": "arrive",
        TITLE: "procedure",
        f"Activity limits end: {TITLE}": "activity_end",
    }
    assert reminders  # the built-in file sets some, so this test checks something
    for summary, key in keys.items():
        alarms = events[summary].walk("VALARM")
        if key in reminders:
            assert len(alarms) == 1
            assert alarms[0].decoded("TRIGGER") == -timedelta(
                minutes=reminders[key]["minutes_before"]
            )
            assert str(alarms[0]["ACTION"]) == "DISPLAY"
        else:
            assert alarms == []


def test_calendar_leaves_out_moments_the_visit_does_not_have():
    summaries = set(events_by_summary(calendar_of(handout())))
    assert summaries == {
        f"Arrive: {TITLE}",
        TITLE,
        f"Activity limits end: {TITLE}",
        f"Bandage may come off: {TITLE}",
        f"Follow-up: {TITLE}",
    }
    # Surgery always fasts, sedation or not.
    surgery = handout("pars-defect-decompression")
    title = surgery.instruction_set.title
    assert set(events_by_summary(calendar_of(surgery))) >= {
        f"Stop eating: {title}",
        f"Stop drinking: {title}",
        title,
    }


def test_calendar_across_spring_forward():
    h = handout(day="2026-03-08", sedation=True)
    raw = render_ics(h)
    events = events_by_summary(Calendar.from_ical(raw))
    stop = events[f"Stop eating: {TITLE}"].start
    start = events[TITLE].start
    assert stop == datetime(2026, 3, 8, 1, 0, tzinfo=NY)
    assert stop.utcoffset() == timedelta(hours=-5)
    assert start.utcoffset() == timedelta(hours=-4)
    assert start.astimezone(timezone.utc) - stop.astimezone(timezone.utc) == timedelta(hours=6)
    assert b"DTSTART;TZID=America/New_York:20260308T010000\r\n" in raw
    assert b"DTSTART;TZID=America/New_York:20260308T080000\r\n" in raw
    zone = Calendar.from_ical(raw).walk("VTIMEZONE")[0]
    offsets = {str(c.name): c.decoded("TZOFFSETTO") for c in zone.walk() if c is not zone}
    assert offsets == {"STANDARD": timedelta(hours=-5), "DAYLIGHT": timedelta(hours=-4)}


def test_calendar_writes_the_second_showing_of_a_repeated_time_in_utc():
    # Clocks fall back at 2:00 AM on 2026-11-01, so 1:30 AM happens twice. Six hours before
    # 7:30 AM EST is the second 1:30 AM (06:30 UTC); RFC 5545 would read a plain
    # "01:30 New York" as the first one (05:30 UTC), an hour early.
    h = handout(day="2026-11-01", clock="7:30 AM", sedation=True)
    stop = h.plan.moments["stop_solids"]
    assert stop.fold == 1
    assert json.loads(render_json(h))["moments"]["stop_solids"] == "2026-11-01T01:30:00-05:00"
    raw = render_ics(h)
    assert b"DTSTART:20261101T063000Z\r\n" in raw
    assert b"DTSTART;TZID=America/New_York:20261101T053000\r\n" in raw  # clear liquids
    event = events_by_summary(Calendar.from_ical(raw))[f"Stop eating: {TITLE}"]
    assert event.start == datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)


def test_calendar_is_byte_identical_with_source_date_epoch(monkeypatch):
    # UIDs are keyed with the clinic's calendar key: without one they are random.
    keyed = dataclasses.replace(load_site(SITE), calendar_key=b"a clinic secret of some length")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    first = render_ics(handout(site=keyed, sedation=True, medications=["Eliquis"]))
    second = render_ics(handout(site=keyed, sedation=True, medications=["Eliquis"]))
    assert first == second
    assert b"DTSTAMP:20260101T000000Z\r\n" in first
    other = render_ics(
        handout(site=keyed, patient="Ben Ode", sedation=True, medications=["Eliquis"])
    )
    uids = {str(e["UID"]) for e in Calendar.from_ical(first).walk("VEVENT")}
    assert uids.isdisjoint(str(e["UID"]) for e in Calendar.from_ical(other).walk("VEVENT"))


def test_calendar_is_stamped_now_without_source_date_epoch(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    # A visit two years on: on the real clock, a December 2026 visit is already over.
    stamps = {e.decoded("DTSTAMP") for e in calendar_of(handout(day="2028-12-07")).walk("VEVENT")}
    (stamp,) = stamps
    assert abs(datetime.now(timezone.utc) - stamp) < timedelta(minutes=5)


def test_bad_source_date_epoch_is_named(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH: 'yesterday'"):
        render_ics(handout())


def _unfolded(raw: bytes) -> list[str]:
    """Content lines read the RFC 5545 way, without icalendar: a second, independent reader."""
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines), "lines are folded at 75 octets"
    assert not re.search(rb"(?<!\r)\n", raw), "every line ends with CRLF"
    return raw.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")[:-1]


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: {"n": "\n", "N": "\n"}.get(m[1], m[1]), value)


@pytest.mark.parametrize("value", MARKUP)
def test_markup_in_values_comes_out_literally(value):
    note = f"{value}\nSecond line & more"
    h = handout(patient=value, clinician=value, note=note)
    text_lines = render_text(h).split("\n")
    assert f"Patient: {value}" in text_lines
    assert f"Your clinician: {value}" in text_lines
    assert value in text_lines and "Second line & more" in text_lines
    data = json.loads(render_json(h))
    assert (data["patient"], data["clinician"]) == (value, value)
    raw = render_ics(h)
    procedure = events_by_summary(Calendar.from_ical(raw))[TITLE]
    description = str(procedure["DESCRIPTION"])
    assert f"With {value}." in description
    assert description.endswith(f"\n{value}\nSecond line & more")
    # The same text read back without icalendar, straight from the escaped content lines.
    lines = _unfolded(raw)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    begins = [line for line in lines if line.startswith("BEGIN:")]
    assert len(begins) == len([line for line in lines if line.startswith("END:")])
    descriptions = [_unescape(line[12:]) for line in lines if line.startswith("DESCRIPTION:")]
    assert description in descriptions
    # The patient's name is not in any event: calendars are synced and shared.
    assert all(value not in _unescape(line) for line in lines if line.startswith("SUMMARY"))


def test_calendar_wording_comes_from_the_sites_templates(tmp_path):
    # Format 2: the procedure's and the medicines' events are worded here (a moment's event
    # is worded in the set).
    wording = builtin_calendar_yaml()
    wording["en"]["procedure"]["summary"] = "Your visit ({{ set.title }})"
    wording["en"]["procedure"]["description"] = "Ends {{ moments.end | when }}."
    wording["reminders"] = {"procedure": {"minutes_before": 45}}
    (tmp_path / "calendar.yaml").write_text(yaml.safe_dump(wording), encoding="utf-8")
    h = handout(site=bare_site(templates_dir=tmp_path), sedation=True)
    events = events_by_summary(calendar_of(h))
    visit = events[f"Your visit ({TITLE})"]
    (alarm,) = visit.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(minutes=45)
    # formats.yaml still comes from the built-in folder, so times read as in the handout.
    assert "Thursday, December 3 at 8:30 AM" in str(visit["DESCRIPTION"])


def test_calendar_wording_problems_are_reported_together(tmp_path):
    wording = builtin_calendar_yaml()
    del wording["en"]["last_dose"]
    wording["en"]["procedure"]["summary"] = "{{ set.title"
    wording["reminders"] = {"lunch": {"minutes_before": 5}, "procedure": {"minutes_before": -1}}
    path = tmp_path / "calendar.yaml"
    path.write_text(yaml.safe_dump(wording), encoding="utf-8")
    with pytest.raises(InstructionError) as caught:
        render_ics(handout(site=bare_site(templates_dir=tmp_path)))
    message = str(caught.value)
    assert f"{path}:" in message
    for expected in ("en.last_dose: is missing", "en.procedure.summary: template error", "lunch"):
        assert expected in message
    assert "reminders.procedure: give minutes_before" in message


def test_calendar_wording_may_not_use_the_patients_name(tmp_path):
    wording = builtin_calendar_yaml()
    wording["en"]["procedure"]["summary"] = "{{ visit.patient }}: {{ set.title }}"
    path = tmp_path / "calendar.yaml"
    path.write_text(yaml.safe_dump(wording), encoding="utf-8")
    with pytest.raises(InstructionError, match=r"en\.procedure\.summary: template error.*patient"):
        render_ics(handout(site=bare_site(templates_dir=tmp_path)))


@pytest.mark.parametrize("procedure", built_in_sets())
def test_calendar_wording_is_plain(procedure):
    cal = calendar_of(handout(procedure, sedation=None, medications=["Eliquis", "warfarin"]))
    lines = [str(e["DESCRIPTION"]) for e in cal.walk("VEVENT")]
    assert grade(lines) <= 6.0


ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]


@settings(max_examples=40, deadline=None)
@given(
    day=st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    minute=st.integers(0, 24 * 60 - 1),
    zone=st.sampled_from(ZONES),
)
def test_every_rendition_carries_the_plans_instants(day, minute, zone):
    site = bare_site(tz=ZoneInfo(zone))
    try:
        h = handout(day=day, clock=time(minute // 60, minute % 60), site=site, sedation=True)
    except VisitError:
        return  # a time the clocks skip: refused before any rendition is made
    moments = h.plan.moments
    for name, text in json.loads(render_json(h))["moments"].items():
        parsed = datetime.fromisoformat(text)
        # Compare instants: Python never calls a time the clocks show twice equal to one in
        # another zone, whatever the offsets say.
        assert parsed.astimezone(timezone.utc) == moments[name].astimezone(timezone.utc)
        assert parsed.utcoffset() == moments[name].utcoffset()
    starts = {
        e.start.astimezone(timezone.utc)
        for e in calendar_of(h).walk("VEVENT")
        if isinstance(e.start, datetime)
    }
    for name in ("stop_solids", "stop_liquids", "arrive", "start", "activity_end"):
        if h.plan.late[name]:
            continue  # already past when made ("call us today" for a fast): no calendar event
        assert moments[name].astimezone(timezone.utc) in starts
