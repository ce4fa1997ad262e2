"""Language choice: detected from meaningful messages, sticky, changed only on purpose."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT, SUPPORTED_LANGUAGES
from bot.language import LanguagePolicy, is_meaningful

ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")  # "[French](language)" -> "French", as typed


@pytest.fixture(scope="module")
def policy() -> LanguagePolicy:
    return LanguagePolicy(SUPPORTED_LANGUAGES, "en")


@pytest.mark.parametrize("text", ["ok", "OK!", "👍", "👍👍🙏", "12345", "+34 600 000 000", "...", "si", "lol", "",
                                  "a" * 1990, "hahahaha", "kkkkkk"])
def test_acknowledgements_numbers_and_emoji_are_not_meaningful(text):
    assert not is_meaningful(text)


@pytest.mark.parametrize("text,expected", [
    ("necesito ayuda por favor", "es"),
    ("j'ai besoin d'aide s'il vous plait", "fr"),
    ("preciso de ajuda urgente", "pt"),
    ("помогите мне пожалуйста", "ru"),
    ("допоможіть мені будь ласка", "uk"),
    ("أحتاج إلى مساعدة من فضلك", "ar"),
    ("ช่วยด้วยค่ะ นายจ้างยึดพาสปอร์ต", "th"),
    ("tôi cần giúp đỡ", "vi"),
    ("tolong saya, majikan ambil paspor saya", "id"),
    ("tulungan niyo po ako, kinuha ng amo ang passport ko", "tl"),
    ("am nevoie de ajutor va rog", "ro"),
    ("I need help with my job", "en"),
])
def test_first_meaningful_message_chooses_the_language(policy, text, expected):
    state = policy.observe(policy.initial(), text)
    assert state.language == expected and state.locked


@pytest.mark.parametrize("text", [
    "salam, ana bnt 3andi 16 3am w baba bgha yzawejni m3a wahed 3ando 45 3am, ma bghitch",
    "7abibi ana khayfa, el kafil 5ad el bassbor w ma bi5alini at7arak",
    "ana 3omri 16 sana w bghaw yzawjouni b l9ehra",
])
def test_arabic_typed_in_latin_letters_with_digits_is_answered_in_arabic(policy, text):
    assert policy.observe(policy.initial(), text).language == "ar"


@pytest.mark.parametrize("text,expected", [
    ("i start at 5am and finish at 9pm, 7 days a week", "en"),
    ("gaji ga dibayar2 udh 4 bln, temen2 juga", "id"),
    ("jai 17ans et je travaille de 6h a 23h", "fr"),
    ("see u l8r, the P3MI agency has my papers", "en"),
])
def test_times_ages_and_doubled_words_with_digits_are_not_taken_for_arabizi(policy, text, expected):
    assert policy.observe(policy.initial(), text).language == expected


@pytest.mark.parametrize("noise", ["ok", "👍", "42", "Maria", "Ahmed", "thanks", "si"])
def test_a_chosen_language_is_not_flipped_by_acknowledgements_numbers_or_names(policy, noise):
    state = policy.observe(policy.initial(), "necesito ayuda, mi jefe no me paga")
    assert state.language == "es"
    assert policy.observe(state, noise).language == "es"


def test_a_single_message_in_another_language_does_not_flip_but_a_clear_run_does(policy):
    state = policy.observe(policy.initial(), "necesito ayuda, mi jefe no me paga")
    once = policy.observe(state, "my boss took my passport")
    assert once.language == "es"
    twice = policy.observe(once, "he says I owe him money for the trip")
    assert twice.language == "en"


def test_an_interrupted_run_does_not_flip(policy):
    state = policy.observe(policy.initial(), "necesito ayuda, mi jefe no me paga")
    state = policy.observe(state, "my boss took my passport")
    state = policy.observe(state, "y no puedo salir de la casa")
    state = policy.observe(state, "he locks the door at night")
    assert state.language == "es"


def test_explicit_request_switches_at_once(policy):
    state = policy.observe(policy.initial(), "necesito ayuda, mi jefe no me paga")
    assert policy.explicit(state, "fr").language == "fr"


def test_an_unsupported_language_is_answered_in_the_default_and_flagged_for_an_interpreter(policy):
    state = policy.observe(policy.initial(), "Hallo, ich brauche Hilfe, mein Chef hat meinen Pass genommen")
    assert state.language == "en"
    assert state.interpreter_needed and state.detected == "de"


def test_state_round_trips_through_a_dict(policy):
    state = policy.observe(policy.initial(), "necesito ayuda")
    assert type(state).from_dict(state.to_dict()) == state


def _heldout(lang: str) -> list[str]:
    data = yaml.safe_load((PROJECT_ROOT / "tests" / "nlu_heldout" / f"{lang}.yml").read_text(encoding="utf-8"))
    lines = []
    for block in data["nlu"]:
        for line in block["examples"].splitlines():
            line = ANNOTATION.sub(r"\1", line.strip()[2:].strip())
            if line:
                lines.append(line)
    return lines


def test_language_of_held_out_first_messages_is_right_at_least_90_percent(policy):
    """Each held-out message as the first message of a new conversation (meaningful ones only)."""
    right = total = 0
    per_language = {}
    for lang in SUPPORTED_LANGUAGES:
        path: Path = PROJECT_ROOT / "tests" / "nlu_heldout" / f"{lang}.yml"
        if not path.exists():
            continue
        ok = n = 0
        for text in _heldout(lang):
            if not is_meaningful(text.replace("[", "").replace("]", "")):
                continue
            n += 1
            ok += policy.observe(policy.initial(), text).language == lang
        per_language[lang] = ok / n
        right += ok
        total += n
    print({k: round(v, 2) for k, v in per_language.items()})
    assert total > 300
    assert right / total >= 0.90, per_language
