"""The screening dialogue's custom actions (rules in dialogues/screening_rules.yml).

Flow: the person accepts the offer (/start_screening) and consents -> action_screening_start reads
what they already wrote -> screening_form asks only the questions that can change the outcome
(validate_screening_form picks them, action_ask_screening_answer asks them) -> action_screening_assess
tells the person the outcome -> action_screening_summary passes the summary to Safeline's store.
Danger now, "stop" and a request for a person interrupt the form (rules).
"""
from __future__ import annotations

import logging
import os
from typing import Any, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.control import control
from actions.screening.assessment import Assessment, assess, load_rules
from actions.screening.catalogue import FORMS, load_catalogue
from actions.screening.cues import load_cues
from actions.screening.extractor import Extraction, ModelMissing, load_extractor
from actions.screening.questions import AGE_QUESTION, FORM_QUESTION, ScreeningState, next_question
from actions.screening.summary import build_summary
from actions.screening.texts import joined, text

log = logging.getLogger(__name__)

ANSWER_SLOT = "screening_answer"
ANSWERED = "answered"
DONE = "done"
# Intents that end or leave the form instead of answering (their rules take over).
INTERRUPTIONS = frozenset({"stop", "in_danger_now", "talk_to_human"})
NEED_OF_INTENT = {"ask_shelter": "shelter", "ask_legal_help": "legal", "ask_medical_help": "medical",
                  "ask_about_children": "child_protection"}


def operator_language() -> str:
    """SAFELINE_OPERATOR_LANGUAGE (the action server gets Safeline's environment; see bot/config.py)."""
    return os.environ.get("SAFELINE_OPERATOR_LANGUAGE", "en").strip() or "en"


def reporter_of(tracker: Tracker) -> str:
    """Who is writing: a professional or a third party if they said so, else the person themselves."""
    intents = {(e.get("parse_data") or {}).get("intent", {}).get("name") for e in tracker.events
               if e.get("event") == "user"}
    if "i_am_professional" in intents:
        return "professional"
    if "report_suspicion" in intents:
        return "third_party"
    return "self"


def own_words(event: dict) -> Optional[str]:
    """The text of a user event if the person typed it (button payloads are not their words)."""
    text_ = (event.get("text") or "").strip()
    return text_ if text_ and not text_.startswith("/") else None


def _extract(text_: str) -> Optional[Extraction]:
    """The model's findings, or None when the model is missing (the questions still work)."""
    try:
        return load_extractor().extract(text_)
    except ModelMissing as exc:
        log.error("screening without the model: %s", exc)
        return None


def read_words(state: ScreeningState, words: str) -> set[str]:
    """Add what a person's words show to the state; returns the indicator ids found in them."""
    cues = load_cues()
    extraction = _extract(words)
    found = set()
    if extraction is not None:
        for finding in extraction.findings:
            state.add_found(finding.id, finding.evidence)
            found.add(finding.id)
        state.danger_now = state.danger_now or extraction.danger is not None
        state.unnamed_signs = state.unnamed_signs or extraction.unnamed_signs
    if cues.minor(words):
        state.minor = True  # presumption of minority: "may be" is enough
    elif state.minor is None:
        state.minor = cues.minor(words)
    for form in cues.forms(words):
        if form not in state.forms_named and found:
            state.forms_named.append(form)
    return found


def country_hint(country: Any) -> Optional[str]:
    """The country the person gave for services (coarse by design), if they gave one."""
    return country if isinstance(country, str) and country and country != "skipped" else None


def requested_needs(tracker: Tracker) -> tuple[str, ...]:
    """Needs the person asked about during the conversation (shelter, legal, medical...)."""
    needs = []
    for event in tracker.events:
        if event.get("event") == "user":
            need = NEED_OF_INTENT.get((event.get("parse_data") or {}).get("intent", {}).get("name"))
            if need and need not in needs:
                needs.append(need)
    return tuple(needs)


def conversation_assessment(tracker: Tracker) -> tuple[Assessment, Optional[str]]:
    """The rules applied to everything the person typed (a handoff without the question form).

    Returns the assessment and the reporter when the conversation says who is writing (else None):
    without the form nobody asked, so "self" would be a guess.
    """
    state = ScreeningState(reporter=reporter_of(tracker))
    events = [e for e in tracker.events if e.get("event") == "user"]
    words = [w for w in (own_words(e) for e in events) if w]
    if words:
        read_words(state, "\n".join(words))
    if any((e.get("parse_data") or {}).get("intent", {}).get("name") == "in_danger_now" for e in events):
        state.danger_now = True
    known = None if state.reporter == "self" else state.reporter
    return current_assessment(tracker, state), known


