"""A consent level typed in words: the lookup of nlu_data/consent_levels.yml through Rasa's own extractor.

RegexEntityExtractor (configured as in config.yml) and EntitySynonymMapper are trained on nlu_data/ here,
without the intent classifier, so this runs without a trained model. Typed answers reaching
action_handoff (intent and dialogue) are checked by the story tests (tests/stories/test_handoff.yml).
"""
from __future__ import annotations

import re

import pytest
import yaml

from bot.config import PROJECT_ROOT, SUPPORTED_LANGUAGES

LEVELS = ("share", "confidential", "anonymous")
DEFAULT = "confidential"  # what action_handoff keeps when no level is found (actions/handoff.py)
CONSENT_FILE = PROJECT_ROOT / "nlu_data" / "consent_levels.yml"
GOLD = re.compile(r"\[([^\]]+)\]\(consent:(\w+)\)")
ANNOTATION = re.compile(r"\[([^\]]+)\]\(consent\)")


def _blocks(path, kind):
    return [b for b in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"] if kind in b]


def _lines(block):
    return [line.strip()[2:].strip() for line in block["examples"].splitlines() if line.strip()]


def _intent_examples(path, intent):
    return [text for b in _blocks(path, "intent") if b["intent"] == intent for text in _lines(b)]


def test_every_lookup_entry_has_exactly_one_level_and_the_levels_are_the_buttons_values():
    lookup = [e.lower() for b in _blocks(CONSENT_FILE, "lookup") for e in _lines(b)]
    level_of: dict[str, str] = {}
    for block in _blocks(CONSENT_FILE, "synonym"):
        assert block["synonym"] in LEVELS
        for entry in _lines(block):
            assert entry not in level_of, f"{entry!r} has two levels"
            level_of[entry] = block["synonym"]
    assert len(lookup) == len(set(lookup))
    assert set(lookup) == set(level_of) | (set(lookup) & set(LEVELS))
    locale = (PROJECT_ROOT / "locales" / "en.yml").read_text(encoding="utf-8")
    assert all(f'/handoff_consent{{"consent":"{level}"}}' in locale for level in LEVELS)


def test_the_lookup_is_sorted_longest_first_so_the_longest_entry_wins_where_several_start():
    # "don't share my name" (anonymous) must be tried before "don't share" (confidential).
    lengths = [len(e) for b in _blocks(CONSENT_FILE, "lookup") for e in _lines(b)]
    assert lengths == sorted(lengths, reverse=True)


@pytest.fixture(scope="module")
def consent_of(tmp_path_factory):
    """The consent values Rasa's own RegexEntityExtractor and EntitySynonymMapper find in a text."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.extractors.entity_synonyms import EntitySynonymMapper
    from rasa.nlu.extractors.regex_entity_extractor import RegexEntityExtractor
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.message import Message

    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    regex_config = next(c for c in config["pipeline"] if c["name"] == "RegexEntityExtractor")
    storage = LocalModelStorage(tmp_path_factory.mktemp("consent-nlu"))
    context = ExecutionContext(GraphSchema({}), "consent-test")
    data = load_data(str(PROJECT_ROOT / "nlu_data"))
    extractor = RegexEntityExtractor.create(
        {**RegexEntityExtractor.get_default_config(), **{k: v for k, v in regex_config.items() if k != "name"}},
        storage, Resource("regex"), context)
    extractor.train(data)
    mapper = EntitySynonymMapper.create(EntitySynonymMapper.get_default_config(), storage, Resource("syn"), context)
    mapper.train(data)

    def run(text: str) -> list[str]:
        message = Message.build(text=text)
        extractor.process([message])
        mapper.process([message])
        return [e["value"] for e in message.get("entities", []) if e["entity"] == "consent"]

    return run


def _level(values: list[str]) -> str:
    """What action_handoff does with them: the first level found, else the default."""
    return values[0] if values and values[0] in LEVELS else DEFAULT


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_typed_training_answers_give_the_level_they_are_annotated_with(consent_of, lang):
    examples = _intent_examples(PROJECT_ROOT / "nlu_data" / f"{lang}.yml", "handoff_consent")
    assert len(examples) >= 12
    for example in examples:
        text = ANNOTATION.sub(r"\1", example)
        found = consent_of(text)
        assert len(found) == len(ANNOTATION.findall(example)), (example, found)
        assert set(found) <= set(LEVELS) and len(set(found)) <= 1, (example, found)


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_held_out_typed_answers_give_the_level_the_person_meant(consent_of, lang):
    rows = _intent_examples(PROJECT_ROOT / "tests" / "nlu_heldout" / f"{lang}.yml", "handoff_consent")
    assert rows, f"no held-out typed consent answers for {lang}"
    wrong = []
    for row in rows:
        gold = GOLD.search(row)
        meant = gold.group(2) if gold else DEFAULT
        text = GOLD.sub(r"\1", row)
        if _level(consent_of(text)) != meant:
            wrong.append((text, meant, consent_of(text)))
    assert len(wrong) <= len(rows) // 6, wrong  # at most one in six missed


@pytest.mark.parametrize("text,level", [
    ("keep me anonymous pls", "anonymous"),
    ("don't share my name", "anonymous"),        # longest entry wins over "don't share"
    ("don’t share it with anyone", "confidential"),  # a phone's curly apostrophe
    ("dont share it, just your team", "confidential"),  # the negation comes before "share"
    ("ok you can share it", "share"),
    ("no lo compartan", "confidential"),
    ("ne partagez pas svp", "confidential"),
    ("não compartilhem nada", "confidential"),
    ("не передавайте никому", "confidential"),
    ("rahasiakan nama saya", "anonymous"),       # over "rahasia" (confidential)
    ("ไม่ต้องส่งต่อนะคะ", "confidential"),          # Thai, no spaces: over "ส่งต่อ"
    ("ขอไม่เปิดเผยตัวตนค่ะ", "anonymous"),
    ("wag nyo i-share", "confidential"),
])
def test_negations_and_longer_phrases_win(consent_of, text, level):
    assert _level(consent_of(text)) == level


@pytest.mark.parametrize("text", [
    "у нашому будинку сім'я іноземців",           # "ім'я" is inside "сім'я"
    "ไม่เชื่อว่าเขาจะจ่าย",                           # "ชื่อ" is inside "เชื่อ"
    "aku mau ke Korea lewat jalur resmi",        # Arabizi "esmi" is inside "resmi"
    "fiecare dintre noi a dat 800",              # "intre noi" is inside "dintre noi"
    "je veux parler à une personne",
    "i need help, my boss took my passport",
])
def test_no_level_is_found_inside_unrelated_words(consent_of, text):
    assert consent_of(text) == []
