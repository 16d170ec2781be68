"""The desk page driven end to end in a real headless Chromium, as a nurse and a scheduler
would use it, against a real `pars-docs serve`. Screenshots go to docs/images/.

Needs Debian's chromium and chromium-driver (.ci/run installs them). Selenium is given the
driver's path, so it never tries to download one.
"""

import io
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from helpers import DATA, FIXED_NOW, pdf_text, squash, start_desk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"

if not (CHROMIUM.exists() and DRIVER.exists()) and not os.environ.get("CI"):
    pytest.skip("needs Debian's chromium and chromium-driver", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server on a free loopback port; its private folder lives under ``tmp``."""
    tmp = tmp_path_factory.mktemp("server-tmp")
    # "Now" fixed before the visits the tests make, as for every other test.
    process, address = start_desk(tmp, SOURCE_DATE_EPOCH=FIXED_NOW)
    yield address
    process.terminate()
    log = process.communicate(timeout=30)[1]
    # Nothing about a patient in the log, and nothing left on disk.
    for value in ("Ana", "Zoë", "Bad Row", "1700", "A-77"):
        assert value not in log, log
    assert "Traceback" not in log
    assert list(tmp.iterdir()) == []


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--lang=en-US",
        "--window-size=1366,768",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "intl.accept_languages": "en-US",
        },
    )
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def downloaded(folder: Path, name: str, timeout: float = 20) -> Path:
    target = folder / name
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if target.exists() and not list(folder.glob("*.crdownload")):
            return target
        time.sleep(0.1)
    raise AssertionError(f"{name} was not downloaded: {list(folder.iterdir())}")


def shot(driver, name: str) -> None:
    """Save a screenshot to docs/images, unless the one there differs only by a few pixels
    (focus rings, rendering noise), so a test run leaves the checkout as it was."""
    from PIL import Image, ImageChops

    IMAGES.mkdir(parents=True, exist_ok=True)
    # A blinking caret would make every run's picture differ.
    driver.execute_script(
        "document.querySelectorAll('input, textarea')"
        ".forEach(e => e.style.caretColor = 'transparent')"
    )
    target = IMAGES / name
    taken = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    if target.exists():
        kept = Image.open(target).convert("RGB")
        if kept.size == taken.size:
            box = ImageChops.difference(kept, taken).getbbox()
            if box is None or (box[2] - box[0]) * (box[3] - box[1]) < 400:
                return
    taken.save(target, optimize=True)


def fill(driver, **values):
    """Type into the form with the keyboard, as a person would."""
    form = driver.find_element(By.ID, "handout-form")
    for name, value in values.items():
        field = form.find_element(By.ID, name)
        if field.tag_name == "select":
            Select(field).select_by_visible_text(value)
        else:
            field.clear()
            field.send_keys(value)


def test_fill_the_form_preview_and_download(server, browser, downloads):
    browser.get(server)
    fill(
        browser,
        procedure="Pars defect injection",
        patient="Ana Díaz",
        dob="1961-04-02",
        mrn="A-77",
        date="12032026",  # the native picker, typed as mm/dd/yyyy
        time="0800AM",
        clinician="Dr. Sam Lee",
        note="Bring your scans.",
    )
    assert browser.find_element(By.ID, "date").get_attribute("value") == "2026-12-03"
    assert browser.find_element(By.ID, "time").get_attribute("value") == "08:00"
    # Sedation is offered for the injection (it may be chosen) and defaults to "without".
    sedation = browser.find_element(By.ID, "sedation-field")
    assert sedation.is_displayed() and "without sedation" in sedation.text
    browser.find_element(By.CSS_SELECTOR, "input[name=sedation][value=yes]").click()
    first = browser.find_element(By.ID, "medication-1")
    first.send_keys("Eliquis")
    browser.find_element(By.ID, "add-medicine").click()
    second = browser.switch_to.active_element  # the new row has the focus
    assert second.get_attribute("id") == "medication-2"
    second.send_keys("Advil")
    # The whole form fits a 1366×768 screen: no scrolling to reach the button.
    height = browser.execute_script("return document.documentElement.scrollHeight")
    assert height <= browser.execute_script("return window.innerHeight")
    shot(browser, "desk-form.png")

    started = time.monotonic()
    browser.find_element(By.CSS_SELECTOR, "#handout-form button[type=submit]").click()
    WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".pages img"))
    )
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script(
            "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"
        )
    )
    took = time.monotonic() - started
    images = browser.find_elements(By.CSS_SELECTOR, ".pages img")
    assert len(images) >= 2
    assert images[0].get_attribute("alt") == f"Page 1 of {len(images)} of the handout"
    assert "Ana" not in browser.current_url and "2026" not in browser.current_url
    assert browser.find_element(By.ID, "print").is_displayed()
    shot(browser, "desk-preview.png")

    browser.find_element(By.ID, "download").click()
    pdf = downloaded(downloads, "pars-defect-injection-2026-12-03-0800.pdf")
    text = squash(pdf_text(pdf))
    for phrase in ("Ana Díaz", "Dr. Sam Lee", "Bring your scans.", "Eliquis", "Advil", "A-77"):
        assert phrase in text, phrase
    assert "December 3" in text
    assert took < 10  # generous here; benchmarks/bench_web.py measures it properly

    # Change the details: the form comes back as it was typed.
    browser.find_element(By.LINK_TEXT, "Change the details").click()
    assert browser.find_element(By.ID, "patient").get_attribute("value") == "Ana Díaz"
    assert browser.find_element(By.ID, "medication-2").get_attribute("value") == "Advil"


def test_a_bad_date_is_shown_beside_its_field(server, browser):
    browser.get(server)
    fill(
        browser,
        procedure="Pars defect injection",
        patient="Ana Díaz",
        date="12031700",
        time="0800AM",
        clinician="Dr. Sam Lee",
    )
    browser.find_element(By.ID, "patient").send_keys(Keys.ENTER)  # submit from the keyboard
    error = WebDriverWait(browser, 20).until(
        EC.visibility_of_element_located((By.ID, "date-error"))
    )
    assert error.text.endswith("The year 1700 cannot be right; check the date.")
    # Beside its field: in the same block, right under the input, which is marked invalid.
    date = browser.find_element(By.ID, "date")
    assert error.find_element(By.XPATH, "..") == date.find_element(By.XPATH, "..")
    assert date.get_attribute("aria-invalid") == "true"
    assert "date-error" in date.get_attribute("aria-describedby")
    assert browser.switch_to.active_element == date  # the focus goes to the first problem
    # What was typed is kept.
    assert browser.find_element(By.ID, "patient").get_attribute("value") == "Ana Díaz"
    assert date.get_attribute("value") == "1700-12-03"
    assert not browser.find_elements(By.ID, "patient-error")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    assert height <= browser.execute_script("return window.innerHeight")  # still fits
    shot(browser, "desk-error.png")


def test_a_medicine_suggestion(server, browser):
    browser.get(server)
    field = browser.find_element(By.ID, "medication-1")
    field.send_keys("eliq")
    # What Chromium's suggestion list offers for the typed text: the datalist's options that
    # contain it, regardless of case.
    offered = browser.execute_script(
        "const input = arguments[0];"
        "return [...input.list.options].map(o => o.value)"
        ".filter(v => v.toLowerCase().includes(input.value.toLowerCase()));",
        field,
    )
    assert offered == ["Eliquis"]
    field.clear()
    field.send_keys(offered[0])
    fill(
        browser,
        procedure="Pars defect decompression and stabilization surgery",
        patient="Ana Díaz",
        date="12032026",
        time="0700AM",
        clinician="Dr. Sam Lee",
    )
    # This set is always done with sedation: the choice is not offered.
    assert not browser.find_element(By.ID, "sedation-field").is_displayed()
    browser.find_element(By.CSS_SELECTOR, "#handout-form button[type=submit]").click()
    WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".pages img"))
    )


def test_a_csv_upload_with_a_bad_row_and_the_packet(server, browser, downloads, tmp_path):
    listing = tmp_path / "tomorrow.csv"
    listing.write_bytes(
        (DATA / "batch" / "appointments.csv").read_bytes()
        + b"pars-defect-injection,Bad Row,2026-13-01,9:00,Dr. X,Z9,,,\n"
    )
    browser.get(server + "packet")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    assert height <= browser.execute_script("return window.innerHeight")
    shot(browser, "desk-upload.png")
    browser.find_element(By.ID, "input").send_keys(str(listing))
    browser.find_element(By.CSS_SELECTOR, "input[name=index]").click()
    browser.find_element(By.CSS_SELECTOR, "#packet-form button[type=submit]").click()
    banner = WebDriverWait(browser, 60).until(
        EC.visibility_of_element_located((By.ID, "failed-banner"))
    )
    assert "1 row FAILED" in banner.text and "Row 5" in banner.text
    assert "date: '…' has no month 13" in banner.text  # the value only with --verbose
    failed = browser.find_element(By.ID, "row-5")
    assert "FAILED" in failed.text
    assert "Pars defect injection" in browser.find_element(By.ID, "row-2").text
    color = failed.value_of_css_property("background-color")
    assert color != browser.find_element(By.ID, "row-2").value_of_css_property("background-color")
    shot(browser, "desk-packet.png")

    browser.find_element(By.ID, "download-packet").click()
    # Named by the list's dates, never a patient's name.
    text = squash(pdf_text(downloaded(downloads, "packet-2026-12-03-to-2026-12-04.pdf")))
    assert "Ana Díaz" in text and "Smith, John" in text and "Zoë Ødegård" in text
    # The bad row has no handout: only the index names it, with why.
    assert text.count("Bad Row") == 1
    assert "Rows with no handout of their own Row Patient Status Why 5 Bad Row Not made" in text
    browser.find_element(By.ID, "download-manifest").click()
    manifest = downloaded(downloads, "manifest-2026-12-03-to-2026-12-04.csv").read_text(
        encoding="utf-8"
    )
    assert "\n5,failed,,,,,date," in manifest


def test_a_bad_upload_is_a_message_not_a_trace(server, browser, tmp_path):
    wrong = tmp_path / "scan.csv"
    wrong.write_bytes(b"%PDF-1.7\n\xff\xd8 not a list")
    browser.get(server + "packet")
    browser.find_element(By.ID, "input").send_keys(str(wrong))
    browser.find_element(By.CSS_SELECTOR, "#packet-form button[type=submit]").click()
    alert = WebDriverWait(browser, 20).until(
        EC.visibility_of_element_located((By.ID, "upload-error"))
    )
    assert "see the message marked below" in alert.text
    # Not UTF-8, so read as Windows text: it has none of the columns, said beside the file.
    error = browser.find_element(By.ID, "input-error")
    assert "scan.csv: no column for procedure" in error.text and "--" not in error.text
    assert browser.switch_to.active_element.get_attribute("id") == "input"
    assert "Traceback" not in browser.page_source


def test_upload_errors_beside_their_fields(server, browser, tmp_path):
    """Dates are chosen by example, never as a pattern; a time zone for a FHIR list that is
    an abbreviation is refused beside its field, in words without options, the focus on it."""
    listing = tmp_path / "tomorrow.json"
    listing.write_bytes((DATA / "fhir" / "bundle-mixed.json").read_bytes())
    browser.get(server + "packet")
    dates = Select(browser.find_element(By.ID, "date_format"))
    names = [o.text for o in dates.options]
    assert names[:2] == ["2026-12-03", "12/03/2026 (month first)"]
    assert "03/12/2026 (day first)" in names and not any("%" in n for n in names)
    dates.select_by_visible_text("12/03/2026 (month first)")
    browser.find_element(By.ID, "input").send_keys(str(listing))
    browser.find_element(By.ID, "timezone").send_keys("EST")
    browser.find_element(By.ID, "packet-form").find_element(
        By.CSS_SELECTOR, "button[type=submit]"
    ).click()
    error = WebDriverWait(browser, 20).until(
        EC.visibility_of_element_located((By.ID, "timezone-error"))
    )
    assert "'EST' is an abbreviation without daylight-saving rules" in error.text
    assert "--" not in error.text and not error.text.startswith("timezone:")
    assert browser.switch_to.active_element.get_attribute("id") == "timezone"
    # The choice of date format is kept.
    assert Select(browser.find_element(By.ID, "date_format")).first_selected_option.text == (
        "12/03/2026 (month first)"
    )
    shot(browser, "desk-upload-error.png")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    assert height <= browser.execute_script("return window.innerHeight")
    assert axe_violations(browser) == []


UNLABELLED = """
return [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map(e => e.id || e.name || e.outerHTML);
"""


# Selects whose widest choice is wider than the box (its text less the padding and the arrow).
CUT_SHORT = """
const canvas = document.createElement('canvas').getContext('2d');
return [...document.querySelectorAll('select')].filter(s => {
  const style = getComputedStyle(s);
  canvas.font = style.font;
  const widest = Math.max(...[...s.options].map(o => canvas.measureText(o.text).width));
  const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
  return widest > room;
}).map(s => s.id);
"""


# Pairs of the form's last row (paper, language, large print, button) whose boxes overlap.
OVERLAPS = """
const boxes = [...document.querySelectorAll('.actions > *')]
  .map(e => [e, e.getBoundingClientRect()]);
const found = [];
for (const [a, r] of boxes) for (const [b, q] of boxes)
  if (a !== b && a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING
      && r.left < q.right && q.left < r.right && r.top < q.bottom && q.top < r.bottom)
    found.push([a.className, b.className]);
for (const s of document.querySelectorAll('.actions select')) {
  const r = s.getBoundingClientRect(), p = s.parentElement.getBoundingClientRect();
  if (r.right > p.right + 1) found.push([s.id, 'its field']);
}
return found;
"""


@pytest.mark.parametrize("page", ["", "packet"])
def test_no_choice_is_cut_short(server, browser, page):
    browser.get(server + page)
    assert browser.execute_script(CUT_SHORT) == []
    if not page:
        language = browser.find_element(By.ID, "language")
        assert language.tag_name == "select"
        names = [o.text for o in language.find_elements(By.TAG_NAME, "option")]
        assert names[0].startswith("The clinic’s (")
        assert any(name.startswith("Spanish (español)") for name in names)
        # Nor does one field of the row under the form run into the next.
        assert browser.execute_script(OVERLAPS) == []


@pytest.mark.parametrize("page", ["", "packet"])
def test_every_control_has_a_label(server, browser, page):
    browser.get(server + page)
    assert browser.execute_script(UNLABELLED) == []


def test_the_form_works_from_the_keyboard_alone(server, browser):
    browser.get(server)
    order = []
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(40):
        active = browser.switch_to.active_element
        order.append(active.get_attribute("id") or active.get_attribute("name"))
        if active.get_attribute("type") == "submit" and active.text == "Make the handout":
            break
        active.send_keys(Keys.TAB)
    # Skip link and menu first, then every field in reading order, the button last.
    fields = ["procedure", "patient", "dob", "mrn", "note", "date", "time", "clinician"]
    fields += ["medication-1", "add-medicine", "paper"]
    positions = [order.index(name) for name in fields]
    assert positions == sorted(positions), order
    # After the paper come only the options the library has gained (language), then the button.
    after_paper = order[order.index("paper") + 1 : -1]
    assert order[-1] != fields[-1] and set(after_paper) <= {"language", "large_print"}
    # Choosing a procedure with the keyboard shows its sedation choice, in the Tab order.
    procedure = browser.find_element(By.ID, "procedure")
    procedure.send_keys("Pars defect inj")
    browser.find_element(By.ID, "patient").click()
    assert browser.find_element(By.ID, "sedation-field").is_displayed()
    # "Add another medicine" from the keyboard gives a new box with the focus in it.
    add = browser.find_element(By.ID, "add-medicine")
    add.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "medication-2"


# --- Reflow, focus and axe-core ------------------------------------------------------------

AXE = Path(__file__).resolve().parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
# Window sizes in CSS pixels, and the device pixels per CSS pixel: 200% zoom of a 1366×768
# screen lays the page out in 683×384 CSS pixels, each drawn twice as large.
SIZES = {
    "1366": (1366, 768, 1),
    "800": (800, 1000, 1),
    "zoom200": (683, 384, 2),
    "320": (320, 640, 1),
}


@pytest.fixture
def sized(browser):
    """Lay pages out at one of ``SIZES``; back to the window's own size afterwards."""

    def resize(name: str) -> None:
        width, height, scale = SIZES[name]
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False},
        )

    yield resize
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def axe_violations(driver) -> list[str]:
    """What axe-core (tests/browser, installed by .ci/run with npm ci) finds on the page."""
    if not AXE.exists():
        if os.environ.get("CI"):
            raise AssertionError(f"{AXE} is missing: .ci/run installs it with npm ci")
        pytest.skip("needs axe-core: npm ci --prefix tests/browser")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target)"
        ".join(' | '))), e => done(['axe failed: ' + e]));"
    )
    return list(found)


