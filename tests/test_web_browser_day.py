# ruff: noqa: F811 - the browser fixtures are imported from test_web_browser
"""The desk's day in a real headless Chromium against a real `pars-docs serve`: today's list
and a reprint, the preview's "Send to printer" (to the real cups-pdf queue when CUPS runs
here), and the upload page's code map, at 1366, 800 and 320 px and at 200% zoom, with
axe-core finding nothing and nothing scrolling sideways. Screenshots go to docs/images/."""

import os

import pytest
from helpers import DATA, FIXED_NOW, start_desk
from test_printing import cups_missing
from test_web_browser import (  # noqa: F401 - fixtures
    SIZES,
    axe_violations,
    browser,
    downloads,
    fill,
    shot,
    sideways,
    sized,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def day_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("day-site")
    site = folder / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8")
        + "\naudit: audit.sqlite\ntoday: today.sqlite\ntoday_key: today.key\n"
        "printers:\n  - queue: pars-docs-pdf\n    name: Front desk\n    duplex: true\n",
        encoding="utf-8",
    )
    tmp = tmp_path_factory.mktemp("day-tmp")
    process, address = start_desk(tmp, site=site, SOURCE_DATE_EPOCH=FIXED_NOW)
    yield address
    process.terminate()
    log = process.communicate(timeout=30)[1]
    assert "Traceback" not in log
    for value in ("Ana", "A-77", "Li Wei"):
        assert value not in log, log


def make(browser, address, patient, mrn):
    browser.get(address)
    fill(
        browser,
        procedure="Pars defect injection",
        patient=patient,
        mrn=mrn,
        date="12032026",
        time="0800AM",
        clinician="Dr. Sam Lee",
    )
    browser.find_element(By.CSS_SELECTOR, "#handout-form button[type=submit]").click()
    WebDriverWait(browser, 30).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".pages img"))
    )


def test_send_to_printer_from_the_preview(day_server, browser):
    make(browser, day_server, "Ana Moss", "A-77")
    send = browser.find_element(By.ID, "send")
    assert send.text == "Send to printer"
    reason = cups_missing()
    if reason and not os.environ.get("CI"):
        pytest.skip(reason)
    send.click()
    sent = WebDriverWait(browser, 60).until(EC.visibility_of_element_located((By.ID, "sent")))
    assert sent.text.startswith("Sent to Front desk (print job pars-docs-pdf-")
    assert axe_violations(browser) == []


@pytest.mark.parametrize("size", list(SIZES))
def test_the_days_pages_reflow(day_server, browser, sized, size):
    sized(size)
    make(browser, day_server, "Li Wei", "B-2417")
    assert sideways(browser) == 0
    assert axe_violations(browser) == []
    if size == "zoom200":
        shot(browser, "desk-preview-send-zoom200.png")
    browser.get(day_server + "today")
    assert browser.find_elements(By.CSS_SELECTOR, "#today tbody tr")
    assert sideways(browser) == 0  # the table scrolls in its own box
    assert axe_violations(browser) == []
    shot(browser, f"desk-today-{size}.png")
    search = browser.find_element(By.ID, "q")
    search.send_keys("B-2417")
    search.submit()
    WebDriverWait(browser, 20).until(EC.url_contains("q=B-2417"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#today tbody tr")
    assert rows and all("Li Wei" in row.text for row in rows)
    rows[0].find_element(By.XPATH, ".//button[text()='Reprint']").click()
    WebDriverWait(browser, 30).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".pages img"))
    )
    browser.get(day_server + "packet")
    browser.find_element(By.CSS_SELECTOR, "#code-map summary").click()
    browser.execute_script("document.getElementById('code-map').scrollIntoView()")
    assert sideways(browser) == 0
    assert axe_violations(browser) == []
    if size == "320":
        shot(browser, "desk-upload-codes-320.png")


@pytest.mark.parametrize("size", list(SIZES))
def test_a_failed_row_corrected_in_the_page(day_server, browser, sized, size, tmp_path):
    sized(size)
    listing = tmp_path / "tomorrow.csv"
    listing.write_text(
        "procedure,patient,date,time,clinician,mrn\n"
        "pars-defect-injection,Ana Moss,2026-12-03,08:00,Dr. Sam Lee,H-1\n"
        "pars-defect-injection,Ruth Lane,2026-13-03,09:00,Dr. Sam Lee,H-2\n",
        encoding="utf-8",
    )
    browser.get(day_server + "packet")
    browser.find_element(By.ID, "input").send_keys(str(listing))
    browser.find_element(By.CSS_SELECTOR, "#packet-form button[type=submit]").click()
    WebDriverWait(browser, 60).until(EC.presence_of_element_located((By.ID, "fix-3")))
    browser.find_element(By.CSS_SELECTOR, "#fix-3 summary").click()
    date = browser.find_element(By.ID, "fix-3-date")
    assert date.get_attribute("aria-invalid") == "true"
    assert date.rect["width"] >= 150
    assert sideways(browser) == 0
    assert axe_violations(browser) == []
    browser.execute_script("document.getElementById('fix-3').scrollIntoView()")
    if size in ("1366", "320"):
        shot(browser, f"desk-fix-row-{size}.png")
    date.clear()
    date.send_keys("2026-12-03")
    browser.find_element(By.XPATH, "//button[text()='Make row 3']").click()
    banner = WebDriverWait(browser, 60).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".ok-banner"))
    )
    assert banner.text == "Every row has its handout."
    assert axe_violations(browser) == []


@pytest.mark.parametrize("size", list(SIZES))
def test_the_schedule_fills_the_form(fhir_server, browser, sized, size, tmp_path):
    """The schedule from the real FHIR server, at each size: axe-core finds nothing, nothing
    scrolls sideways, and "Fill the form" fills it."""
    import shutil

    from test_web_schedule import load_chart, tomorrow_at

    load_chart(fhir_server, tomorrow_at(9))
    shutil.copy(DATA / "fhir" / "codes.yaml", tmp_path / "codes.yaml")
    site = tmp_path / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8")
        + f"\nprocedure_codes: codes.yaml\nfhir_server: {fhir_server.url}\n"
        f"fhir_token_file: {fhir_server.token_file}\n",
        encoding="utf-8",
    )
    (tmp_path / "tmp").mkdir()
    process, address = start_desk(tmp_path / "tmp", site=site, SOURCE_DATE_EPOCH=FIXED_NOW)
    try:
        sized(size)
        browser.get(address + "schedule")
        link = WebDriverWait(browser, 30).until(
            EC.presence_of_element_located((By.LINK_TEXT, "Fill the form"))
        )
        assert sideways(browser) == 0
        assert axe_violations(browser) == []
        if size in ("1366", "320"):
            shot(browser, f"desk-schedule-{size}.png")
        link.click()
        WebDriverWait(browser, 30).until(EC.presence_of_element_located((By.ID, "handout-form")))
        assert browser.find_element(By.ID, "patient").get_attribute("value") == "Amy V. Shaw"
        assert browser.find_element(By.ID, "medication-1").get_attribute("value") == "warfarin"
        assert axe_violations(browser) == []
    finally:
        process.terminate()
        process.communicate(timeout=30)
