"""Indicator extraction: clauses in every script, evidence spans, negations, and the trained model."""
from __future__ import annotations

import joblib
import numpy as np
import pytest

from actions.screening import train
from actions.screening.extractor import (MODEL_FORMAT, MODEL_PATH, Extractor, ModelMissing, load_extractor, read_in_context,
                                         split_clauses, windows)


def texts(text: str) -> list[str]:
    return [span.text for span in split_clauses(text)]


def test_clauses_split_on_sentences_commas_and_joining_words_keeping_question_marks():
    assert texts("hola. el encargado tiene mi pasaporte y dice que le debo 3000.50 euros, no me dejan salir?") == [
        "hola", "el encargado tiene mi pasaporte", "y dice que le debo 3000.50 euros", "no me dejan salir?"]


def test_a_single_word_is_never_left_alone_before_a_joining_word():
    # Romanian "e" is "is", Portuguese "e" is "and": "the passport is with me" stays one clause.
    assert texts("buna, pasaportul e la mine si sunt platit la timp") == [
        "buna", "pasaportul e la mine", "si sunt platit la timp"]
    assert texts("he hit me and took my passport") == ["he hit me", "and took my passport"]


def test_a_comma_or_colon_inside_a_number_or_a_time_does_not_cut_the_clause():
    assert texts("they promised 15,000 a month: work from 6:30 to 22:00, no day off") == [
        "they promised 15,000 a month", "work from 6:30 to 22:00", "no day off"]


def test_thai_clauses_split_on_spaces_and_arabic_on_its_own_comma():
    assert texts("ฉันทำงานในโรงงาน นายจ้างยึดพาสปอร์ต ไม่ให้ออกไปไหน") == [
        "ฉันทำงานในโรงงาน", "นายจ้างยึดพาสปอร์ต", "ไม่ให้ออกไปไหน"]
    assert texts("صاحب العمل أخذ جوازي، ولا يدفع لي راتبي؟") == ["صاحب العمل أخذ جوازي", "ولا يدفع لي راتبي؟"]


def test_clause_positions_point_into_the_original_text():
    text = "My boss keeps my passport, and he locks the door at night."
    for span in split_clauses(text) + windows(text, split_clauses(text)):
        assert text[span.start:span.end] == span.text


def test_windows_join_up_to_three_neighbouring_clauses():
    text = "a b. c d. e f. g h"
    runs = [r.text for r in windows(text, split_clauses(text))]
    assert "a b. c d. e f" in runs and "a b. c d. e f. g h" not in runs and len(runs) == 9


def test_empty_or_wordless_text_has_no_findings():
    extractor = tiny_extractor()
    assert extractor.extract("").findings == [] and extractor.extract(" ?! ").findings == []


def tiny_extractor() -> Extractor:
    """A model trained here on a few sentences: tests the extraction logic, not the data."""
    examples = {
        "documents_confiscated": ["boss took my passport", "they keep our passports", "he has my passport",
                                  "the agent holds my passport", "my papers were taken by the boss"],
        "wages_withheld": ["they never pay me", "no salary for months", "he does not pay us",
                           "unpaid for four months", "the boss keeps our wages"],
        "none": ["hello", "i like my job", "the weather is nice", "thank you", "i have my passport with me",
                 "good morning", "my boss pays me every week"],
    }
    texts_, labels = zip(*[(t, label) for label, ts in examples.items() for t in ts])
    pipeline = train.fit(train.build_pipeline(), texts_, labels)
    danger = train.fit(train.build_pipeline(), ["he is hitting me now", "help they are coming now",
                                                "i am hiding he has a knife", "hello", "i like my job",
                                                "the weather is nice"], [1, 1, 1, 0, 0, 0])
    return Extractor({"format": MODEL_FORMAT, "indicators": pipeline, "danger": danger,
                      "threshold": 0.3, "danger_threshold": 0.5})


def test_findings_carry_the_shortest_clause_that_says_it_as_evidence():
    text = "Hello. The boss took my passport, and they never pay me."
    extraction = tiny_extractor().extract(text)
    by_id = {f.id: f for f in extraction.findings}
    assert set(by_id) == {"documents_confiscated", "wages_withheld"}
    assert by_id["documents_confiscated"].evidence == "The boss took my passport"
    for finding in extraction.findings:
        assert text[finding.start:finding.end] == finding.evidence


def test_a_model_of_another_format_asks_for_make_train(tmp_path):
    with pytest.raises(ModelMissing, match="make train"):
        Extractor({"format": -1})
    with pytest.raises(ModelMissing, match="make train"):
        load_extractor(tmp_path / "missing.joblib")


