"""Neutral wording: the word "trafficking" (in any supported language) kept off a person's screen.

An SMS can be read over a shoulder or on a lock screen. Unless the person used the word themselves,
texts sent by SMS (and on any channel in discreet mode) say "exploitation" instead, with the
grammar each language needs (articles, cases, agreement) for the phrases our locales use.
"""
from __future__ import annotations

import re
from typing import Callable, Union

Replacement = Union[str, Callable[[re.Match], str]]


def _keep_case(replacement: str) -> Callable[[re.Match], str]:
    """A replacement that starts upper-case when the matched text did."""

    def apply(match: re.Match) -> str:
        return replacement[:1].upper() + replacement[1:] if match.group(0)[:1].isupper() else replacement

    return apply


def _endings(stem_out: str, endings: dict[str, str]) -> Callable[[re.Match], str]:
    """A replacement mapping the matched case ending (group "e") onto the new word's ending."""

    def apply(match: re.Match) -> str:
        word = stem_out + endings[match.group("e").lower()]
        return word[:1].upper() + word[1:] if match.group(0)[:1].isupper() else word

    return apply


# "la trata" is read as the noun (article); "la trata bien" (treats her well) is rare in our texts.
_SPANISH_CLITICS = {"se", "te", "me", "le", "lo", "nos", "os", "les", "los"}


def _spanish_trata(match: re.Match) -> str:
    """`trata` is the noun only when not a verb after a clitic pronoun ("se trata de" = "it is about")."""
    before = (match.group("before") or "").strip().lower()
    if before in _SPANISH_CLITICS:
        return match.group(0)
    return (match.group("before") or "") + ("Explotación" if match.group("w")[0].isupper() else "explotación")


def _rules(pairs: list[tuple[str, Replacement]]) -> list[tuple[re.Pattern, Replacement]]:
    """Compile (pattern, replacement) pairs, case-insensitive; plain strings keep the case."""
    return [(re.compile(p, re.IGNORECASE), _keep_case(r) if isinstance(r, str) else r) for p, r in pairs]


ENGLISH = _rules([
    (r"\bhuman trafficking\b", "exploitation"),
    (r"\ba trafficking\b", "an exploitation"),
    (r"\btrafficking\b", "exploitation"),
    (r"\btrafficked\b", "exploited"),
    (r"\btraffickers\b", "exploiters"),
    (r"\btrafficker\b", "exploiter"),
])

