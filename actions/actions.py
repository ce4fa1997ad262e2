"""Safeline's custom Rasa actions (run by the rasa_sdk action server)."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.control import control
from actions.handoff import consent_level, conversation_summary
from actions.referrals import Directory, load_directory

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SUPPORTED_LANGUAGES = frozenset(
    os.environ.get("SAFELINE_LANGUAGES", "en,es,fr,pt,ru,uk,ar,th,vi,id,tl,ro").split(",")
)
NEED_OF_INTENT = {"ask_shelter": "shelter", "ask_legal_help": "legal", "ask_medical_help": "medical",
                  "ask_about_children": "child"}
MAX_COUNTRY_CHARS = 60


@lru_cache(maxsize=1)
def directory() -> Directory:
    """The referral directory named by SAFELINE_REFERRALS_FILE (example data by default)."""
    path = os.environ.get("SAFELINE_REFERRALS_FILE") or str(PROJECT_ROOT / "referrals" / "example.yml")
    return load_directory(Path(path))


class ActionChangeLanguage(Action):
    """Switch to the language the person named, or offer the list of languages."""

    def name(self) -> str:
        return "action_change_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        requested: Optional[str] = next(tracker.get_latest_entity_values("language"), None)
        if requested is None:
            dispatcher.utter_message(response="utter_choose_language")
            return []
        code = requested.strip().lower()
        if code not in SUPPORTED_LANGUAGES:
            dispatcher.utter_message(response="utter_language_unavailable")
            return [SlotSet("interpreter_needed", True)]
        dispatcher.utter_message(json_message=control(set_language=code))
        # Rendered in the new language: the slot below is applied only after this action.
        dispatcher.utter_message(response="utter_language_changed", render_language=code)
        return [SlotSet("language", code)]


class ActionRequestHuman(Action):
    """Record that the person wants a human, say what will be shared and ask which consent level."""

    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(json_message=control(handoff_requested=True))
        dispatcher.utter_message(response="utter_handoff_consent")
        return [SlotSet("handoff_requested", True)]


class ActionHandoff(Action):
    """Pass the conversation to the team with the chosen consent level (the gateway queues it)."""

    CONFIRMATION = {"share": "utter_handoff_shared", "confidential": "utter_handoff_confidential",
                    "anonymous": "utter_handoff_anonymous"}

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        consent = consent_level(tracker)
        dispatcher.utter_message(json_message=control(handoff={"consent": consent,
                                                               "summary": conversation_summary(tracker)}))
        dispatcher.utter_message(response=self.CONFIRMATION[consent])
        return [SlotSet("handoff_consent", consent), SlotSet("handoff_requested", True)]


class ActionDeleteMyData(Action):
    """Erase the conversation: the gateway deletes the tracker and Safeline's records after this turn."""

    def name(self) -> str:
        return "action_delete_my_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_data_deleted")
        dispatcher.utter_message(json_message=control(erase=True))
        return []


class ValidateCountryForm(FormValidationAction):
    """Turns the person's answer into a country code when the directory knows it."""

    def name(self) -> str:
        return "validate_country_form"

    def validate_country(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: DomainDict) -> dict[str, Any]:
        """Accept any answer: a known country becomes its code, anything else is kept as said."""
        if not isinstance(value, str) or not value.strip():
            return {"country": "skipped"}
        if value == "skipped":
            return {"country": value}
        code = directory().match_country(value)
        return {"country": code or value.strip()[:MAX_COUNTRY_CHARS]}


class ActionShowReferrals(Action):
    """Show checked services for the person's country and need, if they told us the country."""

    def name(self) -> str:
        return "action_show_referrals"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        country = tracker.get_slot("country")
        if not country or country == "skipped":
            dispatcher.utter_message(response="utter_skip_ok")
            dispatcher.utter_message(response="utter_offer_human")
            return []
        book = directory()
        services = book.for_need(country, _latest_need(tracker)) if country in book.services else []
        if not services:
            dispatcher.utter_message(response="utter_no_referrals", country=country)
            dispatcher.utter_message(response="utter_offer_human")
            return []
        dispatcher.utter_message(response="utter_referrals", country=country,
                                 services="\n".join(s.line() for s in services))
        if book.example:
            dispatcher.utter_message(response="utter_referrals_example_notice")
        return []


def _latest_need(tracker: Tracker) -> Optional[str]:
    """The need behind the latest request for services (shelter, legal, medical, child)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            need = NEED_OF_INTENT.get((event.get("parse_data") or {}).get("intent", {}).get("name"))
            if need:
                return need
    return None
