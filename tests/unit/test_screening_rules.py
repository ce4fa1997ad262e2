"""The screening rule set (rules.yml): the combination rule, urgency, forms, children and needs."""
from __future__ import annotations

import copy

import pytest
import yaml

from actions.screening.assessment import (
    RULES_PATH, Evidence, RulesError, Situation, assess, dimension_present, load_rules, parse_rules,
)

RULES = load_rules()


def situation(*ids: str, **kwargs) -> Situation:
    return Situation(indicators=[Evidence(i, f"words for {i}") for i in ids], **kwargs)


@pytest.mark.parametrize("strengths,present", [
    (["strong", "strong"], True),
    (["strong", "medium"], True),
    (["strong", "weak"], True),
    (["medium", "medium", "medium"], True),
    (["medium", "medium", "weak"], True),
    (["strong"], False),
    (["medium", "medium"], False),
    (["medium", "weak", "weak"], False),
    (["weak", "weak", "weak"], False),
    ([], False),
])
def test_the_ilo_ec_combination_rule(strengths, present):
    assert dimension_present(strengths, RULES.dimension_present_when) is present


def test_danger_now_is_an_emergency_whatever_else_is_known():
    assert assess(situation(danger_now=True)).urgency == "emergency"
    assert assess(situation("excessive_hours", danger_now=True)).urgency == "emergency"


def test_one_strong_indicator_is_high():
    result = assess(situation("documents_confiscated"))
    assert result.urgency == "high"
    assert result.indicators == [{"id": "documents_confiscated", "strength": "strong",
                                  "evidence": "words for documents_confiscated"}]


def test_medium_and_weak_indicators_only_are_medium():
    assert assess(situation("wages_withheld", "excessive_hours", "recruitment_fee")).urgency == "medium"


def test_no_indicator_is_low_information_only():
    result = assess(situation())
    assert (result.urgency, result.forms, result.indicators, result.minor) == ("low", [], [], None)


def test_a_child_with_any_indicator_is_high_and_needs_child_protection():
    result = assess(situation("wages_withheld", minor=True))
    assert result.urgency == "high"
    assert "child_protection" in result.needs
    # For children the catalogue's child strength applies.
    assert assess(situation("excessive_hours", minor=True)).indicators[0]["strength"] == "strong"


def test_a_child_without_indicators_is_never_low():
    assert assess(situation(minor=True)).urgency == "medium"


def test_work_inappropriate_for_the_age_counts_only_for_a_possible_child():
    # The model's finding alone (e.g. from "13 hour days") neither counts nor makes the person a child.
    alone = assess(situation("age_inappropriate", "excessive_hours"))
    assert [i["id"] for i in alone.indicators] == ["excessive_hours"] and alone.minor is None
    assert alone.urgency == "medium"
    assert not assess(situation("age_inappropriate", minor=False)).indicators
    child = assess(situation("age_inappropriate", minor=True))
    assert [i["id"] for i in child.indicators] == ["age_inappropriate"] and child.urgency == "high"


def test_adult_trafficking_needs_means_exploitation_and_coercion_children_do_not_need_means():
    adult = assess(situation("deceived_recruitment", "recruitment_fee", "excessive_hours", "wages_withheld",
                             "degrading_conditions", "documents_confiscated", "threats_or_violence"))
    assert adult.dimensions == {"recruitment": True, "exploitation": True, "coercion": True}
    assert adult.trafficking_indicated
    no_means = situation("excessive_hours", "wages_withheld", "degrading_conditions", "documents_confiscated",
                         "threats_or_violence")
    assert not assess(no_means).trafficking_indicated
    child = Situation(indicators=no_means.indicators, minor=True)
    assert assess(child).trafficking_indicated


def test_the_combination_rule_raises_medium_only_cases_to_high():
    medium_only = assess(situation("recruitment_fee", "unaware_of_location", "marriage_payment",  # recruitment
                                   "excessive_hours", "wages_withheld", "degrading_conditions",  # exploitation
                                   "isolated", "controlled_by_others", "family_violence"))  # coercion
    assert medium_only.trafficking_indicated and medium_only.urgency == "high"


