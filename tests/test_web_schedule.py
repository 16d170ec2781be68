"""Filling the desk's form from the schedule: the site names a FHIR server (the same real
server on loopback the EHR tests start), the desk lists today's and tomorrow's appointments,
filtered by clinician, and fills the form from one: the patient, the record number, the
date and time on the clinic's clock, the clinician, the procedure by code map and the
medicines from the chart."""

import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from helpers import DATA

from pars_docs import load_site
from pars_docs.web.server import build

BASE = "http://127.0.0.1:8765"
NY = ZoneInfo("America/New_York")


def load_chart(server, start: datetime) -> None:
    """tests/data/fhir/chart/chart.json's resources on the server, its appointment at
    ``start``."""
    bundle = json.loads((DATA / "fhir" / "chart" / "chart.json").read_text(encoding="utf-8"))
    for entry in bundle["entry"]:
        resource = json.loads(
            json.dumps(entry["resource"]).replace("http://example.org/fhir/Patient/", "Patient/")
        )
        if resource["resourceType"] == "Appointment":
            resource["start"] = start.isoformat().replace("+00:00", "Z")
            resource["end"] = (start + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
            for participant in resource["participant"]:
                participant.setdefault("status", "accepted")
        server.put(resource)


@pytest.fixture
def desk(fhir_server, tmp_path):
    shutil.copy(DATA / "fhir" / "codes.yaml", tmp_path / "codes.yaml")
    site = tmp_path / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8")
        + f"\nprocedure_codes: codes.yaml\nfhir_server: {fhir_server.url}\n"
        f"fhir_token_file: {fhir_server.token_file}\n",
        encoding="utf-8",
    )
    app = build(load_site(site), "127.0.0.1", 8765, None, tmp_path / "work", warm=False)
    return app.test_client()


def tomorrow_at(hour: int) -> datetime:
    day = datetime.now(NY).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=NY).astimezone(timezone.utc)


def test_the_schedule_fills_the_form_from_an_appointment(fhir_server, desk):
    start = tomorrow_at(9)
    load_chart(fhir_server, start)
    page = desk.get("/schedule", base_url=BASE)
    assert page.status_code == 200, page.text
    assert "Appointments today and tomorrow" in page.text
    row = re.search(
        r'<tr>\s*<td data-label="When">([^<]+)</td>\s*<th scope="row">([^<]+)</th>', page.text
    )
    assert row.groups() == (f"{start.astimezone(NY).date().isoformat()} 09:00", "Amy V. Shaw")
    assert "Pars defect injection" in page.text and "1032702" in page.text
    fill = re.search(r'href="(/\?booking=[^"]+)"', page.text).group(1)
    form = desk.get(fill.replace("&amp;", "&"), base_url=BASE).text
    assert 'value="Amy V. Shaw"' in form
    assert 'value="1032702"' in form
    assert f'value="{start.astimezone(NY).date().isoformat()}"' in form
    assert 'value="09:00"' in form
    assert re.search(r'<option value="pars-defect-injection"[^>]*selected', form)
    assert "Dr Ronald Bone" in form
    # The medicines from the chart, one box each, as the table names them.
    boxes = re.findall(r'name="medication"[^>]*value="([^"]*)"', form)
    assert [b for b in boxes if b] == ["warfarin", "apixaban", "semaglutide", "metformin"]
    # Only GET requests reached the record system, with the site's token.
    seen = fhir_server.requests()
    assert seen and all(r["method"] == "GET" and r["authorized"] for r in seen)


def test_the_schedule_is_filtered_by_clinician(fhir_server, desk):
    load_chart(fhir_server, tomorrow_at(10))
    assert "Amy V. Shaw" in desk.get("/schedule?clinician=bone", base_url=BASE).text
    other = desk.get("/schedule?clinician=Ortiz", base_url=BASE).text
    assert "Amy V. Shaw" not in other
    assert "No appointments today or tomorrow for “Ortiz”." in other


def test_an_appointment_after_tomorrow_is_not_listed(fhir_server, desk):
    load_chart(fhir_server, tomorrow_at(10) + timedelta(days=2))
    page = desk.get("/schedule", base_url=BASE).text
    assert "Amy V. Shaw" not in page and "No appointments today or tomorrow." in page


def test_a_server_that_fails_is_said_in_the_page(fhir_server, desk):
    load_chart(fhir_server, tomorrow_at(10))
    fhir_server.faults(status=500, count=20)
    page = desk.get("/schedule", base_url=BASE)
    assert page.status_code == 502
    assert "The schedule could not be read from the clinic’s record system." in page.text
    assert "Traceback" not in page.text


def test_a_booking_from_another_session_is_not_given(fhir_server, desk, tmp_path):
    load_chart(fhir_server, tomorrow_at(11))
    page = desk.get("/schedule", base_url=BASE).text
    fill = re.search(r'href="/\?booking=([^"]+)"', page).group(1)
    other = desk.application.test_client()  # another browser: its own session
    assert other.get(f"/?booking={fill}", base_url=BASE).status_code == 404


def test_without_a_server_there_is_no_schedule(tmp_path):
    app = build(load_site(DATA / "site-ny.yaml"), "127.0.0.1", 8765, None, tmp_path, warm=False)
    client = app.test_client()
    assert client.get("/schedule", base_url=BASE).status_code == 404
    assert ">Schedule<" not in client.get("/", base_url=BASE).text
