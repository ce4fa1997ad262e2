"""Age and setting cues: a possible child is presumed a child; settings name forms; durations are not ages."""
from __future__ import annotations

import pytest

from actions.screening.cues import load_cues, normalise

CUES = load_cues()


@pytest.mark.parametrize("text", [
    "I'm 15 and work nights at the bar", "she is 14", "a 13 year old boy", "my sister, 16yo",
    "tengo 15 años", "una niña de 14 años", "es menor de edad", "j'ai 17 ans", "uma aluna de 14 anos",
    "am 15 ani", "мне 16", "ей 16", "мені 16", "umur 14", "13 years old po siya", "em 17 tuoi",
    "عمري 14", "หนูอายุ15ค่ะ", "หนูอายุ๑๕", "an underage girl", "the kids sell tissues",
    "ana bnt 16 3am", "3omri 15", "hiya 9asra",  # Arabic in Latin letters ("arabizi")
    "salam, ana bnt 3andi 16 3am w baba bgha yzawejni",
])
def test_a_possible_child_is_presumed_a_child(text):
    assert CUES.minor(text) is True


@pytest.mark.parametrize("text", ["I'm 32", "he's 24", "tengo 40 años", "мне 35 лет", "อายุ32",
                                  "หนูอายุ32ค่ะ"])  # หนู is also how adult women say "I"
def test_a_stated_adult_age_is_an_adult(text):
    assert CUES.minor(text) is False


@pytest.mark.parametrize("text", [
    "I have worked here 3 years", "they owe me 5 months of pay", "I work 16 hours a day",
    "trabajo aquí hace 3 años", "we are 12 in one room", "3000 euros for the trip",
    "khdamt 3 snin", "I finish at 12 3am", "kan 3andi 2 3am f lkhadma",
])
def test_durations_amounts_and_counts_are_not_ages(text):
    assert CUES.minor(text) is None


@pytest.mark.parametrize("text,form", [
    ("I work on a farm picking strawberries", "forced_labour"),
    ("soy empleada domestica interna", "domestic_servitude"),
    ("he makes me see clients every night", "sexual_exploitation"),
    ("они хотят выдать меня замуж", "forced_marriage"),
    ("they want me to sell my kidney", "organ_removal"),
    ("the kids beg at the traffic lights", "forced_begging_criminality"),
    ("ขายไตที่ต่างประเทศ", "organ_removal"),
    ("bba bgha yzowjni b wa7d ra9el", "forced_marriage"),
])
def test_settings_name_their_form(text, form):
    assert form in CUES.forms(text)


def test_whole_word_entries_do_not_match_inside_other_words():
    assert "organ_removal" not in CUES.forms("the organisation helps workers")


def test_normalising_folds_accents_digits_and_vietnamese_d():
    assert normalise("Tôi ĐANG ở đây ١٥ ๑๕") == "toi dang o đay 15 15".replace("đ", "d")