def test_distress_and_family_discord_count_only_when_a_forced_marriage_is_in_play():
    # Crying in a story of a beating on a farm is not a sign of a forced marriage.
    farm = assess(situation("threats_or_violence", "distress_signs", "family_violence"))
    assert [i["id"] for i in farm.indicators] == ["threats_or_violence"] and farm.forms == ["forced_labour"]
    # Another indicator of the marriage list, or words naming a marriage, put the form in play.
    married = assess(situation("marriage_without_consent", "distress_signs"))
    assert {i["id"] for i in married.indicators} == {"marriage_without_consent", "distress_signs"}
    named = assess(situation("distress_signs", "family_violence", forms_named=["forced_marriage"]))
    assert {i["id"] for i in named.indicators} == {"distress_signs", "family_violence"}
    assert named.forms == ["forced_marriage"]
    # Alone and out of context, not an indicator, but still words a person from our team reads.
    alone = assess(situation("distress_signs"))
    assert alone.indicators == [] and alone.urgency == "medium"


def test_being_forced_to_go_on_in_an_organ_case_is_organ_removal_coercion():
    organ = assess(situation("organ_procurer", "coerced_to_stay"))
    assert {i["id"] for i in organ.indicators} == {"organ_procurer", "organ_removal_coercion"}
    evidence = {i["id"]: i["evidence"] for i in organ.indicators}
    assert evidence["organ_removal_coercion"] == "words for coerced_to_stay"  # the person's words travel with it
    assert organ.forms == ["organ_removal"]
    # Named by the words alone, too; in a job, it stays a job someone cannot quit.
    named = assess(situation("coerced_to_stay", forms_named=["organ_removal"]))
    assert [i["id"] for i in named.indicators] == ["organ_removal_coercion"]
    assert [i["id"] for i in assess(situation("coerced_to_stay")).indicators] == ["coerced_to_stay"]


def test_job_readings_in_an_organ_case_are_read_as_the_organ_list():
    organ = assess(situation("organ_procurer", "deceived_recruitment", "recruitment_fee", "forced_medical_testing"))
    assert {i["id"] for i in organ.indicators} == {"organ_procurer", "organ_removal_deception", "organ_removal_coercion"}
    assert organ.forms == ["organ_removal"]
    # Two readings landing on one organ indicator keep the first words found, not both.
    evidence = {i["id"]: i["evidence"] for i in organ.indicators}
    assert evidence["organ_removal_coercion"] == "words for forced_medical_testing"
    # Outside an organ case each stays what it is.
    job = assess(situation("deceived_recruitment", "recruitment_fee", "forced_medical_testing"))
    assert {i["id"] for i in job.indicators} == {"deceived_recruitment", "recruitment_fee", "forced_medical_testing"}


def test_forms_come_from_their_own_indicators_then_named_settings_then_the_default():
    assert assess(situation("cannot_refuse_clients")).forms == ["sexual_exploitation"]
    assert assess(situation("documents_confiscated", forms_named=["domestic_servitude"])).forms == ["domestic_servitude"]
    assert assess(situation("documents_confiscated")).forms == ["forced_labour"]
    assert assess(situation("marriage_without_consent", "organ_procurer")).forms == ["forced_marriage", "organ_removal"]
    # A named setting alone, with no indicator, is not a form of exploitation.
    assert assess(situation(forms_named=["sexual_exploitation"])).forms == []


def test_needs_keep_what_the_person_asked_for_and_add_what_the_rules_say():
    result = assess(situation("threats_or_violence", needs_requested=("shelter",), interpreter_needed=True))
    assert result.needs == ["shelter", "safety_plan", "interpreter"]


