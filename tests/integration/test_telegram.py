"""Telegram end to end through real HTTP on loopback: webhook → queue → worker → Rasa → fake Bot API."""
from __future__ import annotations

import statistics

import httpx
import pytest

from bot.locales import load_locales
from bot.pseudonym import pseudonym
from people import TelegramUser, buttons, texts, wait_idle

LOCALES = load_locales()


def locale_start(lang: str, name: str, chars: int = 25) -> str:
    """The beginning of a locale text (before any placeholder), to recognise it in replies."""
    return LOCALES[lang].responses[name]["text"].split("{")[0][:chars]


@pytest.fixture
def person(base_url, fake_telegram, stack) -> TelegramUser:
    return TelegramUser(base_url, fake_telegram, stack)


def store_dump(stack) -> dict:
    url = f"http://127.0.0.1:{stack.settings.internal_port}/debug/store"
    return httpx.get(url, headers={"Authorization": f"Bearer {stack.settings.internal_token}"}, timeout=10).json()


def test_a_spanish_conversation_start_button_and_free_text(base_url, fake_telegram, stack):
    person = TelegramUser(base_url, fake_telegram, stack, language_code="es")
    greeting = person.say("/start")
    assert len(greeting) == 1
    assert greeting[0]["text"].startswith(locale_start("es", "utter_greet"))
    keyboard = buttons(greeting[0])
    assert [b["callback_data"] for b in keyboard][0] == "/i_need_help"
    assert keyboard[0]["text"] == LOCALES["es"].responses["utter_greet"]["buttons"][0]["title"]

    tapped = person.tap("/i_need_help", greeting[0]["message_id"])
    assert tapped and all(m["text"] for m in tapped)
    assert locale_start("es", "utter_help_without_police") in " ".join(texts(tapped))
    calls = fake_telegram.snapshot()
    assert any(c["method"] == "answerCallbackQuery" for c in calls)

    reply = person.say("mi jefe me quitó el pasaporte y no me paga, no puedo salir")
    assert locale_start("es", "utter_believe_you") in " ".join(texts(reply))


def test_a_thai_conversation_is_answered_in_thai(person):
    reply = person.say("สวัสดีค่ะ ฉันต้องการความช่วยเหลือ นายจ้างไม่ให้ฉันออกไปไหน")
    assert reply
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in " ".join(texts(reply)))


def test_the_webhook_acknowledges_within_a_second(person):
    for text in ("hello", "I need help", "what are my rights", "thank you"):
        response = person.post(person.message_update(text))
        assert response.status_code == 200
    wait_idle(person.stack)
    assert max(person.latencies) < 1.0, person.latencies
    print(f"telegram ack latency: median {statistics.median(person.latencies) * 1000:.0f} ms, "
          f"max {max(person.latencies) * 1000:.0f} ms")


@pytest.mark.parametrize("secret,status", [(None, 401), ("wrong-secret", 403), ("", 403)])
def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_processed(person, secret, status):
    response = person.post(person.message_update("hello, is anyone there?"), secret=secret)
    assert response.status_code == status
    wait_idle(person.stack)
    assert person.sent() == []


def test_a_retried_update_is_answered_once(person):
    update = person.message_update("hello")
    assert person.post(update).status_code == 200
    assert person.post(update).status_code == 200
    wait_idle(person.stack)
    greetings = [t for t in texts(person.sent()) if t.startswith(locale_start("en", "utter_greet"))]
    assert len(greetings) == 1


@pytest.mark.parametrize("fields", [
    {"sticker": {"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1, "is_animated": False,
                 "is_video": False, "type": "regular"}},
    {"photo": [{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}]},
    {"voice": {"file_id": "x", "file_unique_id": "y", "duration": 3}},
    {"location": {"latitude": 48.85, "longitude": 2.35}},
    {"contact": {"phone_number": "+15550001234", "first_name": "X"}},
])
def test_non_text_messages_get_i_can_only_read_text(person, fields):
    reply = person.say(None, **fields)
    assert texts(reply) == [LOCALES["en"].responses["utter_only_text"]["text"]]


def test_an_edited_message_gets_a_clear_answer(person):
    update = person.message_update("hello")
    update["edited_message"] = update.pop("message")
    assert person.post(update).status_code == 200
    wait_idle(person.stack)
    assert texts(person.sent()) == [LOCALES["en"].responses["utter_edits_not_read"]["text"]]


@pytest.mark.parametrize("text", ["x" * 4000, "مرحبا، أحتاج إلى المساعدة. صاحب العمل أخذ جواز سفري", "🙏😢🆘"])
def test_long_rtl_and_emoji_texts_are_answered(person, text):
    assert person.say(text)


def test_unknown_update_types_are_acknowledged_and_ignored(person):
    poll = {"update_id": 7_000_001, "poll": {"id": "1", "question": "?", "options": [], "total_voter_count": 0,
                                             "is_closed": False, "is_anonymous": True, "type": "regular",
                                             "allows_multiple_answers": False}}
    assert person.post(poll).status_code == 200
    assert person.post({"update_id": 7_000_002, "something_new": {"a": 1}}).status_code == 200


