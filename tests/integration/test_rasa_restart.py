"""Rasa killed mid-conversation: webhooks still acknowledge at once, people get a short notice, and
every message sent meanwhile is answered once, in order and in its language, after Rasa returns."""
from __future__ import annotations

import time

from bot.locales import load_locales
from fakes import wait_for
from people import SmsPerson, TelegramUser, texts, twiml_bodies, wait_idle

LOCALES = load_locales()


def text_of(lang: str, name: str) -> str:
    return LOCALES[lang].responses[name]["text"].replace("{emergency_number}", "112")


def start_of(lang: str, name: str) -> str:
    return LOCALES[lang].responses[name]["text"].split("{")[0][:20]


def test_messages_sent_while_rasa_is_down_are_answered_once_after_it_returns(base_url, stack, fake_telegram,
                                                                             fake_twilio):
    telegram = TelegramUser(base_url, fake_telegram, stack, language_code="es")
    sms = SmsPerson(base_url, fake_twilio, stack)
    assert telegram.say("hola, necesito ayuda por favor")
    assert sms.say("hello")
    telegram.latencies.clear()
    sms.latencies.clear()
    before_tg = len(telegram.sent())
    before_sms = len(fake_twilio.sent(sms.number))

    stack.kill("rasa")
    try:
        first = telegram.message_update("¿qué derechos tengo aquí?")
        for update in (first, telegram.message_update("quiero hablar con una persona")):
            assert telegram.post(update).status_code == 200
        form = sms.form("what are my rights")
        answer = sms.post(form)
        assert answer.status_code == 200 and twiml_bodies(answer.text) == []  # not answered yet …
        assert max(telegram.latencies) < 1.0 and max(sms.latencies) < 1.0  # … but acknowledged at once

        # After a few seconds each person is told, once, in their language, with the emergency number.
        notice_es, notice_en = text_of("es", "utter_service_unavailable"), text_of("en", "utter_service_unavailable")
        wait_for(lambda: notice_es in texts(telegram.sent()[before_tg:]), timeout=20)
        wait_for(lambda: notice_en in fake_twilio.sent(sms.number)[before_sms:], timeout=20)
        # Telegram and Twilio retrying their webhooks meanwhile changes nothing.
        assert telegram.post(first).status_code == 200
        assert sms.post(form).status_code == 200
        time.sleep(1.0)
    finally:
        stack.restart("rasa")
    wait_idle(stack, timeout=120)

    telegram_replies = texts(telegram.sent()[before_tg:])
    assert telegram_replies.count(text_of("es", "utter_service_unavailable")) == 1
    rights = [i for i, t in enumerate(telegram_replies) if t.startswith(start_of("es", "utter_rights_support"))]
    human = [i for i, t in enumerate(telegram_replies) if t.startswith(start_of("es", "utter_handoff_consent"))]
    assert len(rights) == 1 and len(human) == 1 and rights[0] < human[0], telegram_replies

    sms_replies = fake_twilio.sent(sms.number)[before_sms:]
    assert sms_replies.count(text_of("en", "utter_service_unavailable")) == 1
    assert sum(start_of("en", "utter_rights_support") in body for body in sms_replies) == 1, sms_replies

    # The conversations go on normally afterwards.
    assert sms.say("thank you")
