"""The procedures written in format 2 say, on the patient's own dates, what their sources say.

Each test makes a handout as a clinic would (three medicines, the site's time zone) and reads
its JSON timeline and text, so a change to a number in a set, or to how moments are counted,
shows here as a wrong date for a patient.
"""

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from helpers import DATA, built_in_sets, squash

from pars_docs import make_handout

SITE = DATA / "site-ny.yaml"  # America/New_York; the clocks change on Sunday, March 8, 2026
CLINIC = Path(__file__).parents[1] / "docs" / "examples" / "clinic" / "site.yaml"
MEDS = ["Eliquis", "Advil", "aspirin"]
PRIVATE = re.compile("[\ue000\ue001]")


def handout(procedure, day="2026-03-09", clock="8:00 AM", site=SITE, **kw):
    kw.setdefault("medications", MEDS)
    return make_handout(procedure, "Ana Díaz", day, clock, "Dr. Lee", site=site, **kw)


def timeline(h):
    return json.loads(h.render("json"))


def text(h):
    return squash(PRIVATE.sub("", h.render("text").decode()))


def restarts(data):
    return {k["medicine"]: k["at"] for k in data["key_times"] if k["action"] == "restart"}


def test_scs_trial_leads_out_at_a_visit_a_week_later_and_blood_thinners_wait_for_it():
    h = handout("scs-trial")
    data = timeline(h)
    moments = data["moments"]
    assert moments["leads_out"] == "2026-03-16T08:00:00-04:00"  # same clock time, 7 days on
    assert moments["shower_ok"] == "2026-03-17"  # the day after, a day with no clock time
    # Eliquis and aspirin restart no earlier than the lead removal visit: the first whole
    # day after it, so no morning dose comes before the leads are out at 8:00 AM.
    assert restarts(data)["apixaban"] == "2026-03-17"
    assert restarts(data)["aspirin"] == "2026-03-17"
    restart_line = next(k for k in data["key_times"] if k["action"] == "restart")
    leads_line = next(k for k in data["key_times"] if k["action"] == "leads_out")
    assert data["key_times"].index(leads_line) < data["key_times"].index(restart_line)
    # Charging every night at 9:00 PM, the last the night before the leads come out.
    charge = data["repeated"]["charge"]
    assert charge["first"] == "2026-03-09T21:00:00-04:00"
    assert charge["last"] == "2026-03-15T21:00:00-04:00"
    assert charge["count"] == 7
    words = text(h)
    assert "Do not start your blood thinner again while the leads are in." in words
    assert "every night at 9:00 PM, from Monday, March 9 to Sunday, March 15" in words


def test_medial_branch_block_pain_diary_rows_are_clock_times_after_the_end():
    h = handout("medial-branch-block")
    data = timeline(h)
    assert data["moments"]["end"] == "2026-03-09T08:30:00-04:00"  # 30 minutes after the start
    assert data["moments"]["diary"] == [
        f"2026-03-09T{clock}:00-04:00"
        for clock in ("08:45", "09:00", "09:30", "10:30", "12:30", "14:30")
    ]
    table = h.document.find(".//table")
    assert table is not None, "the diary is a table"
    words = text(h)
    for clock in ("8:45 AM", "9:00 AM", "9:30 AM", "10:30 AM", "12:30 PM", "2:30 PM"):
        assert clock in words


def test_lumbar_fusion_washes_visits_and_nsaids():
    h = handout("lumbar-fusion")
    data = timeline(h)
    moments = data["moments"]
    assert moments["arrive"] == "2026-03-09T06:00:00-04:00"  # 2 hours before the start
    assert moments["chg_night"] == "2026-03-08T21:00:00-04:00"  # 9:00 PM the night before
    assert moments["chg_morning"] == "2026-03-09T04:00:00-04:00"  # 2 hours before arrival
    assert (moments["visit_2w"], moments["visit_6w"], moments["visit_3m"]) == (
        "2026-03-23",
        "2026-04-20",
        "2026-06-09",  # 3 calendar months
    )
    assert moments["lifting_end"] == "2026-04-20"
    assert restarts(data)["ibuprofen"] == "2026-06-09"  # no NSAIDs until 3 months after
    visits = [k["action"] for k in data["key_times"] if k["action"].startswith("visit_")]
    assert visits == ["visit_2w", "visit_6w", "visit_3m"]
    words = text(h)
    assert (
        "Do not lift more than 10 pounds (4.5 kilograms) until at least Monday, April 20." in words
    )
    assert "Do not take NSAIDs, such as Advil or Aleve, until Tuesday, June 9." in words


