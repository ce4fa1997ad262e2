"""Per-conversation language choice: detected from meaningful messages, sticky, changed on purpose.

Detection uses lingua, restricted to the supported languages plus a set of other languages people
commonly write in, so that a German or Somali message is recognised as "not supported" (and flagged
for an interpreter) instead of being forced into the nearest supported language.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable, Optional

import re
from pathlib import Path

import yaml
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline

from bot.arabizi import ARABIZI_SURE, arabizi_marks
from bot.config import PROJECT_ROOT

# Languages we recognise only to say "we don't speak it yet": common in migration and
# trafficking contexts. Malay and Catalan are left out on purpose: on short texts they are
# mistaken for Indonesian and Spanish, which serve those writers better than a refusal.
OTHER_LANGUAGES: tuple[str, ...] = (
    "de", "it", "nl", "pl", "tr", "zh", "ja", "ko", "hi", "bn", "ur", "fa", "sw", "so", "sq",
    "bg", "hu", "cs", "el", "he", "pa", "ta", "yo", "sk", "sr", "hr", "lt", "lv", "ka", "hy",
)

# Replies that say little about the writer's language because people of many languages use them
# ("ok", "lol", "si"): they never choose or switch the language. Language-specific words such as
# "gracias" or "дякую" are not here: they are a fine first signal.
NEUTRAL_WORDS = frozenset(
    "ok okay okey oki k kk yes no si sí da ja yep nope thanks thx ty tq lol haha hehe hi hey hello "
    "bye ciao hm hmm mm ah oh eh wow".split()
)

CONFIDENCE_THRESHOLD = 0.30  # on the blended score of lingua and the phrasing model
OTHER_THRESHOLD = 0.60  # lingua must be this sure before we call a message "not supported"
PHRASING_WEIGHT = 0.5  # measured on tests/nlu_heldout: lingua alone 0.936, blended 0.961
NLU_DATA_DIR = PROJECT_ROOT / "nlu_data"
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")
SWITCH_RUN = 2  # consecutive clear messages in another language before the reply language follows


@dataclass(frozen=True)
class LanguageState:
    """What a conversation knows about its language; stored with the conversation."""

    language: str
    locked: bool = False
    detected: Optional[str] = None
    run_language: Optional[str] = None
    run_length: int = 0
    interpreter_needed: bool = False

    def to_dict(self) -> dict:
        """Serialisable form for the conversation store."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> "LanguageState":
        """Inverse of `to_dict`, tolerant of older records."""
        fields = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in fields})


def _iso(language: Language) -> str:
    """lingua Language → ISO 639-1 code, lower case."""
    return language.iso_code_639_1.name.lower()


@lru_cache(maxsize=4)
def build_detector(supported: tuple[str, ...]) -> LanguageDetector:
    """A lingua detector over the supported and recognised-other languages (built once)."""
    codes = list(dict.fromkeys(supported + OTHER_LANGUAGES))
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes]
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def training_samples(directory: Path = NLU_DATA_DIR) -> tuple[list[str], list[str]]:
    """(texts, language codes) from `nlu_data/<lang>.yml`, entity annotations removed."""
    texts: list[str] = []
    labels: list[str] = []
    for path in sorted(directory.glob("*.yml")):
        code = path.stem
        if len(code) != 2:
            continue
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                text = _ANNOTATION.sub(r"\1", line.strip()[2:].strip())
                if text:
                    texts.append(text)
                    labels.append(code)
    return texts, labels


@lru_cache(maxsize=4)
def build_phrasing_model(supported: tuple[str, ...]) -> Pipeline:
    """Character n-gram naive Bayes over our NLU data: knows translit, missing accents, SMS style."""
    texts, labels = training_samples()
    pairs = [(t, l) for t, l in zip(texts, labels) if l in supported]
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, lowercase=True),
        MultinomialNB(alpha=0.05),
    )
    model.fit([t for t, _ in pairs], [l for _, l in pairs])
    return model


def _letters(text: str) -> str:
    """Only the letters of a text (any script), lower-cased."""
    return "".join(ch for ch in text.casefold() if unicodedata.category(ch).startswith("L"))


def _words(text: str) -> list[str]:
    """Word-like tokens that contain at least one letter."""
    return [w for w in text.split() if _letters(w)]


