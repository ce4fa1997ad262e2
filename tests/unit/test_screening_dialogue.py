"""Screening actions with real rasa_sdk trackers and dispatchers (Rasa's story tests skip custom actions)."""
from __future__ import annotations

import asyncio
from typing import Any, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.control import CONTROL_KEY
from actions.screening.dialogue import (
    ActionAskScreeningAnswer, ActionScreeningAssess, ActionScreeningChecklist, ActionScreeningStart,
    ActionScreeningSummary, ValidateScreeningForm,
)
from actions.screening.extractor import MODEL_PATH
from actions.screening.questions import ScreeningState

CONTRACT_FIELDS = {"id", "created_at", "channel", "conversation", "language", "interpreter_needed", "urgency",
                   "reporter", "minor", "forms", "indicators", "needs", "safe_contact", "consent_to_share",
                   "location_hint", "summary_text", "transcript", "status"}


def user(text: str, intent: str, entities: Optional[list] = None) -> dict:
    return {"event": "user", "text": text,
            "parse_data": {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}}


def tracker(events: list[dict], slots: Optional[dict] = None) -> Tracker:
    """A tracker whose latest message is the last user event."""
    latest = next(e for e in reversed(events) if e["event"] == "user")["parse_data"]
    return Tracker.from_dict({
        "sender_id": "a" * 64, "slots": {"language": "en", "channel": "webchat", **(slots or {})},
        "latest_message": latest, "events": events, "paused": False, "followup_action": None,
        "active_loop": {}, "latest_action_name": "action_listen",
    })


def run(action: Any, t: Tracker) -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    return dispatcher, asyncio.run(action.run(dispatcher, t, {}))


def responses(d: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in d.messages if m.get("response")]


def slots(events: list) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def validate(state: ScreeningState, question: str, message: dict) -> dict:
    """One answer through the form validation, as rasa_sdk calls it."""
    t = tracker([message], {**state.as_slots(), "screening_question": question, "requested_slot": "screening_answer"})
    action = ValidateScreeningForm()
    extracted = asyncio.run(action.extract_screening_answer(CollectingDispatcher(), t, {}))
    assert extracted == {"screening_answer": "answered"}
    return action.validate_screening_answer("answered", CollectingDispatcher(), t, {})


@pytest.fixture(scope="module", autouse=True)
def trained_model():
    assert MODEL_PATH.exists(), "run `make train` first: it writes models/screening.joblib"


def test_start_reads_what_the_person_already_wrote_and_asks_only_what_is_missing():
    events = [user("my boss took my passport and I work on a farm", "i_may_be_victim"), user("/affirm", "affirm")]
    d, result = run(ActionScreeningStart(), tracker(events))
    values = slots(result)
    assert values["screening_consent"] is True and values["screening_reporter"] == "self"
    assert "documents_confiscated" in {f["id"] for f in values["screening_found"]}
    assert values["screening_question"] == "age"  # already high and the farm names the form: only age is left
    assert responses(d) == ["utter_screening_intro_self"]


@pytest.mark.parametrize("intent,reporter,intro", [
    ("report_suspicion", "third_party", "utter_screening_intro_other"),
    ("i_am_professional", "professional", "utter_screening_intro_professional"),
])
def test_start_knows_who_is_writing(intent, reporter, intro):
    d, result = run(ActionScreeningStart(), tracker([user("hello", intent), user("/affirm", "affirm")]))
    assert slots(result)["screening_reporter"] == reporter and responses(d) == [intro]


def test_start_in_danger_asks_nothing():
    events = [user("he is hitting me right now, please help", "i_may_be_victim"), user("/affirm", "affirm")]
    _, result = run(ActionScreeningStart(), tracker(events))
    assert slots(result)["screening_danger"] is True and slots(result)["screening_answer"] == "done"


def test_yes_no_skip_and_a_choice_are_read_as_answers():
    chosen = validate(ScreeningState(), "form", user('/screening_choice{"choice":"forced_marriage"}', "screening_choice",
                                                    [{"entity": "choice", "value": "forced_marriage"}]))
    assert chosen["screening_forms_named"] == ["forced_marriage"]
    assert chosen["screening_question"] == "marriage_without_consent" and chosen["screening_answer"] is None
    yes = validate(ScreeningState(forms_named=["forced_marriage"], asked=["form"]), "marriage_without_consent",
                   user("/affirm", "affirm"))
    assert {"id": "marriage_without_consent", "evidence": ""} in yes["screening_found"]
    no = validate(ScreeningState(asked=["form"]), "coerced_to_stay", user("/deny", "deny"))
    assert no["screening_denied"] == ["coerced_to_stay"]
    skipped = validate(ScreeningState(asked=["form"]), "coerced_to_stay", user("I don't know", "skip"))
    assert skipped["screening_found"] == [] and skipped["screening_denied"] == []
    assert skipped["screening_asked"] == ["form", "coerced_to_stay"]


def test_an_answer_in_own_words_is_evidence_and_a_child_is_presumed():
    result = validate(ScreeningState(asked=["form"]), "age", user("im 15", "out_of_scope"))
    assert result["screening_minor"] is True
    assert validate(ScreeningState(asked=["form"]), "age", user("no", "deny"))["screening_minor"] is False
    assert validate(ScreeningState(asked=["form"]), "age", user("no, I'm 16", "deny"))["screening_minor"] is True
    words = validate(ScreeningState(forms_named=["forced_labour"], asked=["form"]), "coerced_to_stay",
                     user("yes, the boss keeps my passport", "affirm"))
    found = {f["id"]: f["evidence"] for f in words["screening_found"]}
    assert "coerced_to_stay" in found or "documents_confiscated" in found
    assert all(e for e in found.values())


