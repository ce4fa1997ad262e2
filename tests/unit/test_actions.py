"""Custom actions, run with real rasa_sdk trackers and dispatchers (Rasa's story tests skip them)."""
from __future__ import annotations

import asyncio
from typing import Any, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import (
    ActionChangeLanguage,
    ActionDeleteMyData,
    ActionRequestHuman,
    ActionShowReferrals,
    ValidateCountryForm,
)
from actions.control import CONTROL_KEY


def tracker(intent: str = "greet", entities: Optional[list[dict]] = None, slots: Optional[dict] = None,
            events: Optional[list[dict]] = None) -> Tracker:
    """A tracker whose latest message has the given intent and entities."""
    latest = {"text": "...", "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    return Tracker.from_dict({
        "sender_id": "f" * 64,
        "slots": {"language": "en", **(slots or {})},
        "latest_message": latest,
        "events": events or [{"event": "user", "text": "...", "parse_data": latest}],
        "paused": False, "followup_action": None, "active_loop": {},
        "latest_action_name": "action_listen",
    })


def run(action: Any, t: Tracker) -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher, events


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages if m.get("response")]


def controls(dispatcher: CollectingDispatcher) -> list[dict]:
    return [m["custom"][CONTROL_KEY] for m in dispatcher.messages if m.get("custom")]


def test_change_language_with_a_named_language_sets_the_slot_and_confirms_in_that_language():
    d, events = run(ActionChangeLanguage(), tracker("change_language", [{"entity": "language", "value": "fr"}]))
    assert SlotSet("language", "fr") in events
    assert controls(d) == [{"set_language": "fr"}]
    confirm = [m for m in d.messages if m.get("response") == "utter_language_changed"][0]
    assert confirm["render_language"] == "fr"


def test_change_language_without_a_name_offers_the_list():
    d, events = run(ActionChangeLanguage(), tracker("change_language"))
    assert responses(d) == ["utter_choose_language"] and events == [] and not controls(d)


def test_change_language_to_an_unsupported_language_offers_an_interpreter():
    d, events = run(ActionChangeLanguage(), tracker("change_language", [{"entity": "language", "value": "deutsch"}]))
    assert responses(d) == ["utter_language_unavailable"]
    assert SlotSet("interpreter_needed", True) in events


def test_request_human_tells_the_gateway_and_asks_the_person_for_a_consent_level():
    d, events = run(ActionRequestHuman(), tracker("talk_to_human"))
    assert controls(d) == [{"handoff_requested": True}]
    assert responses(d) == ["utter_handoff_consent"]
    assert SlotSet("handoff_requested", True) in events


def test_delete_my_data_confirms_and_asks_the_gateway_to_erase():
    d, events = run(ActionDeleteMyData(), tracker("affirm"))
    assert responses(d) == ["utter_data_deleted"]
    assert controls(d) == [{"erase": True}]


@pytest.mark.parametrize("answer,expected", [
    ("españa", "ES"), ("I'm in Spain", "ES"), ("es", "ES"), ("ประเทศไทย", "TH"),
    ("Narnia", "Narnia"), ("skipped", "skipped"), ("   ", "skipped"),
])
def test_country_answers_become_codes_or_are_kept_as_said(answer, expected):
    result = ValidateCountryForm().validate_country(answer, CollectingDispatcher(), tracker(), {})
    assert result == {"country": expected}


def test_referrals_for_a_shelter_request_list_shelters_and_hotlines_and_flag_example_data():
    events = [{"event": "user", "text": "where can I sleep", "parse_data": {"intent": {"name": "ask_shelter"}}},
              {"event": "user", "text": "spain", "parse_data": {"intent": {"name": "out_of_scope"}}}]
    d, _ = run(ActionShowReferrals(), tracker(slots={"country": "ES"}, events=events))
    assert responses(d) == ["utter_referrals", "utter_referrals_example_notice"]
    listing = d.messages[0]["services"]
    assert "shelter" in listing.lower() and "hotline" in listing.lower() and "legal" not in listing.lower()


def test_referrals_for_an_unknown_country_say_so_and_offer_a_person():
    d, _ = run(ActionShowReferrals(), tracker(slots={"country": "Narnia"}))
    assert responses(d) == ["utter_no_referrals", "utter_offer_human"]
    assert d.messages[0]["country"] == "Narnia"


def test_skipping_the_country_is_fine():
    d, _ = run(ActionShowReferrals(), tracker(slots={"country": "skipped"}))
    assert responses(d) == ["utter_skip_ok", "utter_offer_human"]
