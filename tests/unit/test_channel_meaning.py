"""What channel input means (keywords, commands, options) and how replies are shaped per channel."""
from __future__ import annotations

import asyncio

import pytest

from bot.address_vault import AddressVault
from bot.channels.sms import SmsChannel
from bot.channels.sms_segments import segments
from bot.channels.telegram import MAX_CALLBACK_DATA, TelegramChannel
from bot.config import Settings
from bot.locales import Catalog, load_locales
from bot.nlg import render_for_rasa
from bot.stores.memory import MemoryStore

LOCALES = load_locales()
CATALOG = Catalog(LOCALES, "en", {"helpline_name": "Safeline", "emergency_number": "112"})
SETTINGS = Settings.from_env({
    "SAFELINE_SECRET_KEY": "s" * 48, "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t",
    "TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_SECRET": "secret",
})
VAULT = AddressVault(SETTINGS.secret_key, 3600)


@pytest.fixture
def sms() -> SmsChannel:
    return SmsChannel(SETTINGS, MemoryStore(3600), VAULT, CATALOG)


@pytest.fixture
def telegram() -> TelegramChannel:
    return TelegramChannel(SETTINGS, MemoryStore(3600), VAULT)


def text_entry(text: str, kind: str = "text") -> dict:
    return {"kind": kind, "text": text}


@pytest.mark.parametrize("word", ["STOP", "stop", "Stop.", "UNSUBSCRIBE", "quit"])
def test_sms_stop_words_opt_out_silently_and_forget_the_address(sms, word):
    step = sms.interpret(text_entry(word), {})
    assert step.silent and step.forget_address and step.prefs["opted_out"] is True


def test_sms_after_stop_nothing_is_answered_until_start(sms):
    opted_out = {"opted_out": True}
    assert sms.interpret(text_entry("I need help"), opted_out).silent
    assert sms.interpret(text_entry("HELP"), opted_out).silent
    resumed = sms.interpret(text_entry("START"), opted_out)
    assert resumed.silent and resumed.prefs == {"opted_out": None}
    assert sms.interpret(text_entry("yes"), opted_out).prefs == {"opted_out": None}
    assert sms.interpret(text_entry("yes"), {}).rasa_text == "yes"  # otherwise "yes" is an answer


def test_sms_help_discreet_and_code_word_keywords(sms):
    assert sms.interpret(text_entry("help"), {}).respond == "utter_sms_help"
    on = sms.interpret(text_entry("discreet"), {})
    assert on.prefs == {"discreet": True} and on.values == {"off_command": "DISCREET OFF"}
    assert sms.interpret(text_entry("Discreet off"), {}).prefs == {"discreet": None}
    assert sms.interpret(text_entry("CODE Tulip"), {}).prefs == {"code_word": "Tulip"}
    assert sms.interpret(text_entry("code off"), {}).prefs == {"code_word": None}
    assert sms.interpret(text_entry("CODE"), {}).respond == "utter_code_word_how"


def test_sms_numbered_options_and_zero_for_more(sms):
    prefs = {"sms_options": {"1": "/affirm", "2": "/deny"}, "sms_more": "The rest."}
    assert sms.interpret(text_entry(" 2 "), prefs).rasa_text == "/deny"
    assert sms.interpret(text_entry("3"), prefs).rasa_text == "3"
    more = sms.interpret(text_entry("0"), prefs)
    assert more.messages == [{"text": "The rest."}] and more.continuation
    assert sms.interpret(text_entry("0"), {}).rasa_text == "0"


def test_sms_empty_or_media_only_gets_only_text(sms):
    assert sms.interpret(text_entry("", kind="unsupported"), {}).respond == "utter_only_text"
    assert sms.interpret(text_entry("   "), {}).respond == "utter_only_text"


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_every_locale_reply_fits_two_single_segment_parts_with_working_options(sms, lang):
    for name in ("utter_greet", "utter_myths", "utter_confirm_delete", "utter_rights_more"):
        composition = sms.compose([CATALOG.render(name, lang)], lang, {})
        bodies = [p["body"] for p in composition.payloads]
        assert 1 <= len(bodies) <= 2 and all(segments(b) == 1 for b in bodies), (name, bodies)
        buttons = LOCALES[lang].responses[name].get("buttons", [])
        assert composition.prefs.get("sms_options") == ({str(i): b["payload"] for i, b in enumerate(buttons, 1)}
                                                        or None)


def test_sms_language_picker_and_continuations_eventually_show_everything(sms):
    picker = render_for_rasa(CATALOG, {"response": "utter_choose_language", "tracker": {"slots": {"language": "en"}}})
    composition = sms.compose([picker], "en", {})
    shown = [p["body"] for p in composition.payloads]
    more = composition.prefs["sms_more"]
    while more:
        follow = sms.compose([{"text": more}], "en", {}, continuation=True)
        shown += [p["body"] for p in follow.payloads]
        assert "sms_options" not in follow.prefs
        more = follow.prefs["sms_more"]
    assert all(f"{n}) " in "\n".join(shown) for n in range(1, 13))
    assert composition.prefs["sms_options"]["12"].startswith("/change_language")


