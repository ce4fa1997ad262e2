"""The handoff summary of CONTRACTS §6 when there was no screening: built from the conversation.

The gateway completes it with what only Safeline knows (pseudonym, channel, language state, the
person's channel preferences) and merges it into a screening's summary when there was one.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions.screening.dialogue import conversation_assessment, operator_language
from actions.screening.summary import summary_text, transcript

CONSENT_LEVELS = ("share", "confidential", "anonymous")
DEFAULT_CONSENT = "confidential"


def consent_level(tracker: Tracker) -> str:
    """The level on the tapped button or in the typed words; a typed yes keeps it within the team.

    Words naming several levels ("share it but not my name") get the most protective one.
    """
    named = [v for v in tracker.get_latest_entity_values("consent") if v in CONSENT_LEVELS]
    if not named:
        return DEFAULT_CONSENT
    return max(named, key=CONSENT_LEVELS.index)  # CONSENT_LEVELS goes from least to most protective


def conversation_summary(tracker: Tracker) -> dict[str, Any]:
    """What the conversation itself tells an operator: language, the screening rules over the person's
    own words (forms, indicators with evidence, urgency, age), needs and the transcript.

    After the question form the gateway already holds the screening's summary (more complete: it has
    the answers), so then only language, needs and transcript are sent, and nothing is overwritten.
    """
    interpreter = bool(tracker.get_slot("interpreter_needed"))
    country = tracker.get_slot("country")
    summary: dict[str, Any] = {
        "channel": tracker.get_slot("channel"),
        "language": tracker.get_slot("language") or "en",
        "interpreter_needed": interpreter,
        "location_hint": country if country and country != "skipped" else None,
        # Button payloads are not the person's words; the bot's answer after each shows the choice.
        "transcript": [line for line in transcript(tracker.events) if not line["text"].startswith("/")],
    }
    assessment, reporter = conversation_assessment(tracker)
    summary["needs"] = list(assessment.needs)  # the rules add "interpreter" when the slot says so
    if tracker.get_slot("screening_summary_sent"):
        return summary
    summary.update({
        "urgency": assessment.urgency, "reporter": reporter, "minor": assessment.minor,
        "forms": list(assessment.forms), "indicators": [dict(i) for i in assessment.indicators],
        "summary_text": summary_text(assessment, reporter, operator_language()),
        "screening": {"dimensions": dict(assessment.dimensions),
                      "trafficking_indicated": assessment.trafficking_indicated,
                      "urgency_reason": assessment.reason, "danger_now": assessment.danger_now,
                      "questions_asked": [], "from_conversation": True},
    })
    return summary
