"""action_handoff: the chosen consent level and a summary built from the conversation go to the gateway."""
from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.actions import ActionHandoff
from bot.locales import load_locales
from test_actions import controls, responses, run, tracker

CONSENT = load_locales()["en"].responses["utter_handoff_consent"]


def user(text: str, intent: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, "entities": []}}


def test_the_consent_question_offers_three_levels_and_not_now():
    payloads = [b["payload"] for b in CONSENT["buttons"]]
    assert payloads == ['/handoff_consent{"consent":"share"}', '/handoff_consent{"consent":"confidential"}',
                        '/handoff_consent{"consent":"anonymous"}', "/deny"]
    assert "phone number" in CONSENT["text"] and "conversation" in CONSENT["text"]


def test_each_level_is_recorded_and_confirmed_in_its_own_words():
    for level, response in [("share", "utter_handoff_shared"), ("confidential", "utter_handoff_confidential"),
                            ("anonymous", "utter_handoff_anonymous")]:
        d, events = run(ActionHandoff(), tracker("handoff_consent", [{"entity": "consent", "value": level}]))
        (control,) = controls(d)
        assert control["handoff"]["consent"] == level
        assert responses(d) == [response]
        assert SlotSet("handoff_consent", level) in events


def test_a_typed_yes_or_an_unknown_level_keeps_it_within_the_helpline():
    d, _ = run(ActionHandoff(), tracker("affirm"))
    assert controls(d)[0]["handoff"]["consent"] == "confidential"
    d, _ = run(ActionHandoff(), tracker("handoff_consent", [{"entity": "consent", "value": "everyone"}]))
    assert controls(d)[0]["handoff"]["consent"] == "confidential"


def test_the_summary_without_screening_has_language_needs_urgency_and_the_transcript():
    events = [user("necesito un lugar seguro", "ask_shelter"), {"event": "bot", "text": "Un lugar seguro…"},
              user("estoy en peligro", "in_danger_now"), user("quiero hablar con una persona", "talk_to_human"),
              {"event": "bot", "text": "Antes de pasarte…"}, user('/handoff_consent{"consent":"share"}', "handoff_consent")]
    t = tracker("handoff_consent", [{"entity": "consent", "value": "share"}],
                slots={"language": "es", "channel": "webchat", "interpreter_needed": False, "country": "ES"},
                events=events)
    d, _ = run(ActionHandoff(), t)
    summary = controls(d)[0]["handoff"]["summary"]
    assert summary["language"] == "es" and summary["channel"] == "webchat"
    assert summary["urgency"] == "emergency"  # said they are in danger
    assert summary["needs"][0] == "shelter" and "safety_plan" in summary["needs"]  # danger now: a safety plan
    assert summary["reporter"] is None and summary["minor"] is None and summary["forms"] == []
    assert summary["location_hint"] == "ES"
    assert {"from": "person", "text": "estoy en peligro"} in summary["transcript"]
    assert all(not line["text"].startswith("/") for line in summary["transcript"])


def test_a_handoff_without_the_question_form_is_screened_from_the_persons_own_words():
    events = [user("hola", "greet"), user("mi jefe me quitó el pasaporte y no me deja salir", "describe_situation"),
              user("quiero hablar con una persona", "talk_to_human"),
              user('/handoff_consent{"consent":"share"}', "handoff_consent")]
    t = tracker("handoff_consent", [{"entity": "consent", "value": "share"}],
                slots={"language": "es", "channel": "webchat"}, events=events)
    d, _ = run(ActionHandoff(), t)
    summary = controls(d)[0]["handoff"]["summary"]
    found = {i["id"]: i for i in summary["indicators"]}
    assert "documents_confiscated" in found
    assert found["documents_confiscated"]["strength"] == "strong"
    assert "pasaporte" in found["documents_confiscated"]["evidence"]
    assert summary["urgency"] in ("high", "emergency")  # a strong indicator: a person must see it soon
    assert summary["forms"] and summary["summary_text"]
    assert summary["screening"]["from_conversation"] is True and summary["screening"]["questions_asked"] == []


def test_after_the_question_form_the_conversation_does_not_overwrite_the_screenings_findings():
    events = [user("my boss took my passport", "describe_situation"), user("/talk_to_human", "talk_to_human")]
    t = tracker("handoff_consent", [{"entity": "consent", "value": "anonymous"}],
                slots={"language": "en", "channel": "sms", "screening_summary_sent": True}, events=events)
    d, _ = run(ActionHandoff(), t)
    summary = controls(d)[0]["handoff"]["summary"]
    assert not {"indicators", "forms", "urgency", "summary_text", "screening"} & set(summary)
    assert summary["language"] == "en" and summary["transcript"]


def test_a_third_party_report_names_the_reporter_and_a_plain_request_does_not_guess():
    reported = [user("I want to report something about my neighbour", "report_suspicion"),
                user("the girl next door never goes out and looks 14", "describe_situation")]
    d, _ = run(ActionHandoff(), tracker("handoff_consent", slots={"language": "en"}, events=reported))
    assert controls(d)[0]["handoff"]["summary"]["reporter"] == "third_party"
    d, _ = run(ActionHandoff(), tracker("handoff_consent", slots={"language": "en"},
                                        events=[user("can I talk to someone", "talk_to_human")]))
    summary = controls(d)[0]["handoff"]["summary"]
    assert summary["reporter"] is None and summary["indicators"] == [] and summary["urgency"] == "low"


def test_words_naming_several_levels_get_the_most_protective_one():
    both = [{"entity": "consent", "value": "share"}, {"entity": "consent", "value": "anonymous"}]
    d, _ = run(ActionHandoff(), tracker("handoff_consent", both))
    assert controls(d)[0]["handoff"]["consent"] == "anonymous"
    mixed = [{"entity": "consent", "value": "share"}, {"entity": "consent", "value": "confidential"}]
    d, _ = run(ActionHandoff(), tracker("handoff_consent", mixed))
    assert controls(d)[0]["handoff"]["consent"] == "confidential"