def test_sms_wording_is_neutral_unless_the_person_used_the_word(sms):
    info = CATALOG.render("utter_what_is_trafficking", "en")
    assert "traffick" not in " ".join(p["body"] for p in sms.compose([info], "en", {}).payloads).lower()
    own = sms.compose([info], "en", {"said_trafficking": True})
    assert "Trafficking" in own.payloads[0]["body"]


def test_sms_operator_messages_start_with_the_code_word(sms):
    bodies = [p["body"] for p in sms.compose([{"text": "We can talk now."}], "en", {"code_word": "tulip"},
                                             operator=True).payloads]
    assert bodies[0].startswith("tulip:")


def test_inline_replies_hand_parts_to_a_waiting_webhook_then_stop(sms):
    async def scenario():
        sms.inline.expect("r1")
        waiting = asyncio.create_task(sms.inline.collect("r1", 1.0))
        await asyncio.sleep(0)
        assert sms.inline.offer("r1", {"body": "a", "index": 0, "count": 2})
        assert sms.inline.offer("r1", {"body": "b", "index": 1, "count": 2})
        bodies = await waiting
        return bodies, sms.inline.offer("r1", {"body": "c", "index": 0, "count": 1})

    bodies, late = asyncio.run(scenario())
    assert bodies == ["a", "b"] and late is False


@pytest.mark.parametrize("command,expected", [
    ("start", "/greet"), ("language", "/change_language"), ("delete", "/delete_my_data"),
])
def test_telegram_commands_that_go_to_rasa(telegram, command, expected):
    assert telegram.interpret({"kind": "command", "command": command, "argument": ""}, {}).rasa_text == expected


def test_telegram_local_commands(telegram):
    def step(command, argument=""):
        return telegram.interpret({"kind": "command", "command": command, "argument": argument}, {})

    assert step("help").respond == "utter_telegram_help"
    assert step("whatever").respond == "utter_telegram_help"
    assert step("discreet").prefs == {"discreet": True}
    assert step("discreet", "off").prefs == {"discreet": None}
    assert step("codeword", "tulip").prefs == {"code_word": "tulip"}
    assert step("codeword").respond == "utter_code_word_how"
    assert telegram.interpret({"kind": "edited"}, {}).respond == "utter_edits_not_read"
    assert telegram.interpret({"kind": "unsupported"}, {}).respond == "utter_only_text"
    assert telegram.interpret({"kind": "text", "text": "  "}, {}).respond == "utter_only_text"


def test_telegram_replies_keep_buttons_within_the_callback_limit_and_split_long_texts(telegram):
    message = {"text": "word " * 1000, "buttons": [{"title": "ok", "payload": "/affirm"},
                                                  {"title": "too long", "payload": "/" + "x" * MAX_CALLBACK_DATA}]}
    payloads = telegram.compose([message], "en", {}).payloads
    assert len(payloads) == 2 and all(len(p["text"]) <= 4096 for p in payloads)
    assert "buttons" not in payloads[0] and payloads[1]["buttons"] == [{"title": "ok", "payload": "/affirm"}]


def test_every_locale_button_payload_fits_telegram_callback_data():
    picker = render_for_rasa(CATALOG, {"response": "utter_choose_language", "tracker": {"slots": {}}})
    payloads = [b["payload"] for loc in LOCALES.values() for r in loc.responses.values() for b in r.get("buttons", [])]
    for payload in payloads + [b["payload"] for b in picker["buttons"]]:
        assert len(payload.encode()) <= MAX_CALLBACK_DATA, payload


def test_telegram_discreet_mode_is_silent_and_neutral(telegram):
    info = CATALOG.render("utter_what_is_trafficking", "en")
    payload, = telegram.compose([info], "en", {"discreet": True}).payloads
    assert payload["quiet"] is True and "traffick" not in payload["text"].lower()
    normal, = telegram.compose([info], "en", {}).payloads
    assert normal["quiet"] is False and "Trafficking" in normal["text"]


def test_telegram_updates_become_entries_without_the_chat_id(telegram):
    def entry(update):
        return telegram._entry(update)

    chat = {"id": 424242, "type": "private"}
    user = {"id": 424242, "is_bot": False, "first_name": "A", "language_code": "pt-BR"}
    text = (entry({"update_id": 1, "message": {"message_id": 9, "date": 0, "chat": chat, "from": user,
                                                          "text": "/codeword@safeline_bot  tulip "}}))
    assert text["kind"] == "command" and text["command"] == "codeword" and text["argument"] == "tulip"
    assert text["hint"] == "pt" and text["trace"] == "9"
    assert "424242" not in repr(text)
    assert VAULT.open("telegram", text["address"]) == "424242"
    photo = (entry({"update_id": 2, "message": {"message_id": 10, "date": 0, "chat": chat, "from": user,
                                                           "photo": [{"file_id": "f", "file_unique_id": "u",
                                                                      "width": 1, "height": 1}],
                                                           "caption": "look at this"}}))
    assert photo["kind"] == "text" and photo["text"] == "look at this"
    assert (entry({"update_id": 3, "channel_post": {"message_id": 1, "date": 0,
                                                               "chat": {"id": -1, "type": "channel"}}})) is None
