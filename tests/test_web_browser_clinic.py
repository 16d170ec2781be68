# ruff: noqa: F811 - the browser fixtures are imported from test_web_browser
"""The clinic's set editor in a real headless Chromium against a real `pars-docs serve`: the
text area's hints (the keys instruction-set.schema.json allows where the cursor is, with its
descriptions, used from the keyboard alone) and the plain form for the common changes to a
built-in set (a number with its source, a line added or taken out, a clinic paragraph),
each written into the clinic's `extends` file, checked, previewed, saved and audited.
axe-core finds nothing; screenshots at 1366, 800 and 320 px and 200% zoom."""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from helpers import DATA, start_desk
from test_web_browser import (  # noqa: F401 - fixtures
    SIZES,
    axe_violations,
    browser,
    downloads,
    preview_passes,
    shot,
    sideways,
    sized,
    wait_for,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "instructions" / "instruction-set.schema.json").read_text())


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    """A desk whose site has the example clinic's folder and an audit trail."""
    folder = tmp_path_factory.mktemp("clinic-form-site")
    sets = folder / "instructions"
    sets.mkdir()
    for path in (ROOT / "docs" / "examples" / "clinic" / "instructions").glob("*.yaml"):
        shutil.copy(path, sets)
    site = folder / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8")
        + "\ninstructions_dir: instructions\naudit: audit.sqlite\n",
        encoding="utf-8",
    )
    process, address = start_desk(tmp_path_factory.mktemp("clinic-form-tmp"), site=site)
    yield address, sets, folder / "audit.sqlite"
    process.terminate()
    log = process.communicate(timeout=30)[1]
    assert "Traceback" not in log


def put_cursor(driver, line_text: str, column: int | None = None) -> None:
    """The text area's cursor on the line that reads ``line_text``, moved there with a key
    (as the arrow keys would), so the hints follow."""
    text = driver.find_element(By.ID, "text")
    driver.execute_script(
        "const t = arguments[0], at = t.value.indexOf(arguments[1]);"
        "const end = at + (arguments[2] === null ? arguments[1].length : arguments[2]);"
        "t.focus(); t.setSelectionRange(end, end);",
        text,
        line_text,
        column,
    )
    text.send_keys(Keys.SHIFT)  # a key press, without changing the text


def hints_for(driver, where: str):
    WebDriverWait(driver, 20).until(lambda d: where in d.find_element(By.ID, "hint-where").text)
    return {
        b.get_attribute("data-key"): b.find_element(By.XPATH, "..").text
        for b in driver.find_elements(By.CSS_SELECTOR, "#hints .insert-key")
    }


def test_the_hints_follow_the_cursor_with_the_schemas_words(clinic, browser, sized):
    address, sets, _ = clinic
    browser.get(address + "clinic/pars-defect-injection.yaml")
    preview_passes(browser)
    # The top of the file: every key of a set, each with the schema's description.
    keys = hints_for(browser, "Keys allowed at the top of the file")
    assert set(keys) == set(SCHEMA["properties"]) - {"$schema"}
    assert SCHEMA["properties"]["bleeding_risk"]["description"] in keys["bleeding_risk"]
    assert "(needed)" in keys["timing"] and "(needed)" not in keys["slots"]
    # Inside a timing entry: the keys of a moment, worded as the schema words them.
    put_cursor(browser, "    hours: 8")
    keys = hints_for(browser, "timing.stop_solids")
    entry = SCHEMA["$defs"]["timing_entry"]["properties"]
    assert {"source", "hours", "before", "show", "key"} <= set(keys)
    assert entry["show"]["description"] in keys["show"]
    assert "one of time, day" in keys["show"]
    # An entry of a list a clinic adds to: the keys of an item.
    put_cursor(browser, "        - text: >-")
    keys = hints_for(browser, "before.fasting.items.add[]")
    assert set(keys) == {"text", "when", "check", "holds"}
    # Slots: each place with where it prints.
    put_cursor(browser, "  call_us: Our", 2)
    keys = hints_for(browser, "slots")
    assert SCHEMA["$defs"]["slots"]["properties"]["call_us"]["description"] in keys["call_us"]
    for size in SIZES:
        sized(size)
        assert sideways(browser) == 0, size
        browser.execute_script("document.getElementById('hints-box').scrollIntoView()")
        shot(browser, f"clinic-hints-{size}.png")
    sized("1366")
    assert axe_violations(browser) == []

    # From the keyboard alone: Tab from the text passes the sedation box and Save, to the
    # hints; Enter writes the key on a new line and gives the cursor back to the text.
    put_cursor(browser, "    hours: 8")
    hints_for(browser, "timing.stop_solids")
    for _ in range(3):
        browser.switch_to.active_element.send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert "insert-key" in focused.get_attribute("class")
    name = focused.get_attribute("data-key")
    focused.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "text"
    value = browser.find_element(By.ID, "text").get_attribute("value")
    assert f"    hours: 8\n    {name}: " in value


