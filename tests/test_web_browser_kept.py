# ruff: noqa: F811 - the browser fixtures are imported from test_web_browser
"""What the nurse typed survives a lost cookie and a server restart, in a real headless
Chromium against a real `pars-docs serve`: kept in the tab's session storage (never on the
server), given back after she signs in again, to her alone, and forgotten once the handout is
made or she signs out. axe-core finds nothing, at 1366, 800 and 320 px and 200% zoom."""

import socket

import pytest
from helpers import DATA, FIXED_NOW, start_desk
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
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

PASSWORD = "correct horse battery"
COOKIE = "pars_docs_session"
TYPED = {
    "procedure": "Pars defect injection",
    "patient": "Zoë Keller",
    "dob": "1961-04-02",
    "mrn": "K-4411",
    "date": "12032026",
    "time": "0800AM",
    "clinician": "Dr. Sam Lee",
    "note": "Bring your brace.",
}
# As the browser reads them back from the fields.
READ_BACK = {**TYPED, "procedure": "pars-defect-injection", "date": "2026-12-03", "time": "08:00"}
MEDICINES = ["warfarin", "Advil"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Desk:
    """A desk with accounts on one fixed port, so that a restart keeps the browser's origin
    (and with it the tab's session storage), as a clinic's desk on its usual port does."""

    def __init__(self, tmp_path_factory, accounts: bool = True):
        from pars_docs.web.accounts import Accounts

        self.folder = tmp_path_factory.mktemp("kept-site")
        self.tmp = tmp_path_factory.mktemp("kept-tmp")
        self.site = self.folder / "site.yaml"
        text = (DATA / "site-ny.yaml").read_text(encoding="utf-8")
        if accounts:
            text += "\naccounts: accounts.sqlite\n"
            for name in ("rosa", "ali"):
                Accounts(self.folder / "accounts.sqlite").add(name, "nurse", PASSWORD)
        self.site.write_text(text, encoding="utf-8")
        self.port = free_port()
        self.logs: list[str] = []
        self.start()

    def start(self) -> None:
        self.process, self.address = start_desk(
            self.tmp, site=self.site, port=self.port, SOURCE_DATE_EPOCH=FIXED_NOW
        )

    def stop(self) -> None:
        self.process.terminate()
        self.logs.append(self.process.communicate(timeout=30)[1])

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    desk = Desk(tmp_path_factory)
    yield desk
    desk.stop()
    log = "\n".join(desk.logs)
    assert "Traceback" not in log
    for value in ("Zoë", "Keller", "K-4411", "warfarin", "brace"):  # never on the server
        assert value not in log, log


def sign_in(browser, name: str) -> None:
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "password")))
    field = browser.find_element(By.ID, "name")
    field.clear()
    field.send_keys(name)
    browser.find_element(By.ID, "password").send_keys(PASSWORD, Keys.ENTER)
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "handout-form")))


def type_the_form(browser) -> None:
    fill(browser, **TYPED)
    browser.find_element(By.CSS_SELECTOR, "input[name=sedation][value=yes]").click()
    browser.find_element(By.ID, "medication-1").send_keys(MEDICINES[0])
    browser.find_element(By.ID, "add-medicine").click()
    browser.switch_to.active_element.send_keys(MEDICINES[1])


def submit(browser) -> None:
    browser.find_element(By.CSS_SELECTOR, "#handout-form button[type=submit]").click()


def form_values(browser) -> dict:
    values = {name: browser.find_element(By.ID, name).get_attribute("value") for name in READ_BACK}
    values["medicines"] = [
        e.get_attribute("value")
        for e in browser.find_elements(By.CSS_SELECTOR, "#medicines input[type=text]")
        if e.get_attribute("value")
    ]
    values["sedation"] = browser.find_element(
        By.CSS_SELECTOR, "input[name=sedation]:checked"
    ).get_attribute("value")
    return values


EXPECTED = {**READ_BACK, "medicines": MEDICINES, "sedation": "yes"}


def kept(browser):
    return browser.execute_script("return sessionStorage.getItem('pars-docs-typing')")


def sign_out(browser) -> None:
    browser.find_element(By.XPATH, "//button[text()='Sign out']").click()
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "password")))