def test_the_consent_that_starts_the_form_does_not_answer_the_first_question():
    # When the form starts, rasa_sdk validates the slots action_screening_start set (the answer
    # slot is empty); the latest message is still the consent "/affirm".
    state = ScreeningState(asked=[])
    t = tracker([user("/affirm", "affirm")], {**state.as_slots(), "screening_question": "age"})
    result = ValidateScreeningForm().validate_screening_answer(None, CollectingDispatcher(), t, {})
    assert result == {"screening_answer": None}


def test_leaving_the_form_is_not_an_answer():
    t = tracker([user("stop", "stop")], {"requested_slot": "screening_answer"})
    assert asyncio.run(ValidateScreeningForm().extract_screening_answer(CollectingDispatcher(), t, {})) == {}


def test_questions_are_asked_to_the_person_or_about_the_other_person():
    d, _ = run(ActionAskScreeningAnswer(), tracker([user("x", "skip")], {"screening_question": "debt_bondage"}))
    assert responses(d) == ["utter_screening_q_debt_bondage"]
    d, _ = run(ActionAskScreeningAnswer(), tracker([user("x", "skip")], {
        "screening_question": "debt_bondage", "screening_reporter": "third_party", "language": "es"}))
    assert responses(d) == ["utter_screening_q_other"] and d.messages[0]["label"] == "Deuda usada para retenerla/o"
    d, _ = run(ActionAskScreeningAnswer(), tracker([user("x", "skip")], {
        "screening_question": "age", "screening_reporter": "professional"}))
    assert responses(d) == ["utter_screening_q_age_other"]


def test_assessment_tells_a_child_kindly_and_sets_the_outcome():
    state = ScreeningState(found=[{"id": "marriage_without_consent", "evidence": ""}], minor=True)
    d, result = run(ActionScreeningAssess(), tracker([user("/affirm", "affirm")], state.as_slots()))
    assert responses(d) == ["utter_screening_result_signs", "utter_screening_child"]
    assert slots(result)["screening_urgency"] == "high" and "child_protection" in slots(result)["screening_needs"]


def test_assessment_with_nothing_found_is_kind_and_low():
    d, result = run(ActionScreeningAssess(), tracker([user("/skip", "skip")], ScreeningState().as_slots()))
    assert responses(d) == ["utter_screening_result_none"] and slots(result)["screening_urgency"] == "low"


def test_professionals_get_the_full_result():
    state = ScreeningState(reporter="professional", found=[{"id": "punished_for_quota", "evidence": "beaten"}])
    d, _ = run(ActionScreeningAssess(), tracker([user("/affirm", "affirm")], state.as_slots()))
    message = d.messages[0]
    assert message["response"] == "utter_screening_result_professional"
    assert "Punished for not bringing enough (strong)" in message["indicators"]
    assert message["forms"] == "Forced begging or crime"


def test_the_summary_goes_to_the_gateway_in_the_contract_shape_with_text_in_the_operator_language(monkeypatch):
    monkeypatch.setenv("SAFELINE_OPERATOR_LANGUAGE", "fr")
    state = ScreeningState(reporter="third_party", found=[{"id": "documents_confiscated", "evidence": "madam has her passport"}],
                           forms_named=["domestic_servitude"], asked=["age"])
    events = [user("madam has her passport", "report_suspicion"), {"event": "bot", "text": "Thank you"},
              user("/affirm", "affirm")]
    d, result = run(ActionScreeningSummary(), tracker(events, {**state.as_slots(), "screening_consent": True,
                                                               "country": "ES"}))
    summary = [m["custom"][CONTROL_KEY]["handoff_summary"] for m in d.messages if m.get("custom")][0]
    assert CONTRACT_FIELDS <= set(summary)
    assert summary["urgency"] == "high" and summary["reporter"] == "third_party"
    assert summary["forms"] == ["domestic_servitude"] and summary["consent_to_share"] is True
    assert summary["indicators"] == [{"id": "documents_confiscated", "strength": "strong",
                                      "evidence": "madam has her passport"}]
    assert summary["summary_text"].startswith("Urgence : élevée")
    assert summary["transcript"][:2] == [{"from": "person", "text": "madam has her passport"},
                                         {"from": "bot", "text": "Thank you"}]
    assert summary["status"] == "open" and summary["conversation"] == "a" * 64
    assert summary["location_hint"] == "ES"
    assert responses(d) == ["utter_screening_passed_on"]
    assert SlotSet("screening_summary_sent", True) in result


def test_danger_during_screening_makes_the_summary_an_emergency():
    events = [user("he is coming back with a knife", "in_danger_now")]
    d, result = run(ActionScreeningSummary(), tracker(events, ScreeningState().as_slots()))
    summary = [m["custom"][CONTROL_KEY]["handoff_summary"] for m in d.messages if m.get("custom")][0]
    assert summary["urgency"] == "emergency" and slots(result)["screening_urgency"] == "emergency"


def test_the_checklist_lists_every_form_with_adult_and_child_strengths():
    d, _ = run(ActionScreeningChecklist(), tracker([user("/screening_checklist", "screening_checklist")]))
    forms = [m for m in d.messages if m.get("response") == "utter_screening_checklist_form"]
    assert len(forms) == 6 and responses(d)[-1] == "utter_screening_checklist_note"
    labour = next(m for m in forms if m["form"] == "Forced labour")
    assert "- Passport or ID kept by someone else (strong / strong)" in labour["indicators"]
