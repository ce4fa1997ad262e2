"""The operator console in a real browser (Debian's chromium, headless), with a person in the web chat.

A supervisor creates an operator account; the operator logs in (one-time password, own password,
TOTP code computed here), watches the queue update live as a Spanish conversation is handed over,
reads the summary with its machine translation, claims the case and replies in English; the person
gets the reply in Spanish in the web chat and answers; the operator closes the case and the
transcript is gone. The pages' CSP forbids eval, so waiting is done by polling locators.
"""
from __future__ import annotations

import json
import re
import shutil

import httpx
import pytest

from bot.locales import load_locales
from bot.pseudonym import pseudonym
from console_people import api, fresh_code
from conftest import CONSOLE_ADMIN_PASSWORD, CONSOLE_ADMIN_TOTP_SECRET

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.browser
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
LOCALES = load_locales()
WAIT_MS = 30_000


def es(name: str, **values: str) -> str:
    return LOCALES["es"].responses[name]["text"].format(**{"emergency_number": "112", "helpline_name": "Safeline",
                                                           **values})


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


def console_login(page, base_url: str, username: str, password: str, secret: str) -> None:
    page.goto(base_url + "/console")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.fill("#username", username)
    page.fill("#password", password)
    page.fill("#totp", fresh_code(secret))
    page.click("#login")