def sideways(driver) -> int:
    """How far the page scrolls sideways, in CSS pixels (0: it does not)."""
    return driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


MEDICINE_WIDTHS = """
return [...document.querySelectorAll('#medicines input')]
  .map(e => Math.round(e.getBoundingClientRect().width));
"""


@pytest.mark.parametrize("size", list(SIZES))
def test_the_form_reflows(server, browser, sized, size):
    """WCAG 1.4.10 and 1.4.4: at 800 px, at 200% zoom and at 320 px the form is one column,
    every medicine box is at least 200 px wide (two of them, so each has its Remove button),
    nothing scrolls sideways, and axe-core finds nothing."""
    sized(size)
    browser.get(server)
    fill(browser, patient="Ana Díaz")
    browser.find_element(By.ID, "medication-1").send_keys("Eliquis")
    browser.find_element(By.ID, "add-medicine").click()
    browser.switch_to.active_element.send_keys("Advil")
    widths = browser.execute_script(MEDICINE_WIDTHS)
    assert len(widths) == 2 and min(widths) >= 200, widths
    assert sideways(browser) == 0
    left, right = (
        browser.find_element(By.CSS_SELECTOR, f".form-grid .{side}").rect
        for side in ("left", "right")
    )
    if size == "1366":  # two columns, and the form fits the screen
        assert right["x"] > left["x"] + left["width"]
        height = browser.execute_script("return document.documentElement.scrollHeight")
        assert height <= browser.execute_script("return window.innerHeight")
    else:  # one column: the appointment under the patient
        assert right["y"] >= left["y"] + left["height"] and right["x"] == left["x"]
    if size != "1366":  # desk-form.png is the 1366 one
        shot(browser, f"desk-form-{size}.png")
    assert axe_violations(browser) == []


