"""Screening end to end through the web chat: offer, consent, questions, skip, danger, summary."""
from __future__ import annotations

import secrets

import httpx
import pytest

from bot.locales import load_locales

LOCALES = load_locales()
pytestmark = pytest.mark.stack


def say(base_url: str, sid: str, text: str) -> dict:
    response = httpx.post(f"{base_url}/webchat/messages", json={"session": sid, "text": text}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def payloads(reply: dict) -> list[str]:
    return [b["payload"] for m in reply["messages"] for b in m.get("buttons", [])]


def test_a_person_is_offered_screening_gives_consent_can_skip_everything_and_the_team_is_told(base_url):
    sid = secrets.token_hex(16)
    first = say(base_url, sid, "mi jefe me quitó el pasaporte y no me paga")
    assert "/start_screening" in payloads(first)
    consent = say(base_url, sid, "/start_screening")
    assert consent["messages"][-1]["text"] == LOCALES["es"].responses["utter_screening_consent"]["text"]
    reply = say(base_url, sid, "/affirm")
    for _ in range(6):
        if "/skip" not in payloads(reply):
            break
        assert "saltar" in reply["messages"][-1]["text"].lower()  # every question says it can be skipped
        reply = say(base_url, sid, "/skip")
    passed = LOCALES["es"].responses["utter_screening_passed_on"]["text"].split("{")[0]
    assert any(m["text"].startswith(passed) for m in reply["messages"]), reply


def test_danger_in_the_middle_of_screening_gives_the_emergency_line_at_once(base_url):
    sid = secrets.token_hex(16)
    say(base_url, sid, "I'm worried about my neighbour's maid, she never goes out")
    say(base_url, sid, "/start_screening")
    question = say(base_url, sid, "/affirm")
    assert "/skip" in payloads(question)
    reply = say(base_url, sid, "he is hitting me right now please help")
    emergency = LOCALES["en"].responses["utter_emergency_now"]["text"].split("{")[0]
    assert reply["messages"][0]["text"].startswith(emergency)
    assert "/skip" not in payloads(reply)
