"""Training narratives: quoted evidence teaches its clause, the rest of the message teaches `none`."""
from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import yaml

from actions.screening import narratives, train
from actions.screening.catalogue import load_catalogue
from actions.screening.extractor import NONE

STORY = """\
language: en
narratives:
  - text: "sorry for writing so late. i work on a farm, the boss keeps my passport, we get paid every friday"
    evidence:
      documents_confiscated: ["the boss keeps my passport"]
  - text: "can my employer ask for my passport? i still have it"
    evidence: {}
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "en.yml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_clause_holding_a_quote_teaches_its_indicator_and_untouched_runs_teach_none(tmp_path):
    story = narratives.load_narratives(write(tmp_path, STORY))[0]
    taught = narratives.labelled_runs(story)
    assert ("the boss keeps my passport", "documents_confiscated") in taught
    nothing = {text for text, label in taught if label == NONE}
    assert "sorry for writing so late" in nothing
    assert "we get paid every friday" in nothing
    # A run holding the evidence with other words is neither the evidence nor its absence.
    assert not any("passport" in text for text in nothing)
    assert [label for _, label in taught].count("documents_confiscated") == 1


def test_a_message_without_indicators_teaches_none_for_every_run_it_is_cut_into(tmp_path):
    story = narratives.load_narratives(write(tmp_path, STORY))[1]
    assert story.indicators == set()
    taught = narratives.labelled_runs(story)
    assert taught and {label for _, label in taught} == {NONE}
    assert ("can my employer ask for my passport?", NONE) in taught


def test_narratives_teach_the_indicator_model_never_the_danger_model(tmp_path):
    examples = train.narrative_examples(narratives.load_narratives(write(tmp_path, STORY)))
    assert examples and not any(e.danger for e in examples)
    assert all(train.teaches_indicators(e) for e in examples)


def test_the_filler_of_calm_narratives_teaches_the_danger_model_what_is_no_emergency(tmp_path):
    locked = STORY + """\
  - text: "i am in dubai, they lock the door at night. please help"
    evidence:
      movement_restricted: ["they lock the door at night"]
"""
    stories = narratives.load_narratives(write(tmp_path, locked))
    calm = train.calm_runs(train.narrative_examples([story]) for story in stories)
    texts = {e.text for e in calm}
    assert "sorry for writing so late" in texts and "can my employer ask for my passport?" in texts
    # A story with a sign of danger is not labelled for danger now: its filler may be a cry for help.
    assert not any("dubai" in text or "help" in text for text in texts)
    assert all(e.label == NONE and not e.danger for e in calm)


def test_a_quote_that_is_not_in_the_text_word_for_word_is_refused_with_where_it_is(tmp_path):
    with pytest.raises(ValueError, match="en.yml: narrative 1.*not in the text"):
        narratives.load_narratives(write(tmp_path, STORY.replace('["the boss keeps my passport"]', '["boss has my passport"]')))


def test_an_unknown_indicator_id_in_a_narrative_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown indicator id 'passport_taken'"):
        narratives.load_narratives(write(tmp_path, STORY.replace("documents_confiscated:", "passport_taken:")),
                                   known={"documents_confiscated"})


def test_the_repository_narratives_cover_every_language_and_every_indicator():
    stories = narratives.load_narratives(known=set(load_catalogue().ids))
    assert {s.language for s in stories} == {"ar", "en", "es", "fr", "id", "pt", "ro", "ru", "th", "tl", "uk", "vi"}
    assert set().union(*(s.indicators for s in stories)) == set(load_catalogue().ids)
    assert sum(not s.indicators for s in stories) >= len(stories) // 6


def test_no_training_narrative_copies_a_held_out_evaluation_case():
    """bench/screening_eval.py measures on tests/screening_eval: training on it would hide errors.

    Messages of one kind resemble each other (the same question about a passport, ratio up to
    0.65 between independent writers); a copy or a light edit of one is well above 0.8.
    """
    evaluation: dict[str, list[str]] = {}
    for path in (Path(__file__).resolve().parent.parent / "screening_eval").glob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        evaluation[data["language"]] = [c["text"].lower() for c in data["cases"]]
    for story in narratives.load_narratives():
        for case in evaluation.get(story.language, []):
            matcher = difflib.SequenceMatcher(None, story.text.lower(), case, autojunk=False)
            assert matcher.quick_ratio() < 0.8 or matcher.ratio() < 0.8, (story.text, case)
