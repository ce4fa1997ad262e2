"""Every language speaks with the same responses, placeholders and buttons as English."""
from __future__ import annotations

import re

import yaml
import pytest

from bot.config import PROJECT_ROOT, SUPPORTED_LANGUAGES
from bot.domain_responses import domain_responses
from bot.locales import Catalog, load_locales, placeholders

LOCALES = load_locales()
REFERENCE = LOCALES["en"]


@pytest.mark.parametrize("code", SUPPORTED_LANGUAGES)
def test_every_supported_language_has_a_locale_with_exactly_the_english_keys(code):
    assert code in LOCALES, f"locales/{code}.yml is missing"
    locale = LOCALES[code]
    missing = set(REFERENCE.responses) - set(locale.responses)
    extra = set(locale.responses) - set(REFERENCE.responses)
    assert not missing, f"{code} lacks {sorted(missing)}"
    assert not extra, f"{code} has keys English does not: {sorted(extra)}"


@pytest.mark.parametrize("code", SUPPORTED_LANGUAGES)
def test_placeholders_and_button_payloads_match_english(code):
    locale = LOCALES[code]
    for name, english in REFERENCE.responses.items():
        translated = locale.responses[name]
        assert placeholders(translated["text"]) == placeholders(english["text"]), f"{code}:{name} placeholders"
        assert [b["payload"] for b in translated.get("buttons", [])] == [
            b["payload"] for b in english.get("buttons", [])
        ], f"{code}:{name} buttons"
        for button in translated.get("buttons", []):
            assert button["title"].strip(), f"{code}:{name} has an empty button title"


@pytest.mark.parametrize("code", SUPPORTED_LANGUAGES)
def test_each_locale_says_honestly_how_it_was_made(code):
    locale = LOCALES[code]
    assert locale.review.strip(), f"{code} must record how its texts were made (meta.review)"
    assert locale.code == code
    assert locale.direction == ("rtl" if code == "ar" else "ltr")


def test_every_response_used_by_dialogues_and_actions_exists_in_english():
    used = set()
    for path in (PROJECT_ROOT / "dialogues").glob("*.yml"):
        used |= set(re.findall(r"\butter_[a-z0-9_]+", path.read_text()))
    for path in (PROJECT_ROOT / "actions").glob("*.py"):
        used |= {part.split('"')[0] for part in path.read_text().split('response="')[1:]}
    assert used, "no responses found: the scan is broken"
    assert used <= set(REFERENCE.responses), sorted(used - set(REFERENCE.responses))


def test_generated_domain_responses_list_every_english_response():
    assert set(domain_responses()["responses"]) == set(REFERENCE.responses)


def test_render_fills_constants_and_values_and_falls_back_to_default_language():
    catalog = Catalog(LOCALES, "en", {"helpline_name": "Testline", "emergency_number": "999"})
    greet = catalog.render("utter_greet", "es")
    assert "Testline" in greet["text"] and greet["buttons"][0]["payload"] == "/i_need_help"
    assert "999" in catalog.render("utter_emergency_now", "th")["text"]
    assert catalog.render("utter_referrals", "en", {"country": "ES", "services": "- X"})["text"].endswith("- X")
    # A language without a locale is answered in the default language, never an error.
    assert catalog.render("utter_goodbye", "de") == catalog.render("utter_goodbye", "en")
    assert catalog.render("utter_no_such_response", "en") is None


def test_a_missing_placeholder_value_stays_visible_instead_of_failing():
    catalog = Catalog(LOCALES, "en", {})
    assert "{emergency_number}" in catalog.render("utter_emergency_now", "en")["text"]


def test_locale_files_are_plain_yaml_with_meta_and_responses():
    for path in (PROJECT_ROOT / "locales").glob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(data) == {"meta", "responses"}, path.name


# ---- locale parts (locales/<part>/<lang>.yml, e.g. the screening texts) -------------------------
# They are merged into each language's responses, so every check above covers their keys,
# placeholders and buttons too; these check the part files themselves.
PARTS = sorted(p for p in (PROJECT_ROOT / "locales").iterdir() if p.is_dir())


def _part(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("part", [p.name for p in PARTS])
@pytest.mark.parametrize("code", SUPPORTED_LANGUAGES)
def test_each_locale_part_exists_for_every_language_with_the_english_keys_and_honest_meta(part, code):
    path = PROJECT_ROOT / "locales" / part / f"{code}.yml"
    assert path.exists(), f"locales/{part}/{code}.yml is missing"
    data, english = _part(path), _part(PROJECT_ROOT / "locales" / part / "en.yml")
    assert set(data) == {"meta", "responses"}, path.name
    assert set(data["responses"]) == set(english["responses"]), f"{part}/{code}: keys differ from English"
    assert data["meta"]["language"] == code and data["meta"]["review"].strip()
    assert data["meta"]["direction"] == ("rtl" if code == "ar" else "ltr")


def test_locale_parts_do_not_redefine_main_locale_responses():
    main = yaml.safe_load((PROJECT_ROOT / "locales" / "en.yml").read_text(encoding="utf-8"))["responses"]
    for part in PARTS:
        assert not set(_part(part / "en.yml")["responses"]) & set(main), part.name


def test_merged_parts_render_like_any_response():
    catalog = Catalog(LOCALES, "en", {"helpline_name": "Testline", "emergency_number": "999"})
    assert "999" in catalog.render("utter_screening_passed_on", "ar")["text"]
    question = catalog.render("utter_screening_q_other", "vi", {"label": "X"})
    assert question["text"].startswith("X\n") and question["buttons"][-1]["payload"] == "/skip"