def current_assessment(tracker: Tracker, state: ScreeningState) -> Assessment:
    """The rules applied to the state, with the conversation's needs and interpreter flag."""
    return assess(state.situation(bool(tracker.get_slot("interpreter_needed")), requested_needs(tracker)))


def state_events(state: ScreeningState, question: Optional[str]) -> list[EventType]:
    """Slot events that store the state and the next question (or mark the form as done)."""
    events = [SlotSet(name, value) for name, value in state.as_slots().items()]
    events += [SlotSet("screening_question", question), SlotSet(ANSWER_SLOT, None if question else DONE)]
    return events


class ActionScreeningStart(Action):
    """After consent: start from what the person already wrote, then choose the first question."""

    def name(self) -> str:
        return "action_screening_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        state = ScreeningState(reporter=reporter_of(tracker))
        words = [w for w in (own_words(e) for e in tracker.events if e.get("event") == "user") if w]
        if words:
            read_words(state, "\n".join(words))
        question = next_question(state, load_rules(), load_catalogue())
        intro = {"self": "utter_screening_intro_self", "third_party": "utter_screening_intro_other",
                 "professional": "utter_screening_intro_professional"}[state.reporter]
        dispatcher.utter_message(response=intro)
        return [SlotSet("screening_consent", True), *state_events(state, question)]