def test_an_operator_answers_a_spanish_person_through_the_console_and_closes_the_case(browser, base_url, stack):
    # A supervisor (laptop) creates the operator's account.
    laptop = browser.new_context(viewport={"width": 1366, "height": 800})
    admin = laptop.new_page()
    console_login(admin, base_url, "admin", CONSOLE_ADMIN_PASSWORD, CONSOLE_ADMIN_TOTP_SECRET)
    admin.click("text=Accounts")
    admin.fill("#new-username", "operadora")
    admin.select_option("#new-role", "operator")
    admin.click("#create-account")
    one_time = admin.inner_text("#created-password").strip()
    totp_secret = admin.inner_text("#created-totp").strip()
    assert "otpauth://totp/Safeline:operadora" in admin.inner_text("#created-uri")

    # The operator (tablet) logs in, chooses a password, and watches the queue.
    tablet = browser.new_context(viewport={"width": 820, "height": 1180}, has_touch=True)
    operator = tablet.new_page()
    console_login(operator, base_url, "operadora", one_time, totp_secret)
    expect(operator).to_have_url(re.compile(r"/console/password$"))
    operator.fill("#current", one_time)
    operator.fill("#new", "tres tristes tigres comen trigo")
    operator.fill("#again", "tres tristes tigres comen trigo")
    operator.click("#save-password")
    expect(operator.locator("h1").first).to_contain_text("Waiting")

    # The person, on a phone, writes in Spanish and asks for a person.
    phone_context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True)
    phone = phone_context.new_page()
    phone.goto(base_url + "/")
    phone.wait_for_selector("#send:not([disabled])")

    def person_says(text: str) -> None:
        count = phone.locator(".msg.bot").count()
        phone.fill("#message-input", text)
        phone.click("#send")
        phone.locator(".msg.bot").nth(count).wait_for(timeout=WAIT_MS)

    person_says("mi jefe me quitó el pasaporte y no me deja salir")
    person_says("me tiene encerrada en el cuarto y tengo miedo")  # danger now: the case is an emergency
    expect(phone.locator("#messages")).to_contain_text(es("utter_emergency_now"))
    count = phone.locator(".msg.bot").count()
    phone.locator(".msg.bot .choice", has_text="Sí, una persona").last.click()
    phone.locator(".msg.bot").nth(count).wait_for(timeout=WAIT_MS)
    expect(phone.locator("#messages")).to_contain_text(es("utter_handoff_consent"))
    count = phone.locator(".msg.bot").count()
    phone.locator(".msg.bot .choice", has_text="Compartirlo con servicios que pueden ayudar").click()
    expect(phone.locator("#messages")).to_contain_text(es("utter_handoff_next_open", wait="30"), timeout=WAIT_MS)

    # Live: the case appears at the top of the operator's queue without a reload.
    top = operator.locator("#queue table.cases").first.locator("tbody tr").first
    expect(top).to_contain_text("emergency", timeout=WAIT_MS)
    expect(top).to_contain_text("es")
    expect(top).to_contain_text("share with services")
    top.locator("a.button").click()

    # The case page: safe-contact box, consent, the Spanish words with their machine translation.
    expect(operator.locator("#safe-contact")).to_be_visible()
    expect(operator.locator("#consent")).to_contain_text("share with services")
    transcript = operator.locator("#transcript")
    expect(transcript).to_contain_text("mi jefe me quitó el pasaporte y no me deja salir")
    expect(transcript).to_contain_text("my boss took my passport and does not let me leave", timeout=WAIT_MS)
    expect(transcript.locator(".translation .mt").first).to_contain_text("machine translation es→en")
    # No question form was done: the summary is screened from the person's own words.
    expect(operator.locator("#summary")).to_contain_text("Passport or ID kept by someone else")
    expect(operator.locator("#summary")).to_contain_text("Said they are in danger now")
    case_id = operator.get_attribute("body", "data-case")

    operator.click("#claim")
    expect(operator.locator("#translation-status")).to_contain_text("machine-translated")
    operator.fill("#reply", "We can help you. Are you safe now?")
    operator.click("#send-reply")
    expect(transcript).to_contain_text("Podemos ayudarte. ¿Estás a salvo ahora?")

    # The person's page receives the reply in Spanish, marked as from the team, machine-translated.
    team = phone.locator(".msg.operator").last
    expect(team).to_contain_text("Podemos ayudarte. ¿Estás a salvo ahora?", timeout=WAIT_MS)
    expect(team.locator(".msg-label")).to_have_text("Equipo de Safeline (traducción automática)")

    # The person answers: relayed to the operator, live, with its translation.
    phone.fill("#message-input", "estoy escondida en el baño")
    phone.click("#send")
    expect(phone.locator("#messages")).to_contain_text(es("utter_handoff_relayed"), timeout=WAIT_MS)
    expect(transcript).to_contain_text("estoy escondida en el baño", timeout=WAIT_MS)
    expect(operator.locator("#transcript")).to_contain_text("I am hiding in the bathroom", timeout=WAIT_MS)

    # Close with an outcome: the case and its transcript are gone, the person is told.
    operator.on("dialog", lambda dialog: dialog.accept())
    operator.select_option("#outcome", "referred")
    operator.click("#close")
    expect(operator.locator(".notice")).to_contain_text("Case closed")
    assert case_id not in operator.content()
    expect(phone.locator(".msg.operator").last).to_contain_text(es("utter_handoff_closed"), timeout=WAIT_MS)
    assert operator.goto(f"{base_url}/console/cases/{case_id}").status == 404

    session = phone.evaluate("sessionStorage.getItem('safeline.webchat.session')")
    conversation = pseudonym(stack.settings.secret_key, "webchat", session)
    dump = json.dumps(httpx.get(f"http://127.0.0.1:{stack.settings.internal_port}/debug/store", timeout=10,
                                headers={"Authorization": f"Bearer {stack.settings.internal_token}"}).json(),
                      ensure_ascii=False)
    for words in ("pasaporte", "escondida", "Podemos ayudarte", "my boss took"):
        assert words not in dump
    assert case_id not in json.dumps(api(base_url).json())
    tracker = httpx.get(f"http://127.0.0.1:{stack.settings.rasa_port}/conversations/{conversation}/tracker",
                        timeout=10).json()
    assert not [e for e in tracker.get("events", []) if e.get("event") == "user"]

    # The supervisor sees the closed case in the statistics and the operator's actions in the audit log.
    admin.goto(base_url + "/console/stats")
    expect(admin.locator("#chart-outcome")).to_contain_text("referred")
    admin.goto(base_url + "/console/audit")
    audit = admin.locator("table.audit")
    for action in ("login", "view", "claim", "reply", "close"):
        expect(audit).to_contain_text(action)
    assert "Podemos" not in audit.inner_text() and "pasaporte" not in audit.inner_text()
    for context in (laptop, tablet, phone_context):
        context.close()
