"""After real conversations on both channels, nothing Safeline wrote holds a phone number or Telegram id.

Scanned: the whole store (debug dump), Rasa's trackers, and every file in the data directory
(the logs of Safeline, Rasa and the action server included). Twilio's location fields, sent with
every SMS, must not be anywhere either.
"""
from __future__ import annotations

import json
from pathlib import Path

import httpx

from bot.pseudonym import pseudonym
from people import SmsPerson, TelegramUser, buttons, wait_idle


def everything_written(stack, conversations: list[str]) -> dict[str, str]:
    """Every place Safeline (and Rasa, fed by it) wrote to, as text, by name."""
    settings = stack.settings
    dump = httpx.get(f"http://127.0.0.1:{settings.internal_port}/debug/store",
                     headers={"Authorization": f"Bearer {settings.internal_token}"}, timeout=10)
    assert dump.status_code == 200
    written = {"store": dump.text}
    for conversation in conversations:
        tracker = httpx.get(f"http://127.0.0.1:{settings.rasa_port}/conversations/{conversation}/tracker", timeout=10)
        written[f"tracker {conversation[:8]}"] = tracker.text
    for path in Path(settings.data_dir).rglob("*"):
        if path.is_file():
            written[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    return written


def test_no_raw_phone_number_or_telegram_id_is_written_anywhere(base_url, stack, fake_telegram, fake_twilio):
    spanish = TelegramUser(base_url, fake_telegram, stack, chat_id=735_201_118, language_code="es")
    french = TelegramUser(base_url, fake_telegram, stack, chat_id=598_337_402, language_code="fr")
    greeting = spanish.say("/start")
    spanish.tap(buttons(greeting[0])[0]["callback_data"], greeting[0]["message_id"])
    spanish.say("mi jefe me quitó el pasaporte y no me deja salir")
    spanish.say("quiero hablar con una persona")
    french.say("Bonjour, j'ai besoin d'aide, mon patron garde mon passeport")
    french.say("/discreet")
    french.say("/codeword lilas")

    mexico = SmsPerson(base_url, fake_twilio, stack, number="+5215512345678")
    kyiv = SmsPerson(base_url, fake_twilio, stack, number="+380671234567")
    assert mexico.say("hola, necesito ayuda, no me pagan y me quitaron los documentos")
    mexico.say("1")
    mexico.say("quiero hablar con una persona")
    assert kyiv.say("Добрий день, мені потрібна допомога, роботодавець забрав мій паспорт")
    kyiv.say("HELP")
    wait_idle(stack)

    secret = stack.settings.secret_key
    conversations = [pseudonym(secret, "telegram", str(u.chat_id)) for u in (spanish, french)] + \
                    [pseudonym(secret, "sms", p.number) for p in (mexico, kyiv)]
    written = everything_written(stack, conversations)

    # The scan is meaningful: the conversations are there, under their pseudonyms.
    store = json.loads(written["store"])
    assert set(conversations) <= set(store["prefs"])
    assert any(r["conversation"] == conversations[0] for rs in store["handoffs"].values() for r in rs)
    assert all('"event": "user"' in written[f"tracker {c[:8]}"] or '"event":"user"' in written[f"tracker {c[:8]}"]
               for c in conversations)

    identifiers = ["735201118", "598337402", "5215512345678", "5512345678", "380671234567", "671234567",
                   "SPRINGFIELD", "62701"]
    leaks = [(identifier, where) for where, text in written.items() for identifier in identifiers
             if identifier in text]
    assert leaks == []
