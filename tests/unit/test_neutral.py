"""Neutral wording: no locale text keeps the word "trafficking" once neutralised, in any language."""
from __future__ import annotations

import pytest

from bot.channels.neutral import mentions_trafficking, neutralize
from bot.config import SUPPORTED_LANGUAGES
from bot.locales import load_locales

LOCALES = load_locales()


@pytest.mark.parametrize("code", SUPPORTED_LANGUAGES)
def test_every_response_and_button_of_every_locale_is_neutral_after_neutralize(code):
    for name, response in LOCALES[code].responses.items():
        for text in [response.get("text", "")] + [b["title"] for b in response.get("buttons", [])]:
            neutral = neutralize(text, code)
            assert not mentions_trafficking(neutral), f"{code}:{name}: {neutral}"


@pytest.mark.parametrize("code", SUPPORTED_LANGUAGES)
def test_the_definition_still_reads_as_a_definition(code):
    original = LOCALES[code].responses["utter_what_is_trafficking"]["text"]
    assert mentions_trafficking(original)
    neutral = neutralize(original, code)
    assert neutral != original and len(neutral) > len(original) * 0.8


def test_grammar_is_kept_where_the_word_had_an_article_or_a_case():
    assert neutralize("report to a trafficking hotline", "en") == "report to an exploitation hotline"
    assert neutralize("Trafficking is when", "en") == "Exploitation is when"
    assert neutralize("contre la traite ou", "fr") == "contre l'exploitation ou"
    assert neutralize("Le trafiquant peut", "fr") == "L'exploiteur peut"
    assert neutralize("contra o tráfico de pessoas", "pt") == "contra a exploração"
    assert neutralize("по борьбе с торговлей людьми", "ru") == "по борьбе с эксплуатацией"
    assert neutralize("від торгівлі людьми", "uk") == "від експлуатації"


def test_a_spanish_verb_that_looks_like_the_noun_is_left_alone():
    assert neutralize("Se trata de tu seguridad.", "es") == "Se trata de tu seguridad."
    assert neutralize("la trata de personas", "es") == "la explotación"
    assert not mentions_trafficking("se trata de mi jefe")


@pytest.mark.parametrize("text", [
    "is this human trafficking?", "creo que es trata de personas", "c'est de la traite", "é tráfico de pessoas",
    "это торговля людьми", "це торгівля людьми", "هل هذا اتجار بالبشر", "นี่คือการค้ามนุษย์ไหม",
    "đây có phải mua bán người không", "apakah ini perdagangan orang", "este trafic de persoane",
])
def test_the_person_using_the_word_is_recognised_in_each_language(text):
    assert mentions_trafficking(text)
