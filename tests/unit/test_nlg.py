"""The NLG endpoint renders Rasa's response names in the conversation's language."""
from __future__ import annotations

from bot.locales import Catalog, load_locales
from bot.nlg import render_for_rasa

CATALOG = Catalog(load_locales(), "en", {"helpline_name": "Safeline", "emergency_number": "112"})


def request(name: str, language: str = "en", **arguments) -> dict:
    return {"response": name, "arguments": arguments, "tracker": {"slots": {"language": language}},
            "channel": {"name": "rest"}}


def test_renders_in_the_language_slot():
    assert render_for_rasa(CATALOG, request("utter_goodbye", "es")) == CATALOG.render("utter_goodbye", "es")
    assert render_for_rasa(CATALOG, request("utter_goodbye", "es"))["text"] != CATALOG.render("utter_goodbye", "en")["text"]


def test_an_action_can_render_in_the_language_it_just_chose():
    message = render_for_rasa(CATALOG, request("utter_language_changed", "en", render_language="th"))
    assert message == CATALOG.render("utter_language_changed", "th")


def test_arguments_fill_placeholders():
    message = render_for_rasa(CATALOG, request("utter_no_referrals", "en", country="Narnia"))
    assert "Narnia" in message["text"]


def test_language_picker_offers_every_language_in_its_own_name():
    message = render_for_rasa(CATALOG, request("utter_choose_language"))
    titles = {b["title"] for b in message["buttons"]}
    assert {"English", "Español", "ไทย", "العربية"} <= titles
    assert all(b["payload"].startswith('/change_language{"language":"') for b in message["buttons"])


def test_an_unknown_response_degrades_to_the_default_message_not_an_error():
    assert render_for_rasa(CATALOG, request("utter_does_not_exist"))["text"] == CATALOG.render("utter_default", "en")["text"]


def test_an_unknown_language_slot_renders_in_the_default_language():
    assert render_for_rasa(CATALOG, request("utter_greet", "xx")) == CATALOG.render("utter_greet", "en")