RULES: dict[str, list[tuple[re.Pattern, Replacement]]] = {
    "en": ENGLISH,
    "tl": _rules([
        (r"\bhuman trafficking\b", "pagsasamantala"),
        (r"\btrafficking\b", "pagsasamantala"),
        (r"\btraffickers?\b", "nagsasamantala"),
        (r"\btrafficked\b", "pinagsamantalahan"),
    ]),
    "es": _rules([
        (r"\btrata de (personas|seres humanos)\b", "explotación"),
        (r"\btratantes\b", "explotadores"),
        (r"\btratante\b", "explotador"),
        (r"(?P<before>\b\w+\s+)?\b(?P<w>trata)\b", _spanish_trata),
    ]),
    "fr": _rules([
        (r"\b(la )?traite des (êtres humains|personnes)\b", "l'exploitation"),
        (r"\bla traite\b", "l'exploitation"),
        (r"\bde traite\b", "d'exploitation"),
        (r"\ble trafiquant\b", "l'exploiteur"),
        (r"\btrafiquants\b", "exploiteurs"),
        (r"\btrafiquant\b", "exploiteur"),
    ]),
    "pt": _rules([
        (r"\bo tráfico( de (pessoas|seres humanos))?\b", "a exploração"),
        (r"\bdo tráfico( de (pessoas|seres humanos))?\b", "da exploração"),
        (r"\bno tráfico( de (pessoas|seres humanos))?\b", "na exploração"),
        (r"\bao tráfico( de (pessoas|seres humanos))?\b", "à exploração"),
        (r"\btráfico( de (pessoas|seres humanos))?\b", "exploração"),
        (r"\btraficantes\b", "exploradores"),
        (r"\btraficante\b", "explorador"),
        (r"\btraficad(?P<e>os|as|o|a)\b", _endings("explorad", {"o": "o", "a": "a", "os": "os", "as": "as"})),
    ]),
    "ro": _rules([
        (r"\btraficul de persoane\b", "exploatarea"),
        (r"\btraficului de persoane\b", "exploatării"),
        (r"\btrafic de persoane\b", "exploatare"),
        (r"\btraficului\b", "exploatării"),
        (r"\btraficul\b", "exploatarea"),
        (r"\btraficanții\b", "exploatatorii"),
        (r"\btraficantul\b", "exploatatorul"),
        (r"\btraficanți\b", "exploatatori"),
        (r"\btraficant\b", "exploatator"),
        (r"\btrafica(?P<e>ți|te|tă|t)\b", _endings("exploata", {"ți": "ți", "te": "te", "tă": "tă", "t": "t"})),
        (r"\btrafic\b", "exploatare"),
    ]),
    "ru": _rules([
        (r"\bторговл(?P<e>я|и|е|ю|ей) людьми\b",
         _endings("эксплуатаци", {"я": "я", "и": "и", "е": "и", "ю": "ю", "ей": "ей"})),
        (r"\bторгов(?P<e>ец|цами|цами|цах|цам|цем|цев|цы|ца|цу|це) людьми\b",
         _endings("эксплуататор", {"ец": "", "ца": "а", "цу": "у", "цем": "ом", "це": "е", "цы": "ы",
                                   "цев": "ов", "цам": "ам", "цами": "ами", "цах": "ах"})),
    ]),
    "uk": _rules([
        (r"\bторгівл(?P<e>я|і|ею|ю) людьми\b",
         _endings("експлуатаці", {"я": "я", "і": "ї", "ею": "єю", "ю": "ю"})),
        (r"\bторгов(?P<e>ець|цями|цях|цям|цем|ців|ці|ця|цю) людьми\b",
         _endings("експлуататор", {"ець": "", "ця": "а", "цю": "а", "цем": "ом", "ці": "и", "ців": "ів",
                                   "цям": "ам", "цями": "ами", "цях": "ах"})),
    ]),
    "ar": _rules([
        (r"الاتجار بالبشر", "الاستغلال"),
        (r"للاتجار", "للاستغلال"),
        (r"الاتجار", "الاستغلال"),
        (r"اتجارًا|اتجاراً|اتجارا", "استغلالًا"),
        (r"المتاجرون", "المستغلون"),
        (r"المتاجرين", "المستغلين"),
        (r"المتاجر", "المستغل"),
    ]),
    "th": _rules([
        (r"คนค้ามนุษย์", "คนที่แสวงประโยชน์"),
        (r"ผู้ค้ามนุษย์", "ผู้แสวงประโยชน์"),
        (r"ค้ามนุษย์", "แสวงประโยชน์"),
    ]),
    "vi": _rules([
        (r"\b(mua bán|buôn bán) người\b", "bóc lột"),
        (r"\bbị (mua bán|buôn bán)\b", "bị bóc lột"),
    ]),
    "id": _rules([
        (r"\bperdagangan (orang|manusia)\b", "eksploitasi"),
    ]),
}

# What counts as the person having used the word themselves, in any language they may write in.
MENTION = re.compile(
    r"traffick|trafic de persoane|traficul|trafican|traficat|tráfico|traficante|trata de (personas|seres)|"
    r"\bla trata\b|víctimas? de trata|tratante|traite d|la traite\b|trafiquant|торговл\w* людьми|"
    r"торгов\w* людьми|торгівл|اتجار|متاجر|ค้ามนุษย์|(mua bán|buôn bán) người|bị mua bán|"
    r"perdagangan (orang|manusia)",
    re.IGNORECASE,
)


def mentions_trafficking(text: str) -> bool:
    """Did this text use the word (so the person has chosen to name it)?"""
    return bool(MENTION.search(text))


def neutralize(text: str, language: str) -> str:
    """The text with the word replaced by neutral wording, using the language's rules then English's."""
    for pattern, replacement in RULES.get(language, []) + (ENGLISH if language != "en" else []):
        text = pattern.sub(replacement, text)
    return text