@pytest.mark.parametrize("size", ["1366", "320"])
def test_errors_preview_and_packet_pages_reflow(server, browser, sized, size, tmp_path):
    """The form with its errors, the preview, the upload form and a packet's result: no
    sideways scrolling at 320 px, and nothing axe-core finds, at either size."""
    sized(size)
    browser.get(server)
    fill(browser, procedure="Pars defect injection", date="12031700", time="0800AM")
    browser.find_element(By.CSS_SELECTOR, "#handout-form button[type=submit]").click()
    WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "problems")))
    assert sideways(browser) == 0
    assert axe_violations(browser) == []

    fill(browser, patient="Ana Díaz", date="12032026", clinician="Dr. Sam Lee")
    browser.find_element(By.CSS_SELECTOR, "#handout-form button[type=submit]").click()
    WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".pages img"))
    )
    assert sideways(browser) == 0
    assert axe_violations(browser) == []
    if size == "320":
        shot(browser, "desk-preview-320.png")

    browser.get(server + "packet")
    assert sideways(browser) == 0
    assert axe_violations(browser) == []
    listing = tmp_path / "tomorrow.csv"
    listing.write_bytes((DATA / "batch" / "appointments.csv").read_bytes())
    browser.find_element(By.ID, "input").send_keys(str(listing))
    browser.find_element(By.CSS_SELECTOR, "#packet-form button[type=submit]").click()
    WebDriverWait(browser, 60).until(EC.presence_of_element_located((By.ID, "download-zip")))
    assert sideways(browser) == 0  # the table scrolls in its own box
    assert axe_violations(browser) == []