def is_meaningful(text: str) -> bool:
    """Does this message carry enough language to judge it? ('ok', '👍', '42', names do not)."""
    words = _words(text)
    if not words:
        return False
    letters = _letters(text)
    if len(letters) < 3 or len(set(letters)) < 3:  # "aaaa…", "hahaha", "kkkk": no language in them
        return False
    if all(_letters(w) in NEUTRAL_WORDS for w in words):
        return False
    return True


def _is_single_name_like(text: str) -> bool:
    """A lone capitalised Latin word such as 'Maria': likely a name, not a language signal."""
    words = _words(text)
    return len(words) == 1 and words[0][:1].isupper() and words[0].isascii()


class LanguagePolicy:
    """Applies Safeline's rules for choosing and keeping a conversation's language."""

    def __init__(self, supported: Iterable[str], default_language: str):
        self.supported = tuple(supported)
        self.default_language = default_language
        self.detector = build_detector(self.supported)
        self.phrasing = build_phrasing_model(self.supported)

    def detect(self, text: str) -> tuple[Optional[str], float]:
        """The most likely language code of a text and its confidence (None if unknown).

        An unsupported language wins only when lingua is clearly sure of it; otherwise lingua's
        confidences for the supported languages are blended with the phrasing model's. Arabizi is
        Arabic; with one arabizi word only the phrasing model (which has seen arabizi) is asked.
        """
        marks = arabizi_marks(text) if "ar" in self.supported else 0
        if marks >= ARABIZI_SURE:
            return "ar", 0.9
        values = self.detector.compute_language_confidence_values(text)
        lingua = {_iso(v.language): float(v.value) for v in values}
        best_other = max((c for c in lingua if c not in self.supported), key=lingua.get, default=None)
        best_supported = max((lingua.get(c, 0.0) for c in self.supported), default=0.0)
        sure_of_other = best_other is not None and lingua[best_other] >= OTHER_THRESHOLD \
            and lingua[best_other] > 2 * best_supported
        if sure_of_other and not marks:
            return best_other, lingua[best_other]
        probabilities = self.phrasing.predict_proba([text])[0]
        weight = 1.0 if marks else PHRASING_WEIGHT
        blended = {
            code: weight * float(p) + (1 - weight) * lingua.get(code, 0.0)
            for code, p in zip(self.phrasing.classes_, probabilities)
        }
        code = max(blended, key=blended.get)
        return code, blended[code]

    def initial(self) -> LanguageState:
        """State of a new conversation: the default language, not yet chosen."""
        return LanguageState(language=self.default_language)

    def explicit(self, state: LanguageState, code: str) -> LanguageState:
        """The person asked for a language: switch to it if we have it."""
        if code in self.supported:
            return replace(state, language=code, locked=True, run_language=None, run_length=0,
                           interpreter_needed=False if code == state.detected else state.interpreter_needed)
        return replace(state, locked=True, detected=code, interpreter_needed=True)

    def observe(self, state: LanguageState, text: str) -> LanguageState:
        """Update the state after an inbound message, following the stickiness rules."""
        if not is_meaningful(text):
            return state
        code, confidence = self.detect(text)
        if code is None or confidence < CONFIDENCE_THRESHOLD:
            return state
        if not state.locked:
            if code in self.supported:
                return replace(state, language=code, locked=True, detected=code)
            return replace(state, locked=True, detected=code, interpreter_needed=True)
        if code == state.language:
            return replace(state, detected=code, run_language=None, run_length=0)
        if _is_single_name_like(text) or (len(_words(text)) < 2 and not _is_unspaced_script(text)):
            return state
        run = state.run_length + 1 if state.run_language == code else 1
        if run < SWITCH_RUN:
            return replace(state, detected=code, run_language=code, run_length=run)
        if code in self.supported:
            return replace(state, language=code, detected=code, run_language=None, run_length=0)
        return replace(state, detected=code, interpreter_needed=True, run_language=None, run_length=0)


def _is_unspaced_script(text: str) -> bool:
    """Thai (and similar) write sentences without spaces, so one 'word' can be a whole sentence."""
    return any("\u0e00" <= ch <= "\u0e7f" for ch in text) and len(_letters(text)) >= 6
