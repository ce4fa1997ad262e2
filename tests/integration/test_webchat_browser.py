"""The web chat page in a real browser (Debian's chromium, headless): talk, tap, quick exit."""
from __future__ import annotations

import shutil
import tempfile

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.browser

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not shutil.which("chromium") and not shutil.os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed: .ci/run installs Debian's chromium")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def test_a_person_can_chat_in_spanish_tap_a_button_and_quick_exit(phone, base_url, neutral_site):
    page = phone
    page.goto(base_url + "/")
    page.wait_for_selector("#send:not([disabled])")
    assert page.is_visible("#quick-exit")

    page.fill("#message-input", "hola, necesito ayuda por favor")
    page.click("#send")
    page.wait_for_selector(".msg.bot")
    assert page.get_attribute("html", "lang") == "es"
    assert "Gracias" in page.inner_text("#messages")

    choice = page.locator(".msg.bot .choice").first
    title = choice.inner_text()
    count = page.locator(".msg.bot").count()
    choice.click()
    page.locator(".msg.bot").nth(count).wait_for()  # polling from Python: the page's CSP forbids eval
    assert title in page.locator(".msg.user").last.inner_text()
    old_session = page.evaluate("Object.values(Object.assign({}, sessionStorage))")
    assert old_session

    # Quick exit: always visible even after scrolling, and it leaves for the neutral site.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert page.is_visible("#quick-exit")
    page.click("#quick-exit")
    page.wait_for_url(neutral_site)
    assert "Weather" in page.title()
    # Back does not return to the conversation, and nothing of it is left in storage.
    page.go_back()
    assert page.url == neutral_site or page.url == "about:blank"
    page.goto(base_url + "/")
    assert page.evaluate("localStorage.length") == 0
    assert not set(old_session) & set(page.evaluate("Object.values(Object.assign({}, sessionStorage))"))
    assert page.locator(".msg").count() == 0


def test_arabic_replies_turn_the_page_right_to_left(phone, base_url):
    page = phone
    page.goto(base_url + "/")
    page.wait_for_selector("#send:not([disabled])")
    page.fill("#message-input", "مرحبا، أحتاج إلى مساعدة من فضلك")
    page.click("#send")
    page.wait_for_selector(".msg.bot")
    assert page.get_attribute("html", "dir") == "rtl"


def test_the_page_loads_nothing_from_outside(phone, base_url):
    requests = []
    phone.on("request", lambda r: requests.append(r.url))
    phone.goto(base_url + "/")
    phone.wait_for_selector("#send:not([disabled])")
    assert requests and all(url.startswith(base_url) for url in requests)