def test_lumbar_fusion_without_nsaids_listed_still_says_when_they_may_start():
    words = text(handout("lumbar-fusion", medications=[]))
    assert "Do not take NSAIDs, such as Advil or Aleve, until Tuesday, June 9." in words


def test_colonoscopy_example_clinic_prep_times_on_its_own_clock():
    h = handout("colonoscopy-split-prep", site=CLINIC, medications=[])
    moments = timeline(h)["moments"]
    assert moments["low_fiber"] == "2026-03-06"  # from 3 days before, a day
    assert moments["clear_liquids_day"] == "2026-03-08"  # all the day before
    assert moments["prep_first"] == "2026-03-08T18:00:00-05:00"  # 6:00 PM the day before
    assert moments["arrive"] == "2026-03-09T07:00:00-05:00"  # 60 minutes before
    assert moments["prep_second"] == "2026-03-09T02:00:00-05:00"  # 5 hours before arrival
    assert moments["nothing_by_mouth"] == "2026-03-09T05:00:00-05:00"  # 2 hours before arrival
    words = text(h)
    assert "Cedar Valley Clinic" in words
    assert "Set an alarm." in words
    assert "Your test is in the afternoon" not in words


def test_colonoscopy_second_half_counts_elapsed_hours_across_the_clock_change():
    # Sunday, March 8, 2026: Chicago's clocks go from 2:00 to 3:00 AM. Five hours before a
    # 7:00 AM arrival is 1:00 AM on the old clock.
    moments = timeline(handout("colonoscopy-split-prep", "2026-03-08", site=CLINIC))["moments"]
    assert moments["arrive"] == "2026-03-08T07:00:00-05:00"
    assert moments["prep_second"] == "2026-03-08T01:00:00-06:00"
    assert moments["prep_first"] == "2026-03-07T18:00:00-06:00"


def test_colonoscopy_afternoon_start_takes_the_second_half_in_the_morning():
    h = handout("colonoscopy-split-prep", clock="1:30 PM", site=CLINIC)
    assert timeline(h)["moments"]["prep_second"] == "2026-03-09T07:30:00-05:00"
    words = text(h)
    assert "Your test is in the afternoon, so you take the second half in the morning." in words
    assert "Set an alarm." not in words


@pytest.mark.parametrize(
    "procedure,site",
    [*((p, SITE) for p in built_in_sets()), ("colonoscopy-split-prep", CLINIC)],
)
def test_every_computed_moment_is_in_the_json_key_times(procedure, site):
    """A reminder system finds every moment the plan computed in ``key_times``, with its
    ISO time (or its date for a day-only moment): page 1's lines first, then the others."""
    data = timeline(handout(procedure, site=site, as_of=datetime(2026, 2, 1, 9, 0)))
    listed = {k["action"]: k for k in data["key_times"] if k["medicine"] is None}
    for name, moment in data["moments"].items():
        assert name in listed, (procedure, name)
        first = moment[0] if isinstance(moment, list) else moment
        # A line may give only the day of a moment computed with a clock time.
        assert listed[name]["at"] in (first, first[:10]), (procedure, name)
    on_page = [k["on_page_1"] for k in data["key_times"]]
    assert on_page == sorted(on_page, reverse=True)  # page 1's lines come first
    for name, series in data.get("repeated", {}).items():
        assert listed[name]["until"] == series["last"]


def test_colonoscopy_stops_iron_7_days_before_by_the_sets_own_rule():
    """The table keeps iron for spine procedures; the clinic's colonoscopy set pauses it
    (medicine_rules), and the medicine line, the key times and the JSON follow the rule."""
    h = handout("colonoscopy-split-prep", site=CLINIC, medications=["iron pills"])
    data = timeline(h)
    (iron,) = [m for m in data["medicines"] if m["generic"] == "ferrous sulfate"]
    assert (iron["action"], iron["last_dose"], iron["restart"]) == (
        "stop",
        "2026-03-01",  # no dose March 2 to 8, none on the day of the colonoscopy
        "2026-03-10",
    )
    assert "Take your last iron pills (ferrous sulfate) on Sunday, March 1." in text(h)
    spine = timeline(handout("lumbar-tfesi", medications=["iron pills"]))
    (kept,) = spine["medicines"]
    assert kept["action"] == "keep"
