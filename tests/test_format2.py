"""Format 2 of instruction sets as a clinic uses it: named moments, visits of their own,
repeated tasks, tables, declared conditions and medicine rules, and `check` finding every
problem at its line. The set is tests/data/format2/trial-sample.yaml (test numbers only)."""

import io
import json
from datetime import date
from pathlib import Path

import pikepdf
import pytest
from helpers import DATA
from icalendar import Calendar
from test_tagging import elements

from pars_docs.cli import cli
from pars_docs.errors import UsageError, VisitError
from pars_docs.handout import Engine
from pars_docs.load.site import load_site
from pars_docs.plan.moments import add_months
from pars_docs.read.visit import make_visit

SET = DATA / "format2" / "trial-sample.yaml"


@pytest.fixture
def site_file(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(
        (DATA / "site-ny.yaml").read_text() + f"\ninstructions_dir: {SET.parent}\n",
        encoding="utf-8",
    )
    return path


def made(site_file, day="2027-03-10", clock="2:00 PM", **kw):
    engine = Engine(load_site(site_file))
    return engine.prepare(make_visit("trial-sample", "Ana", day, clock, "Dr. Lee", **kw))


def wall(moment):
    return moment.strftime("%Y-%m-%d %H:%M")


def test_a_visit_of_its_own_keeps_its_clock_time_across_the_clock_change(site_file):
    # Clocks in New York spring forward on 2027-03-14, between the start and the removal.
    plan = made(site_file).plan
    assert wall(plan.moments["leads_out"]) == "2027-03-17 14:00"
    assert plan.moments["leads_out"].utcoffset() != plan.moments["start"].utcoffset()
    # A day with no clock time, counted from the visit, is a date.
    assert plan.moments["shower_ok"] == date(2027, 3, 18)
    assert plan.moments["low_fiber"] == date(2027, 3, 7)
    assert wall(plan.moments["first_dose"]) == "2027-03-09 18:00"


def test_calendar_months_are_clamped_to_the_end_of_the_month():
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)


def test_a_clock_time_the_clocks_skip_is_refused_naming_the_moment(site_file, tmp_path):
    folder = tmp_path / "sets"
    folder.mkdir()
    text = SET.read_text().replace('at: "18:00"', 'at: "02:30"')
    (folder / "trial-sample.yaml").write_text(text)
    site = tmp_path / "site2.yaml"
    site.write_text((DATA / "site-ny.yaml").read_text() + f"\ninstructions_dir: {folder}\n")
    with pytest.raises(VisitError) as caught:
        made(site, day="2027-03-15", clock="9:00 AM")
    assert "timing.first_dose.at: 02:30 on 2027-03-14 does not exist" in caught.value.message


def test_an_afternoon_start_is_a_condition_of_its_own(site_file):
    afternoon = made(site_file).render("text").decode()
    morning = made(site_file, clock="9:00 AM").render("text").decode()
    assert "Eat a light lunch first." in afternoon
    assert "Eat a light lunch first." not in morning