# The focused control's name, its ring's style and width, and the ring's contrast with what is
# behind it (the nearest ancestor's background), which WCAG 1.4.11 wants at least 3:1.
FOCUS_RING = """
const e = document.activeElement, s = getComputedStyle(e);
const rgb = c => c.match(/[\\d.]+/g).slice(0, 4).map(Number);
const lum = ([r, g, b]) => [r, g, b].map(v => v / 255)
  .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
  .reduce((t, v, i) => t + v * [0.2126, 0.7152, 0.0722][i], 0);
let back = e.parentElement;
while (back && (rgb(getComputedStyle(back).backgroundColor)[3] === 0)) back = back.parentElement;
const behind = back ? rgb(getComputedStyle(back).backgroundColor) : [255, 255, 255];
const [a, b] = [lum(rgb(s.outlineColor)), lum(behind)].sort((x, y) => y - x);
const name = e.id || e.getAttribute('aria-label') || (e.name && e.name + '=' + e.value)
  || e.textContent.trim();
return [name, s.outlineStyle, parseFloat(s.outlineWidth), (a + 0.05) / (b + 0.05)];
"""


@pytest.mark.parametrize("size", ["1366", "zoom200"])
def test_a_focus_ring_on_every_control(server, browser, sized, size):
    """Tab through the whole form, the date and time pickers included: each control the
    focus lands on draws a ring at least 2 px wide."""
    sized(size)
    browser.get(server)
    fill(browser, procedure="Pars defect injection")  # the sedation choice is shown
    browser.find_element(By.ID, "add-medicine").click()  # two boxes: Remove buttons shown
    browser.execute_script("document.querySelector('.skip').focus()")
    seen = {}
    actions = webdriver.ActionChains(browser)
    for _ in range(60):
        actions.send_keys(Keys.TAB).perform()
        name, style, width, contrast = browser.execute_script(FOCUS_RING)
        if name in seen:
            continue
        seen[name] = (style, width, round(contrast, 1))
        if name == "Make the handout":
            break
    for name in ("procedure", "patient", "dob", "date", "time", "clinician", "medication-1"):
        assert name in seen, seen
    assert "Remove medicine 2" in seen and "sedation=yes" not in seen  # one stop per group
    bare = {n: ring for n, ring in seen.items() if ring[0] == "none" or ring[1] < 2 or ring[2] < 3}
    assert bare == {}