@pytest.mark.parametrize("content,status", [
    (b"not json", 400), (b"[1, 2]", 400), (b'{"update_id": "7"}', 400), (b'{"message": {}}', 400),
    (b'{"update_id": true}', 400), (b"\xff\xfe", 400), (b"[" * 30_000, 400),
])
def test_malformed_updates_get_a_clear_400(person, content, status):
    response = person.post(None, content=content)
    assert response.status_code == status
    assert response.json()["error"]


def test_an_oversized_update_is_refused_with_413(person):
    response = person.post(None, content=b'{"update_id": 1, "x": "' + b"a" * 200_000 + b'"}')
    assert response.status_code == 413


def test_group_chats_are_refused_politely_once_and_left(base_url, fake_telegram, stack):
    group_id = -1001234567890
    update = {"update_id": 7_100_001, "message": {
        "message_id": 1, "date": 0, "chat": {"id": group_id, "type": "supergroup", "title": "G"},
        "from": {"id": 42, "is_bot": False, "first_name": "A", "language_code": "fr"}, "text": "salut le bot"}}
    person = TelegramUser(base_url, fake_telegram, stack)
    assert person.post(update).status_code == 200
    second = {**update, "update_id": 7_100_002}
    assert person.post(second).status_code == 200
    wait_idle(stack)
    sent = fake_telegram.sent(group_id)
    assert texts(sent) == [LOCALES["fr"].responses["utter_private_only"]["text"]]
    assert fake_telegram.sent(group_id, "leaveChat")
    conversation = pseudonym(stack.settings.secret_key, "telegram", str(group_id))
    assert conversation not in store_dump(stack)["prefs"]


def test_help_and_language_commands(person):
    help_text = texts(person.say("/help"))
    assert help_text == [LOCALES["en"].responses["utter_telegram_help"]["text"].replace("{emergency_number}", "112")]
    picker = person.say("/language")
    codes = [b["callback_data"] for b in buttons(picker[-1])]
    assert len(codes) == 12 and '/change_language{"language":"uk"}' in codes
    changed = person.tap('/change_language{"language":"uk"}', picker[-1].get("message_id", 0))
    assert texts(changed)[-1] == LOCALES["uk"].responses["utter_language_changed"]["text"]


def test_delete_erases_the_chat_messages_on_both_sides_and_the_records(person, stack, fake_telegram):
    person.say("my boss took my passport")
    person.say("I am scared")
    confirm = person.say("/delete")
    assert [b["callback_data"] for b in buttons(confirm[-1])] == ["/affirm", "/deny"]
    bot_ids = {m["message_id"] for m in person.sent()}
    done = person.tap("/affirm", confirm[-1]["message_id"])
    assert texts(done) == [LOCALES["en"].responses["utter_telegram_deleted"]["text"]]
    deletions = fake_telegram.sent(person.chat_id, "deleteMessages")
    assert len(deletions) == 1
    deleted = set(deletions[0]["message_ids"])
    assert bot_ids <= deleted  # every message the bot sent before the erasure …
    assert len(deleted - bot_ids) == 3  # … and the person's three messages
    conversation = pseudonym(stack.settings.secret_key, "telegram", str(person.chat_id))
    dump = store_dump(stack)
    for section in ("conversations", "prefs", "addresses", "traces"):
        assert conversation not in dump[section], section


def test_discreet_mode_is_quiet_and_neutral(person):
    on = person.say("/discreet")
    assert texts(on) == [LOCALES["en"].responses["utter_discreet_on"]["text"].replace("{off_command}", "/discreet off")]
    info = person.tap("/ask_what_is_trafficking", 0)
    assert info
    assert all("traffick" not in t.lower() for t in texts(info))
    assert all(m.get("disable_notification") is True for m in info)
    assert texts(person.say("/discreet off")) == [LOCALES["en"].responses["utter_discreet_off"]["text"]]


def test_a_code_word_is_confirmed(person):
    assert texts(person.say("/codeword tulip")) == [LOCALES["en"].responses["utter_code_word_set"]["text"]]


def test_make_telegram_webhook_registers_the_webhook_with_secret_and_update_types(fake_telegram, tmp_path):
    import os
    import subprocess
    import sys

    from people import PUBLIC_URL, TELEGRAM_SECRET, TELEGRAM_TOKEN

    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
           "TELEGRAM_API_BASE_URL": fake_telegram.url, "SAFELINE_PUBLIC_URL": PUBLIC_URL,
           "SAFELINE_SECRET_KEY": "k" * 48, "SAFELINE_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot.channels.telegram_setup"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert TELEGRAM_SECRET not in done.stdout + done.stderr
    registered = [c for c in fake_telegram.snapshot() if c["method"] == "setWebhook"][-1]
    assert registered["url"] == PUBLIC_URL + "/telegram/webhook"
    assert registered["secret_token"] == TELEGRAM_SECRET
    assert set(registered["allowed_updates"]) == {"message", "edited_message", "callback_query", "my_chat_member"}
    menus = [c for c in fake_telegram.snapshot() if c["method"] == "setMyCommands"]
    assert {c.get("language_code") for c in menus} >= {None, "es", "th", "ar"}


def test_start_never_reveals_whether_someone_wrote_before(base_url, fake_telegram, stack):
    known = TelegramUser(base_url, fake_telegram, stack)
    known.say("my boss took my passport")
    new = TelegramUser(base_url, fake_telegram, stack)
    again, first = known.say("/start"), new.say("/start")
    assert texts(again) == texts(first) and [buttons(m) for m in again] == [buttons(m) for m in first]