class ValidateScreeningForm(FormValidationAction):
    """Reads each answer (yes / no / skip / a choice / the person's own words), picks the next question."""

    def name(self) -> str:
        return "validate_screening_form"

    async def extract_screening_answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        """Any message answers the current question, except those that leave the form."""
        if tracker.get_slot("requested_slot") != ANSWER_SLOT:
            return {}
        if (tracker.latest_message.get("intent") or {}).get("name") in INTERRUPTIONS:
            return {}
        return {ANSWER_SLOT: ANSWERED}

    def validate_screening_answer(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        """Apply the answer to the state and choose the next question (none: the form is done)."""
        if value == DONE:
            return {ANSWER_SLOT: DONE}
        if value != ANSWERED:
            # Not an answer: e.g. the slots action_screening_start set, which the form validates
            # when it starts. The consent ("yes, let's start") must not answer the first question.
            return {ANSWER_SLOT: None}
        state = ScreeningState.from_slots(tracker.current_slot_values())
        question = tracker.get_slot("screening_question")
        apply_answer(state, question, tracker.latest_message)
        if question and question not in state.asked:
            state.asked.append(question)
        upcoming = next_question(state, load_rules(), load_catalogue())
        return {**state.as_slots(), "screening_question": upcoming, ANSWER_SLOT: None if upcoming else DONE}


def apply_answer(state: ScreeningState, question: Optional[str], message: dict) -> None:
    """What one answer tells: yes/no to the question asked, a choice, or the person's own words."""
    intent = (message.get("intent") or {}).get("name")
    words = own_words(message)
    if intent == "skip":
        return
    if question == FORM_QUESTION:
        for entity in message.get("entities") or []:
            if entity.get("entity") == "choice" and entity.get("value") in FORMS:
                state.forms_named.append(entity["value"])
    elif question == AGE_QUESTION and intent in ("affirm", "deny") and not words:
        state.minor = intent == "affirm"
    elif question and question not in (FORM_QUESTION, AGE_QUESTION) and not words:
        if intent == "affirm":
            state.add_found(question)
        elif intent == "deny":
            state.denied.append(question)
    if not words:
        return
    found = read_words(state, words)
    if question == FORM_QUESTION:
        state.forms_named += [f for f in load_cues().forms(words) if f not in state.forms_named]
    elif question == AGE_QUESTION and intent in ("affirm", "deny") and state.minor is None:
        state.minor = intent == "affirm"  # a typed "yes" / "no" to "are you under 18?"
    elif question not in (FORM_QUESTION, AGE_QUESTION, None) and question not in found:
        # A typed "yes" to the question counts with the person's words as evidence.
        if intent == "affirm":
            state.add_found(question, words)
        elif intent == "deny":
            state.denied.append(question)


class ActionAskScreeningAnswer(Action):
    """Asks the question chosen by the validation: in the second person, or about the other person."""

    def name(self) -> str:
        return "action_ask_screening_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        question = tracker.get_slot("screening_question")
        reporter = tracker.get_slot("screening_reporter") or "self"
        if not question:
            return []
        if question == FORM_QUESTION:
            dispatcher.utter_message(response="utter_screening_q_form")
        elif question == AGE_QUESTION:
            dispatcher.utter_message(response="utter_screening_q_age" if reporter == "self"
                                     else "utter_screening_q_age_other")
        elif reporter == "self":
            dispatcher.utter_message(response=f"utter_screening_q_{question}")
        else:
            label = text(f"utter_screening_label_{question}", tracker.get_slot("language"))
            dispatcher.utter_message(response="utter_screening_q_other", label=label)
        return []


class ActionScreeningAssess(Action):
    """Tells the person the outcome, kindly; a professional gets it in full."""

    def name(self) -> str:
        return "action_screening_assess"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        state = ScreeningState.from_slots(tracker.current_slot_values())
        result = current_assessment(tracker, state)
        language = tracker.get_slot("language")
        if result.urgency == "emergency":
            dispatcher.utter_message(response="utter_emergency_now")
            dispatcher.utter_message(response="utter_emergency_phone_safety")
        if state.reporter == "professional":
            dispatcher.utter_message(
                response="utter_screening_result_professional",
                urgency=text(f"utter_screening_urgency_{result.urgency}", language),
                forms=joined([f"utter_screening_form_{f}" for f in result.forms], language),
                indicators=", ".join(
                    f"{text('utter_screening_label_' + i['id'], language)} "
                    f"({text('utter_screening_strength_' + i['strength'], language)})"
                    for i in result.indicators) or text("utter_screening_none", language))
        elif result.indicators:
            dispatcher.utter_message(response="utter_screening_result_signs" if state.reporter == "self"
                                     else "utter_screening_result_signs_other")
        else:
            dispatcher.utter_message(response="utter_screening_result_none")
        if result.minor:
            dispatcher.utter_message(response="utter_screening_child" if state.reporter == "self"
                                     else "utter_screening_child_other")
        return [SlotSet("screening_urgency", result.urgency), SlotSet("screening_forms", result.forms),
                SlotSet("screening_minor", result.minor), SlotSet("screening_needs", result.needs)]


class ActionScreeningSummary(Action):
    """Builds the CONTRACTS §6 summary and asks the gateway to store it for the operators."""

    def name(self) -> str:
        return "action_screening_summary"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        state = ScreeningState.from_slots(tracker.current_slot_values())
        if (tracker.latest_message.get("intent") or {}).get("name") == "in_danger_now":
            state.danger_now = True
        words = own_words(tracker.latest_message)
        if words and (tracker.latest_message.get("intent") or {}).get("name") in INTERRUPTIONS:
            read_words(state, words)  # the message that interrupted the form is evidence too
        result = current_assessment(tracker, state)
        summary = build_summary(
            result, conversation=tracker.sender_id, channel=tracker.get_slot("channel"),
            language=tracker.get_slot("language") or "en",
            interpreter_needed=bool(tracker.get_slot("interpreter_needed")), reporter=state.reporter,
            consent_to_share=bool(tracker.get_slot("screening_consent")), operator_language=operator_language(),
            events=tracker.events, screening={"questions_asked": state.asked, "answered_no": state.denied},
            location_hint=country_hint(tracker.get_slot("country")),
        )
        dispatcher.utter_message(json_message=control(handoff_summary=summary))
        dispatcher.utter_message(response="utter_screening_passed_on")
        return [SlotSet("screening_summary_sent", True), SlotSet("screening_urgency", result.urgency),
                SlotSet("handoff_requested", True)]


class ActionScreeningChecklist(Action):
    """Professional mode: the full indicator checklist, one message per form, no pacing."""

    def name(self) -> str:
        return "action_screening_checklist"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        language = tracker.get_slot("language")
        catalogue = load_catalogue()
        for form in FORMS:
            lines = [f"- {text('utter_screening_label_' + i.id, language)} "
                     f"({text('utter_screening_strength_' + i.strength_adult, language)} / "
                     f"{text('utter_screening_strength_' + i.strength_child, language)})"
                     for i in catalogue.by_form(form)]
            dispatcher.utter_message(response="utter_screening_checklist_form",
                                     form=text(f"utter_screening_form_{form}", language), indicators="\n".join(lines))
        dispatcher.utter_message(response="utter_screening_checklist_note")
        return []
