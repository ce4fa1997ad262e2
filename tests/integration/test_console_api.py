"""A Spanish web chat conversation to a handoff, read back through the operator API (CONTRACTS §6/§7);
relay mode; operator replies reaching Telegram; closing deletes the conversation everywhere."""
from __future__ import annotations

import secrets

import httpx
import pytest

from bot.locales import load_locales
from bot.pseudonym import pseudonym
from console_people import api, close_case, console_login, csrf_of
from people import TelegramUser, buttons, texts

LOCALES = load_locales()
SUMMARY_FIELDS = {"id", "created_at", "channel", "conversation", "language", "interpreter_needed", "urgency",
                  "reporter", "minor", "forms", "indicators", "needs", "safe_contact", "consent_to_share",
                  "location_hint", "summary_text", "transcript", "status"}


def say(base_url: str, session: str, text: str) -> dict:
    response = httpx.post(f"{base_url}/webchat/messages", json={"session": session, "text": text}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def text_of(lang: str, name: str, **values: str) -> str:
    values = {"emergency_number": "112", "helpline_name": "Safeline", **values}
    return LOCALES[lang].responses[name]["text"].format(**values)


def payloads(reply: dict) -> list[str]:
    return [b["payload"] for m in reply["messages"] for b in m.get("buttons", [])]


@pytest.fixture(scope="module")
def admin(base_url):
    client = console_login(base_url)
    yield client
    client.close()


def test_the_api_refuses_requests_without_a_valid_token(base_url):
    assert api(base_url, token=None).status_code == 401
    assert api(base_url, token="not-the-token").status_code == 401
    assert api(base_url, status="open", token=None).status_code == 401
    assert api(base_url, status="nonsense").status_code == 400


def test_a_spanish_web_chat_handoff_is_read_back_with_every_summary_field(base_url, stack, admin):
    session = secrets.token_hex(16)
    say(base_url, session, "hola, necesito ayuda")
    say(base_url, session, "mi jefe me quitó el pasaporte y no me deja salir")
    asked = say(base_url, session, "quiero hablar con una persona")
    assert asked["language"] == "es"
    assert text_of("es", "utter_handoff_consent") in [m["text"] for m in asked["messages"]]
    assert payloads(asked)[:3] == ['/handoff_consent{"consent":"share"}', '/handoff_consent{"consent":"confidential"}',
                                   '/handoff_consent{"consent":"anonymous"}']
    conversation = pseudonym(stack.settings.secret_key, "webchat", session)
    assert all(s["conversation"] != conversation for s in api(base_url).json())  # not before consent

    handed = say(base_url, session, '/handoff_consent{"consent":"share"}')
    said = [m["text"] for m in handed["messages"]]
    assert said == [text_of("es", "utter_handoff_shared"), text_of("es", "utter_handoff_next_open", wait="30")]

    (summary,) = [s for s in api(base_url, status="open").json() if s["conversation"] == conversation]
    assert SUMMARY_FIELDS <= set(summary)
    assert summary["language"] == "es" and summary["channel"] == "webchat" and summary["status"] == "open"
    assert summary["interpreter_needed"] is False and summary["consent_to_share"] is True
    assert summary["urgency"] in ("emergency", "high", "medium", "low") and summary["reporter"] is None
    assert isinstance(summary["forms"], list) and isinstance(summary["indicators"], list)
    assert set(summary["safe_contact"]) >= {"ok_to_message", "times", "code_word", "notes"}
    assert summary["summary_text"]
    person = [line for line in summary["transcript"] if line["from"] == "person"]
    assert "mi jefe me quitó el pasaporte y no me deja salir" in [line["text"] for line in person]
    assert summary["created_at"].endswith("+00:00")

    # Relay: what the person writes now goes to the team, not to the bot, with a one-time note.
    again = say(base_url, session, "/talk_to_human")  # an old "talk to a person" button
    assert [m["text"] for m in again["messages"]] == [text_of("es", "utter_handoff_already")]
    relayed = say(base_url, session, "quiero hablar con una persona")
    assert [m["text"] for m in relayed["messages"]] == [text_of("es", "utter_handoff_relayed")]
    assert say(base_url, session, "¿hola?")["messages"] == []
    (summary,) = [s for s in api(base_url).json() if s["conversation"] == conversation]
    assert summary["transcript"][-1]["text"] == "¿hola?"

    # Closing (retention: at close) leaves nothing of it to read back.
    assert close_case(admin, summary["id"], "advice_given").status_code == 200
    assert all(s["id"] != summary["id"] for s in api(base_url).json())
    assert api(base_url, status="closed").json() == []


def test_a_typed_yes_stays_confidential_and_anonymous_hides_the_persons_words(base_url, stack, admin):
    confidential, anonymous = secrets.token_hex(16), secrets.token_hex(16)
    for session in (confidential, anonymous):
        say(base_url, session, "necesito ayuda, no me pagan")
        say(base_url, session, "quiero hablar con una persona")
    assert text_of("es", "utter_handoff_confidential") in [m["text"] for m in say(base_url, confidential, "sí")["messages"]]
    say(base_url, anonymous, '/handoff_consent{"consent":"anonymous"}')
    by_id = {s["id"]: s for s in api(base_url, status="open").json()}
    mine = {}
    for summary in by_id.values():
        if summary["conversation"] == pseudonym(stack.settings.secret_key, "webchat", confidential):
            mine["confidential"] = summary
        elif summary["consent"] == "anonymous":
            mine["anonymous"] = summary
    assert mine["confidential"]["consent_to_share"] is False and mine["confidential"]["transcript"]
    hidden = mine["anonymous"]
    assert hidden["conversation"] is None and hidden["transcript"] == [] and hidden["consent_to_share"] is False
    assert hidden["language"] == "es" and hidden["channel"] == "webchat"
    for summary in mine.values():
        close_case(admin, summary["id"])


def test_telegram_relay_delivers_the_operators_translated_reply_and_closing_removes_the_address(
        base_url, stack, fake_telegram, admin):
    person = TelegramUser(base_url, fake_telegram, stack, language_code="es")
    person.say("hola, necesito ayuda, mi jefe me quitó el pasaporte y no me deja salir")
    asked = person.say("quiero hablar con una persona")
    consent = next(m for m in asked if buttons(m))
    person.tap(buttons(consent)[1]["callback_data"], consent["message_id"])  # confidential
    conversation = pseudonym(stack.settings.secret_key, "telegram", str(person.chat_id))
    (summary,) = [s for s in api(base_url).json() if s["conversation"] == conversation]
    assert summary["channel"] == "telegram" and summary["language"] == "es"

    token = csrf_of(admin.get(f"/console/cases/{summary['id']}").text)
    assert admin.post(f"/console/cases/{summary['id']}/claim", data={"csrf": token}).status_code == 200
    reply = admin.post(f"/console/cases/{summary['id']}/reply",
                       data={"csrf": token, "text": "We can help you. Are you safe now?"})
    assert reply.status_code == 200
    from people import wait_idle
    wait_idle(stack)
    assert texts(person.sent())[-1] == "Podemos ayudarte. ¿Estás a salvo ahora?"

    close_case(admin, summary["id"], "referred")
    wait_idle(stack)
    assert texts(person.sent())[-1] == text_of("es", "utter_handoff_closed")
    dump = httpx.get(f"http://127.0.0.1:{stack.settings.internal_port}/debug/store", timeout=10,
                     headers={"Authorization": f"Bearer {stack.settings.internal_token}"}).json()
    assert conversation not in dump["addresses"] and conversation not in dump["conversations"]
    assert all(r["conversation"] != conversation for r in dump["handoff_records"].values())


def test_without_a_translation_package_the_console_says_so_and_the_reply_goes_as_written(base_url, stack, admin):
    session = secrets.token_hex(16)
    say(base_url, session, "Bonjour, j'ai besoin d'aide, mon patron garde mon passeport")
    say(base_url, session, "je veux parler à une personne")
    handed = say(base_url, session, '/handoff_consent{"consent":"confidential"}')
    assert handed["language"] == "fr"
    conversation = pseudonym(stack.settings.secret_key, "webchat", session)
    (summary,) = [s for s in api(base_url).json() if s["conversation"] == conversation]
    page = admin.get(f"/console/cases/{summary['id']}").text
    assert "No translation package for en→fr" in page
    token = csrf_of(page)
    admin.post(f"/console/cases/{summary['id']}/claim", data={"csrf": token})
    admin.post(f"/console/cases/{summary['id']}/reply", data={"csrf": token, "text": "Hello, we are here."})
    updates = httpx.post(f"{base_url}/webchat/updates", json={"session": session}, timeout=10).json()["messages"]
    assert updates == [{"text": "Hello, we are here.", "from": "operator", "label": "Équipe Safeline"}]
    assert httpx.post(f"{base_url}/webchat/updates", json={"session": session}, timeout=10).json() == {"messages": []}
    (summary,) = [s for s in api(base_url).json() if s["conversation"] == conversation]
    assert summary["transcript"][-1]["machine_translated"] is False
    close_case(admin, summary["id"])


def test_the_stack_created_the_first_supervisor_from_the_configured_credentials(stack):
    assert stack.first_supervisor["username"] == "admin"
    assert stack.first_supervisor["password"] is None  # given in SAFELINE_ADMIN_PASSWORD, so not printed
    assert stack.first_supervisor["totp_uri"].startswith("otpauth://totp/Safeline:admin?secret=")
