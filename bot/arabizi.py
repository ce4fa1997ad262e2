"""Arabizi: Arabic typed in Latin letters, with digits for the Arabic letters Latin lacks.

Common on cheap and foreign phones and in the Maghreb ("3andi", "ma3a", "7abibi", "5ad",
"l9ehra"). Language detection takes it for Tagalog or English, and the multilingual sentence
vectors of screening never learnt it, so both ask here first.
"""
from __future__ import annotations

import re

# 2 (hamza) and 8 are left out: Indonesian doubles words with 2 ("temen2") and English texting
# writes "l8r". Numbers with units ("17ans", "5am") are not letters.
_ARABIZI_LETTER = re.compile(r"(?<![0-9])(?:(?<=[a-z])[35679](?=[a-z])|\b[35679](?=[a-z]{2}))(?![0-9])")
_NUMBER_WITH_UNIT = re.compile(r"^\d+(am|pm|st|nd|rd|th|hr|hrs|min|mins|kg|km|yo|ans|eme|er|ere|thn|jt)$")
ARABIZI_SURE = 2  # words with an Arabic-letter digit before a message is taken as Arabic


def arabizi_marks(text: str) -> int:
    """How many words of a text use a digit as an Arabic letter (arabizi), acronyms aside."""
    lowered = [word.lower() for word in re.findall(r"[^\W_]+", text) if not word.isupper()]
    return sum(1 for word in lowered if not _NUMBER_WITH_UNIT.match(word) and _ARABIZI_LETTER.search(word))


def is_arabizi(text: str) -> bool:
    """Whether a message is written in arabizi (enough words use a digit as an Arabic letter)."""
    return arabizi_marks(text) >= ARABIZI_SURE
