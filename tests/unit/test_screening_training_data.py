"""Screening training data: danger-now stories teach both models, and mistakes in the files are refused."""
from __future__ import annotations

from pathlib import Path

import pytest

from actions.screening import train
from actions.screening.catalogue import load_catalogue

DANGER_FILE = """\
language: en
indicators:
  wages_withheld:
    - no pay for months
none:
  - i have my passport
danger_now:
  threats_or_violence:
    - he is beating me right now, my nose is bleeding
  none:
    - help me now
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "en.yml").write_text(text, encoding="utf-8")
    return tmp_path


def test_danger_now_sentences_are_danger_examples_labelled_with_their_indicator(tmp_path):
    examples = train.load_danger_data(write(tmp_path, DANGER_FILE), known={"threats_or_violence"})
    assert {(e.text, e.label, e.danger) for e in examples} == {
        ("he is beating me right now, my nose is bleeding", "threats_or_violence", True),
        ("help me now", "none", True),
    }


def test_the_indicator_model_learns_labelled_danger_but_not_bare_cries_for_help(tmp_path):
    examples = train.load_danger_data(write(tmp_path, DANGER_FILE))
    taught = {e.text for e in examples if train.teaches_indicators(e)}
    assert taught == {"he is beating me right now, my nose is bleeding"}
    assert train.teaches_indicators(train.Example("no pay for months", "en", "wages_withheld"))


def test_danger_now_with_an_unknown_indicator_id_is_refused_with_the_file_name(tmp_path):
    with pytest.raises(ValueError, match="en.yml.*beaten"):
        train.load_danger_data(write(tmp_path, DANGER_FILE.replace("threats_or_violence:", "beaten:")),
                               known={"threats_or_violence"})


def test_danger_now_as_a_plain_list_is_refused_because_each_sentence_needs_its_indicator(tmp_path):
    with pytest.raises(ValueError, match="danger_now must map"):
        train.load_danger_data(write(tmp_path, "language: en\ndanger_now:\n  - help\n"))


def test_the_repository_danger_data_names_only_catalogue_indicators_in_every_language():
    examples = train.load_danger_data(known=set(load_catalogue().ids))
    assert {e.language for e in examples} == {"ar", "en", "es", "fr", "id", "pt", "ro", "ru", "th", "tl", "uk", "vi"}
    assert sum(e.label != train.NONE for e in examples) > len(examples) / 2


@pytest.mark.parametrize("section,load", [("danger_now", train.load_danger_data),
                                          ("indicators", train.load_indicator_data)])
def test_a_sentence_grouped_under_two_indicators_teaches_both(tmp_path, section, load):
    text = f"language: en\n{section}:\n  threats_or_violence+movement_restricted:\n    - he beat her and locked her in the cellar\n"
    known = {"threats_or_violence", "movement_restricted"}
    assert sorted(e.label for e in load(write(tmp_path, text), known=known)) == ["movement_restricted", "threats_or_violence"]
    with pytest.raises(ValueError, match="en.yml.*locked"):
        load(write(tmp_path, text.replace("+movement_restricted", "+locked")), known=known)