def choose(driver, element_id: str, text: str | None = None, value: str | None = None):
    select = Select(driver.find_element(By.ID, element_id))
    if value is not None:
        select.select_by_value(value)
    else:
        select.select_by_visible_text(text)


def records(path: Path) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(path) as db:
        return db.execute("SELECT event, detail FROM records ORDER BY seq").fetchall()


def test_the_form_of_common_changes(clinic, browser, sized):
    address, sets, audit = clinic
    browser.get(address + "clinic")
    browser.find_element(By.ID, "change-link").click()
    choose(browser, "set", value="lumbar-tfesi")
    browser.find_element(By.CSS_SELECTOR, "#set-form button").click()
    wait_for(browser, "change-form")
    # Only the chosen kind's fields are shown (and sent).
    assert browser.find_element(By.ID, "change-number").is_displayed()
    assert not browser.find_element(By.ID, "change-slot").is_displayed()
    for size in SIZES:
        sized(size)
        assert sideways(browser) == 0, size
        assert axe_violations(browser) == [], size
        shot(browser, f"clinic-change-{size}.png")
    sized("1366")

    # Nothing chosen: each problem beside its field, focus on the first.
    browser.find_element(By.ID, "write-change").click()
    assert wait_for(browser, "number-error").text == "Choose one from the list."
    assert browser.find_element(By.ID, "value-error").is_displayed()
    assert browser.switch_to.active_element.get_attribute("id") == "number"
    assert axe_violations(browser) == []

    # A number, credited to the clinic's policy in its own words.
    choose(browser, "number", value="stop_solids.hours")
    browser.find_element(By.ID, "value").send_keys("8")
    choose(browser, "source", value="clinic-policy")
    browser.find_element(By.ID, "facts").send_keys(
        "Our clinic's own choice: no solid food for 8 hours before a shot with sedation."
    )
    browser.find_element(By.ID, "write-change").click()
    assert "Not saved yet" in wait_for(browser, "drafted").text
    preview_passes(browser)
    assert not (sets / "lumbar-tfesi.yaml").exists()  # nothing written before Save
    preview = " ".join(
        browser.find_element(By.ID, "preview-text").get_attribute("textContent").split()
    )
    assert "1:00 AM" in preview and "3:00 AM" not in preview  # 8 hours before 9:00, not 6
    assert axe_violations(browser) == []
    shot(browser, "clinic-change-drafted-1366.png")
    browser.find_element(By.ID, "save").click()
    assert wait_for(browser, "saved").is_displayed()
    written = yaml.safe_load((sets / "lumbar-tfesi.yaml").read_text(encoding="utf-8"))
    assert written["extends"]["set"] == "lumbar-tfesi"
    assert written["timing"] == {"stop_solids": {"hours": 8, "source": "clinic-policy"}}
    assert written["sources"][0]["add_facts"].startswith("Our clinic's own choice")
    assert ("set-edited", "lumbar-tfesi.yaml, written by the form of common changes") in (
        records(audit)
    )

    # A line taken out and a clinic paragraph, laid over the file the clinic has already.
    before = (sets / "pars-defect-injection.yaml").read_text(encoding="utf-8")
    browser.get(address + "clinic/change?set=pars-defect-injection")
    browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=slot]").click()
    assert browser.find_element(By.ID, "change-slot").is_displayed()
    choose(browser, "slot", value="before")
    browser.find_element(By.ID, "slot_text").send_keys("Parking is free in lot B.")
    browser.find_element(By.ID, "write-change").click()
    wait_for(browser, "drafted")
    preview_passes(browser)
    text = browser.find_element(By.ID, "text").get_attribute("value")
    assert text.startswith("# The example clinic's changes")  # its opening comments kept
    assert yaml.safe_load(text)["slots"] == {
        "call_us": yaml.safe_load(before)["slots"]["call_us"],
        "before": "Parking is free in lot B.",
    }
    browser.find_element(By.ID, "save").click()
    assert wait_for(browser, "saved").is_displayed()
    browser.get(address + "clinic/change?set=pars-defect-injection")
    browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=remove]").click()
    choose(browser, "remove_item", value="before.bring|1")
    browser.find_element(By.ID, "write-change").click()
    wait_for(browser, "drafted")
    text = browser.find_element(By.ID, "text").get_attribute("value")
    assert yaml.safe_load(text)["before"]["bring"] == {"items": {"remove": [1]}}
