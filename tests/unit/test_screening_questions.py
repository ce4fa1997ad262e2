"""Next-question selection: only questions that can change the outcome, most informative first."""
from __future__ import annotations

from actions.screening.assessment import load_rules
from actions.screening.catalogue import load_catalogue
from actions.screening.questions import AGE_QUESTION, FORM_QUESTION, ScreeningState, next_question

RULES = load_rules()
CATALOGUE = load_catalogue()


def ask(state: ScreeningState):
    return next_question(state, RULES, CATALOGUE)


def test_with_nothing_known_the_form_comes_first_then_a_strong_indicator_then_the_age():
    state = ScreeningState()
    assert ask(state) == FORM_QUESTION
    state.asked.append(FORM_QUESTION)
    first_strong = ask(state)
    assert CATALOGUE[first_strong].strength_adult == "strong"
    state.asked.append(first_strong)
    assert ask(state) == AGE_QUESTION


def test_the_strong_indicator_asked_is_the_one_of_the_form_in_play():
    assert ask(ScreeningState(forms_named=["sexual_exploitation"], minor=False)) == "cannot_refuse_clients"
    assert ask(ScreeningState(forms_named=["forced_marriage"], minor=False)) == "marriage_without_consent"
    assert ask(ScreeningState(forms_named=["organ_removal"], minor=False)) == "organ_removal_coercion"
    assert ask(ScreeningState(forms_named=["forced_begging_criminality"], minor=False)) == "punished_for_quota"


def test_once_urgency_is_high_only_the_age_can_still_change_the_outcome():
    state = ScreeningState(found=[{"id": "documents_confiscated", "evidence": "boss has my passport"}],
                           forms_named=["forced_labour"])
    assert ask(state) == AGE_QUESTION
    state.asked.append(AGE_QUESTION)
    assert ask(state) is None


def test_nothing_is_asked_in_an_emergency():
    assert ask(ScreeningState(danger_now=True)) is None


def test_a_question_is_never_asked_twice_and_the_limit_holds_even_if_everything_is_skipped():
    for reporter in ("self", "third_party", "professional"):
        state = ScreeningState(reporter=reporter)
        asked = []
        while (question := ask(state)) is not None:
            assert question not in asked
            asked.append(question)
            state.asked.append(question)  # skipped: nothing learnt
        assert 1 <= len(asked) <= RULES.max_questions[reporter]


def test_a_denied_indicator_is_not_asked_again_and_the_next_strong_one_follows():
    state = ScreeningState(forms_named=["forced_labour"], minor=False)
    first = ask(state)
    state.denied.append(first)
    state.asked.append(first)
    assert ask(state) not in (first, None)


def test_state_round_trips_through_slots():
    state = ScreeningState(reporter="third_party", found=[{"id": "isolated", "evidence": "no phone"}],
                           denied=["debt_bondage"], asked=["form"], forms_named=["domestic_servitude"],
                           minor=True, danger_now=False)
    assert ScreeningState.from_slots(state.as_slots()) == state
    assert ScreeningState.from_slots({}) == ScreeningState()