def test_sign_in_with_a_desk_account(browser, tmp_path_factory):
    """With an accounts file, the desk opens on its sign-in page (no violations), a nurse signs
    in with the keyboard and sees her name, and a wrong password is said beside its field."""
    from pars_docs.web.accounts import Accounts

    folder = tmp_path_factory.mktemp("accounts-site")
    site = folder / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8") + "\naccounts: accounts.sqlite\n",
        encoding="utf-8",
    )
    Accounts(folder / "accounts.sqlite").add("rosa", "nurse", "correct horse battery")
    tmp = tmp_path_factory.mktemp("accounts-tmp")
    process, address = start_desk(tmp, site=site, SOURCE_DATE_EPOCH=FIXED_NOW)
    try:
        browser.get(address)
        assert browser.current_url == address + "login"
        assert axe_violations(browser) == []
        fill_in = browser.find_element(By.ID, "name")
        assert browser.switch_to.active_element == fill_in
        fill_in.send_keys("rosa")
        browser.find_element(By.ID, "password").send_keys("wrong password", Keys.ENTER)
        error = WebDriverWait(browser, 20).until(
            EC.visibility_of_element_located((By.ID, "password-error"))
        )
        assert "do not match an active account" in error.text
        assert browser.switch_to.active_element.get_attribute("id") == "password"
        assert axe_violations(browser) == []
        shot(browser, "desk-signin.png")
        browser.switch_to.active_element.send_keys("correct horse battery", Keys.ENTER)
        WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "handout-form")))
        assert "rosa (nurse)" in browser.find_element(By.TAG_NAME, "header").text
        assert browser.find_elements(By.ID, "open-desk") == []
        assert axe_violations(browser) == []
        browser.find_element(By.XPATH, "//button[text()='Sign out']").click()
        WebDriverWait(browser, 20).until(EC.url_to_be(address + "login"))
    finally:
        process.terminate()
        log = process.communicate(timeout=30)[1]
    assert "sign-in refused for 'rosa' from 127.0.0.1 (1 in 15 min)" in log
    assert "wrong password" not in log and "correct horse" not in log


