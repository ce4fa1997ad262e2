"""The handoff summary of CONTRACTS §6 when there was no screening: built from the conversation.

The gateway completes it with what only Safeline knows (pseudonym, channel, language state, the
person's channel preferences) and merges it into a screening's summary when there was one.
"""
from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Tracker

from actions.screening.summary import transcript

CONSENT_LEVELS = ("share", "confidential", "anonymous")
DEFAULT_CONSENT = "confidential"
NEED_OF_INTENT = {"ask_shelter": "shelter", "ask_legal_help": "legal", "ask_medical_help": "medical",
                  "ask_about_children": "child_protection"}


def consent_level(tracker: Tracker) -> str:
    """The level on the tapped button; a typed yes keeps it within the helpline team."""
    chosen: Optional[str] = next(tracker.get_latest_entity_values("consent"), None)
    return chosen if chosen in CONSENT_LEVELS else DEFAULT_CONSENT


def _intents(tracker: Tracker) -> list[str]:
    """The intents of the person's messages, in order."""
    return [str((e.get("parse_data") or {}).get("intent", {}).get("name")) for e in tracker.events
            if e.get("event") == "user"]


def conversation_summary(tracker: Tracker) -> dict[str, Any]:
    """What the conversation itself tells an operator: language, needs, urgency, the transcript."""
    intents = _intents(tracker)
    needs: list[str] = []
    for intent in intents:
        need = NEED_OF_INTENT.get(intent)
        if need and need not in needs:
            needs.append(need)
    interpreter = bool(tracker.get_slot("interpreter_needed"))
    if interpreter:
        needs.append("interpreter")
    country = tracker.get_slot("country")
    return {
        "channel": tracker.get_slot("channel"),
        "language": tracker.get_slot("language") or "en",
        "interpreter_needed": interpreter,
        "urgency": "emergency" if "in_danger_now" in intents else "medium",
        "reporter": None,
        "minor": None,
        "forms": [],
        "indicators": [],
        "needs": needs,
        "location_hint": country if country and country != "skipped" else None,
        # Button payloads are not the person's words; the bot's answer after each shows the choice.
        "transcript": [line for line in transcript(tracker.events) if not line["text"].startswith("/")],
    }