def test_a_declared_option_is_set_by_the_visit_and_checked(site_file, runner, tmp_path):
    assert (
        "Check your blood sugar"
        in made(site_file, options={"diabetic": True}).render("text").decode()
    )
    assert "Check your blood sugar" not in made(site_file).render("text").decode()
    with pytest.raises(UsageError, match="has no option 'inpatient'; its options: sedation"):
        made(site_file, options={"inpatient": True})
    out = tmp_path / "h.txt"
    args = ["make", "trial-sample", "--patient", "Ana", "--date", "2027-03-10", "--time"]
    args += ["9:00", "--clinician", "Dr. Lee", "--site", str(site_file), "--format", "text"]
    result = runner.invoke(cli, [*args, "--option", "diabetic=yes", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Check your blood sugar" in out.read_text()
    result = runner.invoke(cli, [*args, "--option", "diabetic=maybe", "-o", str(out)])
    assert result.exit_code == 2
    assert "diabetic: 'maybe' is not yes or no" in result.output


def test_a_repeated_task_is_one_key_time_and_one_recurring_event(site_file):
    handout = made(site_file)
    text = handout.render("text").decode()
    lines = [line for line in text.splitlines() if "Charge your" in line]
    assert lines == [
        "[ ] Wednesday, March 10 at 9:00 PM – Tuesday, March 16 at 9:00 PM: Charge your"
    ]
    assert "every night at 9:00 PM from Wednesday, March 10 to Tuesday, March 16" in " ".join(
        text.split()
    )
    calendar = Calendar.from_ical(handout.render("ics"))
    charge = [e for e in calendar.walk("VEVENT") if "Charge" in str(e["SUMMARY"])]
    assert len(charge) == 1
    rule = charge[0]["RRULE"]
    assert rule["FREQ"] == ["DAILY"] and rule["INTERVAL"] == [1]
    # The last time is the night before the removal, 9:00 PM EDT: 01:00 UTC the next day.
    assert rule["UNTIL"][0].strftime("%Y%m%dT%H%M%SZ") == "20270317T010000Z"
    timeline = json.loads(handout.render("json"))
    assert timeline["repeated"]["charge"]["count"] == 7
    assert timeline["repeated"]["ice_every"]["last"] == "2027-03-12T13:00:00-05:00"


def test_json_gives_every_moment_with_its_time_or_its_day(site_file):
    moments = json.loads(made(site_file).render("json"))["moments"]
    assert moments["leads_out"] == "2027-03-17T14:00:00-04:00"
    assert moments["shower_ok"] == "2027-03-18"
    assert moments["visit_3_months"] == "2027-06-10T14:00:00-04:00"
    assert moments["diary"][0] == "2027-03-10T15:15:00-05:00"
    assert list(moments)[:3] == ["start", "end", "arrive"]


def test_a_visit_of_its_own_is_a_calendar_event_with_a_reminder(site_file):
    calendar = Calendar.from_ical(made(site_file).render("ics"))
    event = next(e for e in calendar.walk("VEVENT") if "Leads out" in str(e["SUMMARY"]))
    assert event["DTSTART"].dt.strftime("%Y-%m-%d %H:%M") == "2027-03-17 14:00"
    alarm = event.walk("VALARM")[0]
    assert alarm["TRIGGER"].dt.total_seconds() == -3600
    assert str(event["LOCATION"]).startswith("Riverside Spine")


def test_the_pain_diary_is_a_tagged_table_with_column_headers(site_file):
    pdf = made(site_file).render("pdf")
    with pikepdf.open(io.BytesIO(pdf)) as document:
        tables = [el for role, el in elements(document) if role == "Table"]
        diary = next(t for t in tables if len(list(t.K)) == 5)
        head, *rows = list(diary.K)
        assert [str(c.S) for c in head.K] == ["/TH", "/TH"]
        assert [str(c.A.Scope) for c in head.K] == ["/Column", "/Column"]
        assert all([str(c.S) for c in row.K] == ["/TD"] for row in rows)


def test_the_pain_diary_prints_plain_columns_in_text(site_file):
    text = made(site_file).render("text").decode()
    assert "Time     Your pain (0 to 10)\n-------  -------------------\n3:15 PM  ____" in text


def test_medicine_rules_move_restarts_to_the_moment(site_file):
    handout = made(site_file, medications=["Eliquis", "ibuprofen"])
    by_name = {m.generic: m for m in handout.plan.medicines}
    # The table restarts both the day after; the set keeps them until the leads are out
    # (2:00 PM on March 17), so the first whole day after that: March 18.
    assert by_name["apixaban"].restart == date(2027, 3, 18)
    assert by_name["ibuprofen"].restart == date(2027, 3, 18)
    key_times = json.loads(handout.render("json"))["key_times"]
    restarts = [k for k in key_times if k["action"] == "restart"]
    assert {k["at"] for k in restarts} == {"2027-03-18"}


def check_output(runner, tmp_path, edits):
    text = SET.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "trial-sample.yaml"
    path.write_text(text)
    result = runner.invoke(cli, ["check", str(path)])
    return result, path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_check_names_an_unknown_moment_a_cycle_and_a_contradiction_at_their_lines(runner, tmp_path):
    result, path = check_output(
        runner,
        tmp_path,
        [
            ("    after: leads_out\n    day_only", "    after: leads_uot\n    day_only"),
            (
                "  leads_out:\n    days: 7\n    after: start",
                "  leads_out:\n    days: 7\n    after: visit_3_months",
            ),
            (
                "  visit_3_months:\n    months: 3\n    after: start",
                "  visit_3_months:\n    months: 3\n    after: leads_out",
            ),
            ("    restart_not_before: leads_out\n", "    restart_not_before: start\n"),
        ],
    )
    assert result.exit_code == 1
    out = result.output
    unknown = line_of(path, "after: leads_uot")
    assert (
        f"{path}:{unknown}: timing.shower_ok.after: unknown moment 'leads_uot'; the set "
        "defines: start, end, arrive, low_fiber, first_dose, stop_solids, leads_out, "
        "shower_ok, visit_3_months" in out
    )
    cycle = line_of(path, "  leads_out:")
    assert (
        f"{path}:{cycle}: timing.leads_out: the moments depend on each other: leads_out → "
        "visit_3_months → leads_out" in out
    )
    hold = line_of(path, "Do not start your blood thinner again")
    assert f"{path}:{hold}: before.medicines.items[0]: says not to take anticoagulant " in out
    # Every problem at once: the schema's, the moments', the rules'.
    assert out.count("pars-docs: error:") >= 3


def test_check_finds_numbers_typed_as_words_with_the_format_2_way(runner, tmp_path):
    result, path = check_output(
        runner,
        tmp_path,
        [
            ("Bring this handout.", "Come five hours early."),
            ("Eat a light lunch first.", "Come back on day 7."),
            ("Pain that has lasted a long time.", "Do not lift over 10 lb."),
        ],
    )
    assert result.exit_code == 1
    assert "'five hours' is typed into the wording (a length of time); make it a moment" in (
        result.output
    )
    line = line_of(path, "Come back on day 7.")
    assert (
        f"{path}:{line}: day_of.arrive.items[1].text: 'day 7' is typed into the wording "
        "(a day number)" in result.output
    )
    assert "'10 lb' is typed into the wording (a weight); make it a quantity" in result.output


def test_check_says_in_plain_words_when_wording_names_an_unknown_moment(runner, tmp_path):
    result, path = check_output(
        runner, tmp_path, [("{{ moments.shower_ok | day }}", "{{ moments.shower_okay | day }}")]
    )
    assert result.exit_code == 1
    line = line_of(path, "moments.shower_okay")
    assert (
        f"{path}:{line}: after.charge.items[2]: unknown moment 'shower_okay' in wording; the "
        "set defines: start, end" in result.output
    )
    assert "dict object" not in result.output


def test_check_tells_an_old_form_author_what_to_change(runner, tmp_path):
    old = tmp_path / "old-set.yaml"
    old.write_text(
        "id: old-set\ntitle: Old\nversion: '1.0'\nreviewed: '2026-01-01'\nlanguage: en\n"
        "bleeding_risk: low\nsources: [{id: s, title: S}]\n"
        "timing:\n  fasting:\n    solids: {hours: 6, before: start, source: s}\n"
        "    clear_liquids: {hours: 2, before: arrival, source: s}\n"
        "  arrive: {minutes_before: 30, source: s}\n"
        "  duration: {minutes_min: 1, minutes_max: 2, source: s}\n"
        "  activity_limits: {hours: 48, from: end, source: s}\n"
    )
    result = runner.invoke(cli, ["check", str(old)])
    assert result.exit_code == 1
    out = result.output
    assert f"{old}:1: (top level): this set is in the old form; write format: 2" in out
    assert (
        f"{old}:10: timing.fasting.solids: format 2 names each moment; write "
        "timing.stop_solids: {hours: 6, before: start, source: s, key: ..., late: ...}" in out
    )
    assert "timing.stop_liquids: {hours: 2, before: arrive" in out
    assert f"{old}:12: timing.arrive.minutes_before: write timing.arrive: {{minutes: 30" in out
    assert "write timing.activity_end: {hours: 48, after: end, source: s}" in out


def test_check_asks_an_item_that_holds_a_medicine_to_say_so(runner, tmp_path):
    result, path = check_output(
        runner,
        tmp_path,
        [
            (
                '      - "Get here by',
                '      - Do not take aspirin until you see us.\n      - "Get here by',
            )
        ],
    )
    assert result.exit_code == 1
    line = line_of(path, "Do not take aspirin until")
    assert (
        f"{path}:{line}: day_of.arrive.items[0]: these words keep a medicine from the patient "
        "until a moment; say which with holds:" in result.output
    )


@pytest.fixture
def two_sets_site(tmp_path):
    """A site whose sets are trial-sample (declares diabetic) and a built-in set (does not)."""
    folder = tmp_path / "sets"
    folder.mkdir()
    (folder / "trial-sample.yaml").write_text(SET.read_text(encoding="utf-8"), encoding="utf-8")
    builtin = Path(__file__).parents[1] / "instructions" / "lumbar-ilesi.yaml"
    (folder / "lumbar-ilesi.yaml").write_text(builtin.read_text(encoding="utf-8"), "utf-8")
    site = tmp_path / "site.yaml"
    site.write_text((DATA / "site-ny.yaml").read_text() + f"\ninstructions_dir: {folder}\n")
    return site


def batch_text(runner, site, tmp_path, name, text):
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    out = tmp_path / f"out-{name}"
    args = ["batch", str(source), "--site", str(site), "--jobs", "1", "--output-format", "text"]
    result = runner.invoke(cli, [*args, "--out-dir", str(out), "--verbose"])
    return result, out


def handout_texts(out):
    return {p.name.split("_")[-1]: p.read_text(encoding="utf-8") for p in out.glob("*.txt")}


ROW = "trial-sample,Ana {n},2027-03-10,9:00 AM,Dr. Lee,M{n}"


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "ndjson"])
def test_a_batch_column_named_like_a_declared_option_sets_it(runner, two_sets_site, tmp_path, fmt):
    cells = ["yes", "no", "", "1", "FALSE"]
    rows = [ROW.format(n=i).split(",") + [cell] for i, cell in enumerate(cells)]
    header = ["procedure", "patient", "date", "time", "clinician", "mrn", "Diabetic"]
    if fmt in ("csv", "tsv"):
        sep = "," if fmt == "csv" else "\t"
        text = "\n".join(sep.join(r) for r in [header, *rows]) + "\n"
    else:
        records = [dict(zip(header, r, strict=True)) for r in rows]
        if fmt == "json":
            text = json.dumps(records)
        else:
            text = "\n".join(json.dumps(r) for r in records) + "\n"
    result, out = batch_text(runner, two_sets_site, tmp_path, f"list.{fmt}", text)
    assert result.exit_code == 0, result.output
    texts = handout_texts(out)
    sugar = {name[1:-4]: "Check your blood sugar" in body for name, body in texts.items()}
    assert sugar == {"0": True, "1": False, "2": False, "3": True, "4": False}


def test_a_bad_option_cell_or_an_option_the_set_lacks_fails_only_its_row(
    runner, two_sets_site, tmp_path
):
    text = (
        "procedure,patient,date,time,clinician,mrn,diabetic,room\n"
        + ROW.format(n=0)
        + ",maybe,4\n"
        + "lumbar-ilesi,Ana 1,2027-03-10,9:00 AM,Dr. Lee,M1,yes,4\n"
        + "lumbar-ilesi,Ana 2,2027-03-10,9:00 AM,Dr. Lee,M2,,4\n"
        + ROW.format(n=3)
        + ",yes,4\n"
    )
    result, out = batch_text(runner, two_sets_site, tmp_path, "list.csv", text)
    assert result.exit_code == 1, result.output
    assert "row 2" in result.output and "diabetic: 'maybe' is not yes or no" in result.output
    assert "row 3" in result.output
    assert "diabetic: lumbar-ilesi has no option 'diabetic'" in result.output
    assert sorted(handout_texts(out)) == ["M2.txt", "M3.txt"]  # the room column is not read
    assert "Check your blood sugar" in handout_texts(out)["M3.txt"]