def test_an_unknown_medicine_fixed_in_one_click(server, browser):
    """Three problems in one round; the closest name fixes the spelling in one click and
    "Ask us about" takes the other; the handout is then made."""
    browser.get(server)
    fill(
        browser,
        procedure="Pars defect injection",
        date="12032026",
        time="0800AM",
        clinician="Dr. Sam Lee",
    )
    browser.find_element(By.ID, "medication-1").send_keys("Elikwis")
    browser.find_element(By.ID, "add-medicine").click()
    browser.switch_to.active_element.send_keys("lisinopril")
    browser.find_element(By.CSS_SELECTOR, "#handout-form button[type=submit]").click()
    WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "problems")))
    assert browser.find_element(By.ID, "patient-error").text.endswith("Type the patient’s name.")
    assert (
        "We do not know the medicine “Elikwis”."
        in browser.find_element(By.ID, "medication-1-error").text
    )
    assert browser.switch_to.active_element.get_attribute("id") == "patient"
    assert axe_violations(browser) == []
    shot(browser, "desk-unknown-medicine.png")
    browser.find_element(By.CSS_SELECTOR, "button.use[data-name=Eliquis]").click()
    assert browser.find_element(By.ID, "medication-1").get_attribute("value") == "Eliquis"
    assert browser.switch_to.active_element.get_attribute("id") == "medication-1"
    browser.find_element(By.CSS_SELECTOR, "input[name=ask][value=lisinopril]").click()
    browser.find_element(By.ID, "patient").send_keys("Ana Díaz")
    browser.find_element(By.CSS_SELECTOR, "#handout-form button[type=submit]").click()
    WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".pages img"))
    )
    assert "lisinopril" in browser.find_element(By.ID, "warnings").text


