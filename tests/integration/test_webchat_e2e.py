"""End to end through real HTTP on loopback: web chat API → Safeline → Rasa → actions → NLG."""
from __future__ import annotations

import secrets
import time

import httpx
import pytest

from bot.pseudonym import pseudonym
from bot.locales import load_locales

LOCALES = load_locales()


def session() -> str:
    return secrets.token_hex(16)


def say(base_url: str, sid: str, text: str) -> dict:
    response = httpx.post(f"{base_url}/webchat/messages", json={"session": sid, "text": text}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def texts(reply: dict) -> list[str]:
    return [m["text"] for m in reply["messages"]]


def locale_text(lang: str, name: str) -> str:
    return LOCALES[lang].responses[name]["text"].split("{")[0][:25]


@pytest.mark.parametrize("lang,message", [
    ("es", "hola, necesito ayuda, mi jefe me quitó el pasaporte y no me paga"),
    ("th", "สวัสดีค่ะ นายจ้างยึดพาสปอร์ตของฉันและไม่จ่ายเงินเดือน ช่วยด้วย"),
])
def test_a_message_is_answered_in_its_own_language_within_5_seconds(base_url, lang, message):
    started = time.monotonic()
    reply = say(base_url, session(), message)
    assert time.monotonic() - started < 5
    assert reply["language"] == lang
    joined = " ".join(texts(reply))
    assert locale_text(lang, "utter_believe_you") in joined


def test_language_stays_after_ok_and_emoji(base_url):
    sid = session()
    assert say(base_url, sid, "necesito ayuda por favor")["language"] == "es"
    assert say(base_url, sid, "ok")["language"] == "es"
    assert say(base_url, sid, "👍")["language"] == "es"


def test_an_explicit_request_changes_the_language(base_url):
    sid = session()
    say(base_url, sid, "hello, I need some information please")
    reply = say(base_url, sid, "can we speak French")
    assert reply["language"] == "fr"
    assert texts(reply)[-1] == LOCALES["fr"].responses["utter_language_changed"]["text"]


def test_an_unsupported_language_gets_english_and_an_interpreter_line(base_url):
    reply = say(base_url, session(), "Hallo, ich brauche Hilfe, mein Chef hat meinen Pass genommen")
    assert reply["language"] == "en"
    assert texts(reply)[0] == LOCALES["en"].responses["utter_interpreter_available"]["text"]


def test_immediate_danger_first_line_is_the_emergency_number(base_url):
    reply = say(base_url, session(), "he is going to kill me tonight, I am locked in the room")
    assert "112" in texts(reply)[0]


def test_buttons_are_returned_with_title_and_payload(base_url):
    reply = say(base_url, session(), "hi")
    buttons = reply["messages"][0]["buttons"]
    assert {"title", "payload"} <= set(buttons[0]) and buttons[0]["payload"].startswith("/")


def test_delete_my_data_erases_the_tracker_after_confirmation(base_url, rasa_url, stack):
    sid = session()
    say(base_url, sid, "my boss took my passport and I cannot leave")
    confirm = say(base_url, sid, "please delete all my data")
    assert confirm["messages"][0]["buttons"]
    done = say(base_url, sid, "/affirm")
    assert texts(done) == [LOCALES["en"].responses["utter_data_deleted"]["text"]]
    conversation = pseudonym(stack.settings.secret_key, "webchat", sid)
    tracker = httpx.get(f"{rasa_url}/conversations/{conversation}/tracker", timeout=10).json()
    user_texts = [e.get("text") for e in tracker["events"] if e.get("event") == "user"]
    assert user_texts == []


def test_quick_exit_ends_the_conversation_on_the_server(base_url, rasa_url, stack):
    sid = session()
    say(base_url, sid, "I am scared, my husband checks my phone")
    response = httpx.post(f"{base_url}/webchat/end", json={"session": sid}, timeout=10)
    assert response.status_code == 200
    conversation = pseudonym(stack.settings.secret_key, "webchat", sid)
    tracker = httpx.get(f"{rasa_url}/conversations/{conversation}/tracker", timeout=10).json()
    assert [e for e in tracker["events"] if e.get("event") == "user"] == []


def test_rasa_answers_model_parse_on_localhost(rasa_url):
    result = httpx.post(f"{rasa_url}/model/parse", json={"text": "can I talk to a real person"}, timeout=10).json()
    assert result["intent"]["name"] == "talk_to_human"


@pytest.mark.parametrize("body,status", [
    (b"not json", 400),
    (b"[1,2]", 400),
    (b'{"session": "x", "text": "hi"}', 400),
    (b'{"session": "abcdefgh12345678", "text": 5}', 400),
    (b'{"session": "abcdefgh12345678"}', 400),
    (b"[" * 30_000, 400),
])
def test_malformed_requests_get_a_clear_json_error(base_url, body, status):
    response = httpx.post(f"{base_url}/webchat/messages", content=body,
                          headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == status
    assert response.json()["error"]


def test_a_2000_character_message_and_an_emoji_only_message_are_answered(base_url):
    sid = session()
    long_text = ("my boss keeps my passport and I work every day without pay. " * 40)[:2000]
    assert texts(say(base_url, sid, long_text))
    assert texts(say(base_url, sid, "🙏😢"))


def test_an_oversized_body_is_refused_with_413(base_url):
    response = httpx.post(f"{base_url}/webchat/messages",
                          json={"session": session(), "text": "a" * 200_000}, timeout=10)
    assert response.status_code == 413


def test_pages_carry_security_headers(base_url):
    page = httpx.get(f"{base_url}/", timeout=10)
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["referrer-policy"] == "no-referrer"