def test_a_lost_cookie_keeps_what_was_typed_and_asks_to_sign_in_again(desk, browser, sized):
    browser.get(desk.address)
    sign_in(browser, "rosa")
    type_the_form(browser)
    browser.delete_cookie(COOKIE)  # the cookie is lost
    submit(browser)
    notice = WebDriverWait(browser, 20).until(
        EC.visibility_of_element_located((By.ID, "kept-notice"))
    )
    assert "What you typed is kept in this browser" in notice.text
    assert browser.current_url == desk.address + "login?restore=1"
    assert "Zoë" not in browser.page_source  # kept in the page's storage, not sent back
    assert axe_violations(browser) == []
    shot(browser, "desk-kept-signin.png")
    sign_in(browser, "rosa")
    note = browser.find_element(By.ID, "kept-note")
    assert note.is_displayed() and "what you typed was kept" in note.text
    assert browser.switch_to.active_element == note
    assert form_values(browser) == EXPECTED
    assert browser.current_url == desk.address  # a reload shows the form as it is
    for size in SIZES:
        sized(size)
        assert sideways(browser) == 0, size
        assert axe_violations(browser) == [], size
        shot(browser, f"desk-kept-{size}.png")
    sized("1366")
    # Signing out forgets it: signed in again, nothing comes back.
    assert kept(browser) is not None
    sign_out(browser)
    assert kept(browser) is None
    sign_in(browser, "rosa")
    browser.get(desk.address + "?restore=1")
    assert browser.find_element(By.ID, "lost-note").is_displayed()
    assert browser.find_element(By.ID, "patient").get_attribute("value") == ""
    assert axe_violations(browser) == []


def test_a_restart_keeps_it_too_and_a_handout_made_forgets_it(desk, browser):
    browser.get(desk.address)
    if browser.find_elements(By.ID, "password"):
        sign_in(browser, "rosa")
    type_the_form(browser)
    desk.restart()  # every session ends: the server's signing key is new
    submit(browser)
    WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "kept-notice")))
    sign_in(browser, "rosa")
    assert browser.find_element(By.ID, "kept-note").is_displayed()
    assert form_values(browser) == EXPECTED
    submit(browser)
    WebDriverWait(browser, 30).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".pages img"))
    )
    assert kept(browser) is None  # made: nothing of it stays in the browser
    sign_out(browser)


def test_never_given_to_another_user(desk, browser):
    """A shared terminal: what rosa typed is not shown to ali, who signs in after her."""
    browser.get(desk.address)
    if browser.find_elements(By.ID, "password"):
        sign_in(browser, "rosa")
    type_the_form(browser)
    browser.delete_cookie(COOKIE)
    submit(browser)
    WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "kept-notice")))
    sign_in(browser, "ali")
    assert browser.find_element(By.ID, "lost-note").is_displayed()
    assert not browser.find_element(By.ID, "kept-note").is_displayed()
    assert browser.find_element(By.ID, "patient").get_attribute("value") == ""
    assert "Zoë" not in (kept(browser) or "")
    assert (
        browser.find_elements(By.CSS_SELECTOR, "#medicines input[type=text]")[0].get_attribute(
            "value"
        )
        == ""
    )
    sign_out(browser)


def test_without_accounts_a_fresh_form_filled_in_again(tmp_path_factory, browser):
    desk = Desk(tmp_path_factory, accounts=False)
    try:
        browser.get(desk.address)
        type_the_form(browser)
        desk.restart()
        submit(browser)
        note = WebDriverWait(browser, 20).until(
            EC.visibility_of_element_located((By.ID, "kept-note"))
        )
        assert "The desk had restarted" in note.text
        assert form_values(browser) == EXPECTED
        assert axe_violations(browser) == []
        Select(browser.find_element(By.ID, "procedure"))  # the form is whole
        submit(browser)  # a fresh form token: the handout is made
        WebDriverWait(browser, 30).until(
            EC.presence_of_element_located((By.CSS_SELECTOR, ".pages img"))
        )
        assert kept(browser) is None
    finally:
        desk.stop()
    assert "Zoë" not in "\n".join(desk.logs)