# ---- the trained model (make train writes it; the suite runs after make train) -------------------

@pytest.fixture(scope="module")
def model() -> Extractor:
    assert MODEL_PATH.exists(), "run `make train` first: it writes models/screening.joblib"
    return load_extractor()


@pytest.mark.parametrize("text,indicator", [
    ("my boss took my passport", "documents_confiscated"),
    ("mi jefe me quitó el pasaporte", "documents_confiscated"),
    ("they lock the door at night so we cannot go out", "movement_restricted"),
    ("I have not been paid for 4 months", "wages_withheld"),
    # beside ordinary words, before or after them
    ("my boss took my passport and I work on a farm", "documents_confiscated"),
    ("I work in a factory in Taiwan and the company keeps my passport", "documents_confiscated"),
])
def test_the_trained_model_finds_plain_statements(model, text, indicator):
    assert indicator in model.extract(text).ids


@pytest.mark.parametrize("text", [
    "I have my passport with me", "I can leave whenever I want", "my boss pays me every week",
    "hello, is this the helpline?",
    "I have my own room and my passport, weekends off and they always pay on time",
])
def test_the_trained_model_does_not_count_negations_and_ordinary_life(model, text):
    assert model.extract(text).findings == []


def test_the_trained_model_recognises_danger_now(model):
    assert model.extract("he is hitting me right now, please help").danger is not None
    assert model.extract("I want to know my rights about overtime").danger is None


def test_the_model_file_records_its_thresholds_and_inputs():
    bundle = joblib.load(MODEL_PATH)
    assert 0 < bundle["threshold"] < 1 and 0 < bundle["danger_threshold"] < 1
    assert MODEL_PATH.with_suffix(".json").exists()


def test_training_is_skipped_when_nothing_changed(tmp_path, monkeypatch):
    out = tmp_path / "screening.joblib"
    out.write_bytes(b"old")
    out.with_suffix(".json").write_text('{"inputs_hash": "%s"}' % train.inputs_hash(train.input_paths()))
    assert train.train(out, log=lambda *_: None) is None
    assert out.read_bytes() == b"old"


def test_no_indicator_but_none_very_unlikely_is_reported_as_unnamed_signs():
    extractor = tiny_extractor()
    unsure = Extractor({**extractor.bundle, "threshold": 0.99, "unnamed_none_below": 0.5})
    assert unsure.extract("the boss took my passport").findings == []
    assert unsure.extract("the boss took my passport").unnamed_signs
    assert not unsure.extract("hello").unnamed_signs
    assert not extractor.extract("the boss took my passport").unnamed_signs  # named instead


def test_without_sentence_vectors_the_tfidf_model_alone_uses_its_own_thresholds():
    bundle = {**tiny_extractor().bundle, "vectors": object(), "threshold": 0.9, "tfidf_threshold": 0.3,
              "none_ratio": 2.0, "tfidf_none_ratio": 1.0}
    alone = Extractor(bundle, vectors=None)
    assert alone.vector_model is None and (alone.calibration.threshold, alone.calibration.none_ratio) == (0.3, 1.0)
    assert "documents_confiscated" in alone.extract("the boss took my passport").ids


class VectorsThatReadNothing:
    """Sentence vectors and their model that find `none` everywhere, as e5 does with arabizi."""

    def __init__(self, classes: list[str]):
        self.classes_ = np.asarray(classes)

    def texts(self, pieces: list[str]) -> np.ndarray:
        return np.zeros((len(pieces), 2))

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        return np.tile((self.classes_ == "none").astype(float), (len(matrix), 1))


def test_arabizi_is_scored_by_the_tfidf_model_alone_which_learnt_it_not_by_the_sentence_vectors():
    tiny = tiny_extractor()
    arabizi = train.fit(train.build_pipeline(),
                        ["lmadam chadda lpasspor dyali", "lkafil 3ando jawaz dyali", "boss took my passport",
                         "salam 3likom", "ana mezyana l7amdolilah", "hello", "i like my job"],
                        ["documents_confiscated"] * 3 + ["none"] * 4)
    blind = VectorsThatReadNothing([str(c) for c in arabizi.classes_])
    bundle = {**tiny.bundle, "indicators": arabizi, "vectors": blind, "tfidf_weight": 0.5,
              "threshold": 0.45, "tfidf_threshold": 0.3, "none_ratio": 0.0, "tfidf_none_ratio": 0.0}
    extractor = Extractor(bundle, vectors=blind)
    assert "documents_confiscated" in extractor.extract("slm, lmadam chadda lpasspor dyali w ma3andich l7a9 bach nkhrj").ids
    # The same words in Latin letters without digit-letters are not arabizi: both models are asked.
    assert extractor.extract("lmadam chadda lpasspor dyali").ids == []