def test_unknown_ids_are_ignored_and_duplicates_keep_evidence():
    result = assess(Situation(indicators=[Evidence("not_an_id", "x"), Evidence("debt_bondage", ""),
                                          Evidence("debt_bondage", "I owe 3000")]))
    assert result.indicators == [{"id": "debt_bondage", "strength": "strong", "evidence": "I owe 3000"}]


def _data() -> dict:
    return yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))


def test_a_manager_can_change_the_urgency_rules_in_yaml():
    data = copy.deepcopy(_data())
    # e.g. a helpline that wants any indicator looked at soon:
    data["urgency_rules"].insert(1, {"urgency": "high", "when": {"min_indicators": 1}, "why": "policy"})
    rules = parse_rules(data)
    assert assess(situation("wages_withheld"), rules).urgency == "high"
    assert assess(situation("wages_withheld"), rules).reason == "policy"


@pytest.mark.parametrize("change,problem", [
    (lambda d: d["urgency_rules"].append({"urgency": "low", "when": {"min_indicators": 9}}), "fallback"),
    (lambda d: d["urgency_rules"][0].update(urgency="critical"), "urgency must be"),
    (lambda d: d["urgency_rules"][0].update(when={"danger": True}), "unknown condition"),
    (lambda d: d.update(default_form="slavery"), "default_form"),
    (lambda d: d["dimension_present_when"].append({"strongest": 1}), "dimension_present_when"),
    (lambda d: d.update(read_in_form={"organ_trade": {"coerced_to_stay": "organ_removal_coercion"}}), "read_in_form"),
    (lambda d: d.update(read_in_form={"organ_removal": {"coerced": "organ_removal_coercion"}}), "unknown indicator"),
    (lambda d: d.update(also_in_form={"marriage": {"threats_or_violence": "family_violence"}}), "also_in_form"),
])
def test_unusable_rules_are_refused_with_a_reason(change, problem):
    data = copy.deepcopy(_data())
    change(data)
    with pytest.raises(RulesError, match=problem):
        parse_rules(data)


def test_words_that_read_as_exploitation_without_a_named_indicator_are_medium_not_information_only():
    assert assess(situation(unnamed_signs=True)).urgency == "medium"
    assert assess(situation()).urgency == "low"


def test_unnamed_signs_do_not_change_a_case_whose_indicators_are_known():
    assert assess(situation("documents_confiscated", unnamed_signs=True)).urgency == "high"


def test_a_farm_case_with_workers_housed_together_is_forced_labour_not_begging():
    farm = assess(situation("excessive_hours", "lives_with_coworkers"))
    assert farm.forms == ["forced_labour"]
    begging = assess(situation("punished_for_quota", "lives_with_coworkers"))
    assert begging.forms == ["forced_begging_criminality"]


def test_violence_in_a_forced_marriage_story_is_also_family_violence_on_the_same_words():
    result = assess(Situation(indicators=[Evidence("marriage_without_consent", "i dont want him"),
                                          Evidence("threats_or_violence", "my brother slapped me")]))
    found = {i["id"]: i["evidence"] for i in result.indicators}
    assert found["family_violence"] == found["threats_or_violence"] == "my brother slapped me"
    farm = assess(situation("excessive_hours", "threats_or_violence"))
    assert "family_violence" not in {i["id"] for i in farm.indicators}


def test_being_made_to_stay_in_a_forced_marriage_is_read_as_no_consent_not_a_job_to_quit():
    result = assess(situation("marriage_payment", "coerced_to_stay"))
    assert {i["id"] for i in result.indicators} == {"marriage_payment", "marriage_without_consent"}
    assert "coerced_to_stay" in {i["id"] for i in assess(situation("wages_withheld", "coerced_to_stay")).indicators}


def test_crying_alone_does_not_put_a_marriage_in_play_and_rename_a_farm_story():
    result = assess(situation("distress_signs", "coerced_to_stay", "excessive_hours"))
    assert "coerced_to_stay" in {i["id"] for i in result.indicators}
