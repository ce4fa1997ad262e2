"""Screening texts in any language, for values an action puts inside a response (labels, lists).

Whole messages go through Rasa's NLG like every response; this renders the small pieces that are
inserted into them (a form's name, an indicator's label) and the operator's summary_text, from the
same locale files (locales/<lang>.yml merged with locales/screening/<lang>.yml).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional

from bot.locales import Catalog, load_locales

DEFAULT_LANGUAGE = "en"


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """Every locale, with English as the fallback (constants are filled in by the NLG later)."""
    return Catalog(load_locales(), DEFAULT_LANGUAGE, {})


def text(name: str, language: Optional[str], **values: Any) -> str:
    """One response's text in a language ("" if no locale has it)."""
    message = catalog().render(name, language, values)
    return message["text"] if message else ""


def joined(names: list[str], language: Optional[str]) -> str:
    """Several short texts as one comma-separated list, or the word for "none"."""
    parts = [text(n, language) for n in names]
    return ", ".join(p for p in parts if p) or text("utter_screening_none", language)
