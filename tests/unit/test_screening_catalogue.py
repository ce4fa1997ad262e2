"""The indicator catalogue: every CONTRACTS §4 id, valid strengths and forms, a question in every language."""
from __future__ import annotations

import copy

import pytest
import yaml

from actions.screening.catalogue import (
    CATALOGUE_PATH, CONTRACT_IDS, FORMS, STRENGTHS, CatalogueError, load_catalogue, parse_catalogue,
)
from bot.config import SUPPORTED_LANGUAGES
from bot.locales import load_locales, placeholders

CATALOGUE = load_catalogue()
LOCALES = load_locales()
ALL_IDS = [i for ids in CONTRACT_IDS.values() for i in ids]


def test_every_contract_indicator_id_is_in_the_catalogue_and_nothing_else():
    assert sorted(CATALOGUE.ids) == sorted(ALL_IDS)
    assert len(ALL_IDS) == 32


@pytest.mark.parametrize("indicator_id", ALL_IDS)
def test_each_indicator_has_valid_strengths_forms_and_a_source(indicator_id):
    indicator = CATALOGUE[indicator_id]
    assert indicator.strength_adult in STRENGTHS and indicator.strength_child in STRENGTHS
    assert indicator.forms and set(indicator.forms) <= set(FORMS)
    assert indicator.source
    # A child is never weighed less than an adult (seeds/001: strong for children, medium for adults).
    assert STRENGTHS.index(indicator.strength_child) <= STRENGTHS.index(indicator.strength_adult)


def test_the_adult_strengths_are_the_labelling_rule_of_the_evaluation_set():
    # docs/dev/screening-data.md: "high - any strong indicator (...)"; the engine and the labels agree.
    strong = {"coerced_to_stay", "deceived_recruitment", "threats_or_violence", "documents_confiscated",
              "debt_bondage", "movement_restricted", "threats_to_family", "cannot_refuse_clients",
              "forced_criminality", "punished_for_quota", "organ_removal_coercion", "organ_removal_deception",
              "marriage_without_consent", "forced_contraception"}
    assert {i for i in ALL_IDS if CATALOGUE[i].strength_adult == "strong"} == strong


def test_every_form_has_indicators_and_the_form_lists_anchor_their_form():
    for form in FORMS:
        assert CATALOGUE.by_form(form), form
    assert CATALOGUE["cannot_refuse_clients"].anchors_form == "sexual_exploitation"
    assert CATALOGUE["documents_confiscated"].anchors_form is None


def test_living_with_co_workers_does_not_name_forced_begging_by_itself():
    """Workers housed together on a farm or in one flat show it too (it points to three forms)."""
    assert CATALOGUE["lives_with_coworkers"].anchors_form is None
    assert CATALOGUE["punished_for_quota"].anchors_form == "forced_begging_criminality"


@pytest.mark.parametrize("code", SUPPORTED_LANGUAGES)
def test_every_indicator_has_a_question_and_a_label_in_every_language(code):
    responses = LOCALES[code].responses
    for indicator_id in ALL_IDS:
        question = responses.get(f"utter_screening_q_{indicator_id}")
        label = responses.get(f"utter_screening_label_{indicator_id}")
        assert question and question["text"].strip(), f"{code}: no question for {indicator_id}"
        assert label and label["text"].strip(), f"{code}: no label for {indicator_id}"
        # Every question can be skipped: it has the same Yes / No / Skip buttons as English.
        assert [b["payload"] for b in question["buttons"]] == ["/affirm", "/deny", "/skip"]
        assert not placeholders(question["text"])
    for form in FORMS:
        assert responses.get(f"utter_screening_form_{form}"), f"{code}: no name for {form}"


def test_the_english_questions_say_they_can_be_skipped():
    for indicator_id in ALL_IDS:
        assert "skip" in LOCALES["en"].responses[f"utter_screening_q_{indicator_id}"]["text"].lower()


def _data() -> dict:
    return yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))


def test_a_missing_id_is_refused():
    data = _data()
    del data["indicators"]["debt_bondage"]
    with pytest.raises(CatalogueError, match="debt_bondage"):
        parse_catalogue(data)


@pytest.mark.parametrize("field,value", [("strength", {"adult": "very strong", "child": "strong"}),
                                         ("forms", ["slavery"]), ("dimension", "means"), ("source", ""),
                                         ("group", "common")])
def test_an_inconsistent_entry_is_refused(field, value):
    data = copy.deepcopy(_data())
    data["indicators"]["cannot_refuse_clients"][field] = value
    with pytest.raises(CatalogueError, match="cannot_refuse_clients"):
        parse_catalogue(data)
