"""The intent classifier's own logic: accent folding and the safety priority rule."""
from __future__ import annotations

from nlu_components.intent_classifier import answer_named_by_entity, fold_accents, prioritise


def test_accent_folding_matches_how_people_type_without_accents():
    assert fold_accents("Não sei, AJUDA") == "nao sei, ajuda"
    assert fold_accents("tiếng Việt") == "tieng viet"
    assert fold_accents("ช่วยด้วย") == "ช่วยด้วย"  # Thai marks are part of the word


def test_danger_wins_from_its_floor_even_when_not_the_most_likely():
    ranking = [{"name": "i_may_be_victim", "confidence": 0.4}, {"name": "in_danger_now", "confidence": 0.31}]
    result = prioritise(ranking, {"in_danger_now": 0.3})
    assert result[0] == {"name": "in_danger_now", "confidence": 0.4}
    assert [e["name"] for e in result] == ["in_danger_now", "i_may_be_victim"]


def test_below_its_floor_danger_does_not_jump_the_queue():
    ranking = [{"name": "greet", "confidence": 0.7}, {"name": "in_danger_now", "confidence": 0.1}]
    assert prioritise(ranking, {"in_danger_now": 0.3}) == ranking


CONSENT = {"consent": {"intent": "handoff_consent", "max_words": 8, "max_chars": 60,
                       "unless": ["stop", "delete_my_data"]}}
LEVEL = [{"entity": "consent", "value": "anonymous"}]


def test_a_short_statement_naming_a_consent_level_is_the_consent_answer():
    ranking = [{"name": "i_may_be_victim", "confidence": 0.5}, {"name": "handoff_consent", "confidence": 0.1}]
    result = answer_named_by_entity(ranking, "que sea anónimo por favor", LEVEL, CONSENT, {"in_danger_now": 0.3})
    assert result[0] == {"name": "handoff_consent", "confidence": 0.5}
    assert [e["name"] for e in result] == ["handoff_consent", "i_may_be_victim"]


def test_questions_long_stories_danger_and_stop_keep_their_intent_despite_a_consent_word():
    ranking = [{"name": "ask_privacy", "confidence": 0.6}]
    floors = {"in_danger_now": 0.3}
    assert answer_named_by_entity(ranking, "is this anonymous?", LEVEL, CONSENT, floors) == ranking
    story = "my boss took my passport and I want to stay anonymous because I am scared of him"
    assert answer_named_by_entity(ranking, story, LEVEL, CONSENT, floors) == ranking
    danger = [{"name": "in_danger_now", "confidence": 0.5}]
    assert answer_named_by_entity(danger, "anonymous help now", LEVEL, CONSENT, floors) == danger
    stop = [{"name": "stop", "confidence": 0.5}]
    assert answer_named_by_entity(stop, "stop, keep it anonymous", LEVEL, CONSENT, floors) == stop
    thai = "ขอไม่เปิดเผยตัวตนค่ะ" * 4  # no spaces: one "word", but long
    assert answer_named_by_entity(ranking, thai, LEVEL, CONSENT, floors) == ranking


def test_without_a_consent_entity_the_ranking_is_unchanged():
    ranking = [{"name": "greet", "confidence": 0.9}]
    assert answer_named_by_entity(ranking, "hello", [], CONSENT, {}) == ranking
