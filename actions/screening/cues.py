"""Cues in a person's words (cues.yml): the age of the person described and the setting of a form.

The trained model finds indicators; these cues answer two narrower questions that words answer
reliably: "is the person a child?" (an age, "underage", "schoolgirl") and "what kind of place is
it?" (a farm, a house, clients, a wedding). Both are lists a helpline can read and extend.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Optional

import yaml

from actions.screening.extractor import fold_accents

CUES_PATH = Path(__file__).resolve().parent / "cues.yml"
ADULT_AGE = 18
_ANYWHERE_SCRIPTS = re.compile(r"[\u0E00-\u0E7F\u0600-\u06FF]")  # Thai, Arabic: no word starts to rely on


def normalise(text: str) -> str:
    """Lower-case, accents removed, any script's digits as 0-9, Vietnamese đ as d."""
    digits = "".join(str(unicodedata.digit(ch)) if ch.isdigit() and not ch.isascii() else ch for ch in text)
    return fold_accents(digits).replace("đ", "d")


def _word_pattern(entry: str) -> re.Pattern:
    """A compiled matcher for one cue entry (see the rules in cues.yml's header)."""
    whole = entry.endswith("$")
    word = normalise(entry.rstrip("$").strip())
    if _ANYWHERE_SCRIPTS.search(word):
        return re.compile(re.escape(word))
    return re.compile(r"(?<!\w)" + re.escape(word) + (r"(?!\w)" if whole else ""))


@dataclass(frozen=True)
class Cues:
    """Compiled cue lists: age patterns, minor words and form words, for every language."""

    age_patterns: tuple[re.Pattern, ...]
    minor_words: tuple[re.Pattern, ...]
    form_words: Mapping[str, tuple[re.Pattern, ...]]

    def stated_age(self, text: str) -> Optional[int]:
        """The youngest age the text gives for a person, if any (a child's age matters most)."""
        folded = normalise(text)
        ages = [int(m.group(1)) for p in self.age_patterns for m in p.finditer(folded) if m.group(1)]
        ages = [a for a in ages if 3 <= a <= 99]
        return min(ages) if ages else None

    def minor(self, text: str) -> Optional[bool]:
        """True if the person may be under 18, False if an adult age is stated, None if unknown."""
        age = self.stated_age(text)
        if age is not None and age < ADULT_AGE:
            return True
        folded = normalise(text)
        if any(p.search(folded) for p in self.minor_words):
            return True
        return False if age is not None else None

    def forms(self, text: str) -> list[str]:
        """The forms of exploitation whose setting the text names, in CONTRACTS §3 order."""
        folded = normalise(text)
        return [form for form, patterns in self.form_words.items() if any(p.search(folded) for p in patterns)]


def _all_languages(by_language: Mapping[str, Iterable[str]]) -> list[str]:
    """Every entry of a per-language mapping (cues apply whatever language a text is in)."""
    return [str(entry) for entries in (by_language or {}).values() for entry in entries or []]


def parse_cues(data: Mapping) -> Cues:
    """Compile the cue lists of cues.yml."""
    return Cues(
        # Patterns are folded like the text they search (no upper-case escapes are used in them).
        age_patterns=tuple(re.compile(normalise(p)) for p in _all_languages(data.get("age_patterns"))),
        minor_words=tuple(_word_pattern(w) for w in _all_languages(data.get("minor_words"))),
        form_words={form: tuple(_word_pattern(w) for w in _all_languages(words))
                    for form, words in (data.get("form_words") or {}).items()},
    )


@lru_cache(maxsize=2)
def load_cues(path: Path = CUES_PATH) -> Cues:
    """The cues of cues.yml (cached)."""
    return parse_cues(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