def test_a_sets_own_option_is_a_box_shown_while_that_set_is_chosen(
    browser, sized, tmp_path_factory
):
    folder = tmp_path_factory.mktemp("options-site")
    site = folder / "site.yaml"
    sets = folder / "sets"
    sets.mkdir()
    shutil.copy(DATA / "format2" / "trial-sample.yaml", sets)
    shutil.copy(Path(__file__).parents[1] / "instructions" / "lumbar-ilesi.yaml", sets)
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8") + f"\ninstructions_dir: {sets}\n",
        encoding="utf-8",
    )
    process, address = start_desk(tmp_path_factory.mktemp("options-tmp"), site=site)
    try:
        browser.get(address)
        box = browser.find_element(
            By.CSS_SELECTOR, "input[type=checkbox][name='option-trial-sample']"
        )
        procedure = Select(browser.find_element(By.ID, "procedure"))
        assert not box.is_displayed()
        procedure.select_by_value("trial-sample")
        assert box.is_displayed() and not box.is_selected()
        label = box.find_element(By.XPATH, "..")
        assert label.text == "Has diabetes"
        assert axe_violations(browser) == []
        for name in SIZES:
            sized(name)
            assert sideways(browser) == 0, name
        procedure.select_by_value("lumbar-ilesi")
        assert not box.is_displayed() and not box.is_enabled()
    finally:
        process.terminate()
        process.communicate(timeout=30)


GROUPS = """
return [...document.querySelectorAll('#procedure optgroup')]
  .map(g => [g.label, [...g.querySelectorAll('option')].map(o => o.value)]);
"""


