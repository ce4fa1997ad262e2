"""The handoff summary of CONTRACTS §6, built from a screening and the conversation."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Optional

from actions.screening.assessment import Assessment
from actions.screening.texts import joined, text

MAX_TRANSCRIPT_MESSAGES = 200


def summary_text(assessment: Assessment, reporter: Optional[str], language: str) -> str:
    """A short text for the operator, in the operator's language, from locale templates."""
    lines = [text(
        "utter_screening_summary", language,
        urgency=text(f"utter_screening_urgency_{assessment.urgency}", language),
        reporter=text(f"utter_screening_reporter_{reporter or 'self'}", language),
        forms=joined([f"utter_screening_form_{f}" for f in assessment.forms], language),
        indicators=", ".join(
            f"{text('utter_screening_label_' + i['id'], language)} ({text('utter_screening_strength_' + i['strength'], language)})"
            for i in assessment.indicators) or text("utter_screening_none", language),
        needs=joined([f"utter_screening_need_{n}" for n in assessment.needs], language),
    )]
    if assessment.minor:
        lines.append(text("utter_screening_summary_child", language))
    if assessment.danger_now:
        lines.append(text("utter_screening_summary_danger", language))
    return "\n".join(line for line in lines if line)


def transcript(events: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The conversation as {from, text}: what the person wrote and what the bot answered."""
    lines = []
    for event in events:
        if event.get("event") == "user" and event.get("text"):
            lines.append({"from": "person", "text": str(event["text"])})
        elif event.get("event") == "bot" and event.get("text"):
            lines.append({"from": "bot", "text": str(event["text"])})
    return lines[-MAX_TRANSCRIPT_MESSAGES:]


def build_summary(assessment: Assessment, *, conversation: str, channel: Optional[str], language: str,
                  interpreter_needed: bool, reporter: Optional[str], consent_to_share: bool,
                  operator_language: str, events: Iterable[Mapping[str, Any]] = (),
                  screening: Optional[Mapping[str, Any]] = None, location_hint: Optional[str] = None,
                  now: Optional[datetime] = None) -> dict[str, Any]:
    """The CONTRACTS §6 summary (plus a `screening` block with how the outcome was reached)."""
    created = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    needs = list(assessment.needs)
    if interpreter_needed and "interpreter" not in needs:
        needs.append("interpreter")
    return {
        "id": uuid.uuid4().hex,
        "created_at": created,
        "channel": channel,
        "conversation": conversation,
        "language": language,
        "interpreter_needed": bool(interpreter_needed),
        "urgency": assessment.urgency,
        "reporter": reporter,
        "minor": assessment.minor,
        "forms": list(assessment.forms),
        "indicators": [dict(i) for i in assessment.indicators],
        "needs": needs,
        "safe_contact": {"ok_to_message": None, "times": None, "code_word": None, "notes": None},
        "consent_to_share": bool(consent_to_share),
        "location_hint": location_hint,
        "summary_text": summary_text(assessment, reporter, operator_language),
        "transcript": transcript(events),
        "status": "open",
        "screening": {
            "dimensions": dict(assessment.dimensions),
            "trafficking_indicated": assessment.trafficking_indicated,
            "urgency_reason": assessment.reason,
            "danger_now": assessment.danger_now,
            **dict(screening or {}),
        },
    }