def test_the_trained_model_averages_tfidf_and_sentence_vectors_with_calibrated_weights(model):
    assert model.vector_model is not None and model.vectors is not None
    assert 0.0 < model.tfidf_weight < 1.0
    assert model.bundle["tfidf_threshold"] > 0 and model.bundle["unnamed_none_below"] > 0


def test_arabic_clauses_split_before_long_words_joined_to_and_or_so():
    text = "المسؤول ياخد الفلوس كاملين وكيهددها يصيفط تصاورها لعائلتها وين نروح"
    assert texts(text) == ["المسؤول ياخد الفلوس كاملين", "وكيهددها يصيفط تصاورها لعائلتها وين نروح"]
    # "and" before a negation opens a new fact: the passport, then the pay.
    assert texts("الكفيل ماخذ جوازي وما عطاني راتب من سبع شهور") == ["الكفيل ماخذ جوازي", "وما عطاني راتب من سبع شهور"]
    assert texts("وين وفي ومن") == ["وين وفي ومن"]  # short words that merely start with the letter


def spans_of(text: str) -> list:
    return windows(text, split_clauses(text))


def test_a_joined_fragment_does_not_count_when_the_words_before_it_deny_it():
    runs = spans_of("I have my own room and my passport")  # runs: [room], [room and passport], [and passport]
    classes = ["documents_confiscated", "none"]
    probabilities = np.array([[0.02, 0.95], [0.10, 0.85], [0.55, 0.40]])
    counted = read_in_context(probabilities, classes, 1.0, runs)
    assert counted[2, 0] == 0.0  # "and my passport" shares "I have" with the clause before it
    assert counted[2, 1] == probabilities[2, 1]  # `none` itself is never removed
    assert probabilities[2, 0] == 0.55  # the caller's probabilities are left as they were


def test_a_piece_without_letters_counts_only_through_the_runs_that_hold_it():
    runs = spans_of("นายหน้าบอกได้เดือนละ 15,000 ตอนนี้7เดือนไม่ได้เงิน")  # [broker said], [15,000], [now 7 months unpaid]
    classes = ["debt_bondage", "none"]
    probabilities = np.full((len(runs), 2), [0.6, 0.3])
    counted = read_in_context(probabilities, classes, 1.0, runs)
    letterless = [i for i, run in enumerate(runs) if run.text == "15,000"]
    assert letterless and all(counted[i, 0] == 0.0 for i in letterless)
    assert all(counted[i, 0] == 0.6 for i in range(len(runs)) if i not in letterless)


def test_a_statement_beside_ordinary_words_still_counts():
    classes = ["documents_confiscated", "none"]
    # Not joined to what comes before: the company keeping the passport counts however ordinary the rest.
    runs = spans_of("I work in a factory in Taiwan, the company keeps my passport")
    probabilities = np.array([[0.01, 0.95], [0.20, 0.70], [0.50, 0.45]])
    assert read_in_context(probabilities, classes, 1.0, runs)[2, 0] == 0.50
    # Joined, but sure on its own: it has its own verb ("and the boss took my passport").
    runs = spans_of("I work on a farm and the boss took my passport")
    probabilities = np.array([[0.01, 0.95], [0.30, 0.60], [0.80, 0.15]])
    assert read_in_context(probabilities, classes, 1.0, runs)[2, 0] == 0.80


def test_each_indicator_can_have_its_own_calibrated_threshold():
    extractor = tiny_extractor()
    strict = Extractor({**extractor.bundle, "threshold": 0.99, "thresholds": {"documents_confiscated": 0.3}})
    assert strict.extract("The boss took my passport, and they never pay me.").ids == ["documents_confiscated"]


def test_label_thresholds_move_only_where_fold_f1_gains_and_stay_near_the_common_one():
    # "a" is often scored 0.35 where it is not true: a higher threshold for it gains; "b" is clean.
    truths = [{"a"}] * 20 + [set()] * 20 + [{"b"}] * 20 + [set()] * 20
    scores = [{"a": 0.6}] * 20 + [{"a": 0.35}] * 20 + [{"b": 0.32}] * 20 + [{"b": 0.1}] * 20
    chosen = train.label_thresholds(truths, scores, threshold=0.3)
    assert 0.35 < chosen["a"] <= 0.3 + train.LABEL_THRESHOLD_RANGE + 1e-9
    assert "b" not in chosen