def test_the_procedure_list_shows_the_groups_pars_docs_list_shows(server, browser):
    """The desk's procedure list holds the sets under the groups their YAML declares, in the
    order and with the members `pars-docs list` gives; choosing a set inside a group still
    sets its sedation choice."""
    import json
    import subprocess
    import sys

    browser.get(server)
    shown = browser.execute_script(GROUPS)
    listed = json.loads(
        subprocess.run(
            [sys.executable, "-m", "pars_docs", "list", "--json"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    )
    groups: dict[str, set[str]] = {}
    for row in listed:
        groups.setdefault(row["group"], set()).add(row["id"])
    assert [label for label, _ in shown] == ["Devices", "Injections", "Nerve treatments", "Surgery"]
    assert {label: set(ids) for label, ids in shown} == groups
    # Within a group, by title, as before the groups.
    for _, ids in shown:
        titles = [next(r["title"] for r in listed if r["id"] == i) for i in ids]
        assert titles == sorted(titles, key=str.casefold)
    Select(browser.find_element(By.ID, "procedure")).select_by_value("scs-trial")
    sedation = browser.find_element(By.ID, "sedation-field")
    assert sedation.is_displayed() and "(with sedation)" in sedation.text
    Select(browser.find_element(By.ID, "procedure")).select_by_value("lumbar-fusion")
    assert not sedation.is_displayed()
    assert axe_violations(browser) == []


# --- The clinic's own sets: the editor page -------------------------------------------------


@pytest.fixture(scope="module")
def clinic_desk(tmp_path_factory):
    """A desk whose site has its own folder: the example clinic's, and a broken set."""
    folder = tmp_path_factory.mktemp("clinic-site")
    sets = folder / "instructions"
    sets.mkdir()
    example = Path(__file__).resolve().parents[1] / "docs" / "examples" / "clinic"
    for path in (example / "instructions").glob("*.yaml"):
        shutil.copy(path, sets)
    trial = (DATA / "format2" / "trial-sample.yaml").read_text(encoding="utf-8")
    (sets / "trial-sample.yaml").write_text(
        trial.replace("title: Trial sample", "titel: Trial sample"), encoding="utf-8"
    )
    site = folder / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8") + "\ninstructions_dir: instructions\n",
        encoding="utf-8",
    )
    process, address = start_desk(tmp_path_factory.mktemp("clinic-tmp"), site=site)
    yield address, sets
    process.terminate()
    log = process.communicate(timeout=30)[1]
    assert "Traceback" not in log
    assert "left trial-sample out of the procedure list" in log


def wait_for(driver, element_id: str, timeout=30):
    """The element ``element_id`` once the page that holds it has loaded."""
    return WebDriverWait(driver, timeout).until(EC.presence_of_element_located((By.ID, element_id)))


def preview_passes(driver, timeout=30):
    WebDriverWait(driver, timeout).until(
        lambda d: (
            d.find_element(By.ID, "status").text.startswith("Passes check")
            and d.find_element(By.ID, "preview-image").is_displayed()
        )
    )


def test_the_clinic_sets_page_edit_preview_and_save(clinic_desk, browser, sized):
    address, sets = clinic_desk
    # The form says which set is left out and why, and offers the others.
    browser.get(address)
    notice = browser.find_element(By.ID, "left-out").text
    assert "trial-sample" in notice and "'title' is missing" in notice
    values = [
        o.get_attribute("value")
        for o in browser.find_elements(By.CSS_SELECTOR, "#procedure option")
    ]
    assert "trial-sample" not in values and "colonoscopy-split-prep" in values
    browser.find_element(By.LINK_TEXT, "Clinic sets").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "table.files > tbody > tr")
    by_name = {r.find_element(By.TAG_NAME, "th").text: r for r in rows}
    assert "Passes" in by_name["pars-defect-injection.yaml"].text
    broken = by_name["trial-sample.yaml"]
    assert "Fails" in broken.text
    line = next(
        i + 1 for i, text in enumerate((sets / "trial-sample.yaml").read_text().splitlines())
        if text.startswith("titel:")
    )  # fmt: skip
    problems = [
        [c.text for c in row.find_elements(By.TAG_NAME, "td")]
        for row in broken.find_elements(By.CSS_SELECTOR, "table.problems tbody tr")
    ]
    assert [str(line), "titel: Trial sample"] in [cells[:2] for cells in problems]
    assert any("'title' is missing" in cells[2] for cells in problems)
    for size in SIZES:
        sized(size)
        assert sideways(browser) == 0, size
        shot(browser, f"clinic-sets-{size}.png")
    sized("1366")
    assert axe_violations(browser) == []

    # Edit the clinic's change: the preview follows the typing, a failing text is not saved.
    browser.find_element(By.LINK_TEXT, "pars-defect-injection.yaml").click()
    preview_passes(browser)
    assert "stop eating 8 hours before your shot" in " ".join(
        browser.find_element(By.ID, "preview-text").get_attribute("textContent").split()
    )
    before = (sets / "pars-defect-injection.yaml").read_text(encoding="utf-8")
    text = browser.find_element(By.ID, "text")
    browser.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
        text,
        before.replace("    hours: 8\n", "    hours: 9\n"),
    )
    WebDriverWait(browser, 30).until(
        lambda d: "9 is credited to 'clinic-policy'" in d.find_element(By.ID, "problems").text
    )
    assert browser.find_element(By.ID, "status").text == "Does not pass check yet."
    go = browser.find_element(By.CSS_SELECTOR, "#problems .go-line")
    go.click()
    assert browser.switch_to.active_element.get_attribute("id") == "text"
    selected = browser.execute_script(
        "const t = arguments[0]; return t.value.slice(t.selectionStart, t.selectionEnd)", text
    )
    assert selected == "    hours: 9"
    for size in SIZES:
        sized(size)
        assert sideways(browser) == 0, size
        shot(browser, f"clinic-edit-{size}.png")
    sized("1366")
    assert axe_violations(browser) == []
    browser.find_element(By.ID, "save").click()
    assert "Not saved" in wait_for(browser, "refused").text
    assert (sets / "pars-defect-injection.yaml").read_text(encoding="utf-8") == before

    # A change that passes is saved, and the desk offers it without a restart.
    text = browser.find_element(By.ID, "text")
    browser.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
        text,
        before + "title: Pars injection (Cedar Valley)\n",
    )
    preview_passes(browser)
    browser.find_element(By.ID, "save").click()
    assert wait_for(browser, "saved").is_displayed()
    assert (
        (sets / "pars-defect-injection.yaml")
        .read_text(encoding="utf-8")
        .endswith("title: Pars injection (Cedar Valley)\n")
    )
    assert len(list((sets / ".backups").iterdir())) == 1

    # The broken set, fixed in the editor, joins the procedure list.
    browser.get(address + "clinic/trial-sample.yaml")
    fixed = (sets / "trial-sample.yaml").read_text(encoding="utf-8").replace("titel:", "title:")
    browser.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
        browser.find_element(By.ID, "text"),
        fixed,
    )
    preview_passes(browser)
    browser.find_element(By.ID, "save").click()
    assert wait_for(browser, "saved").is_displayed()
    browser.get(address)
    assert not browser.find_elements(By.ID, "left-out")
    titles = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#procedure option")]
    assert "Trial sample" in titles and "Pars injection (Cedar Valley)" in titles
