"""The intent classifier's own logic: accent folding and the safety priority rule."""
from __future__ import annotations

from nlu_components.intent_classifier import fold_accents, prioritise


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
