"""Response texts per language, loaded from `locales/<lang>.yml` and rendered with placeholders."""
from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml

from bot.config import PROJECT_ROOT

LOCALES_DIR = PROJECT_ROOT / "locales"
# Feature texts kept in their own files, locales/<part>/<lang>.yml (same format), join the
# language's responses, so one feature's many texts do not crowd the main locale files.
LOCALE_PARTS: tuple[str, ...] = ("screening",)


@dataclass(frozen=True)
class Locale:
    """One language's metadata and responses."""

    code: str
    name: str
    direction: str
    review: str
    responses: Mapping[str, Mapping[str, Any]]


class _KeepMissing(dict):
    """Leaves an unknown placeholder visible instead of failing the whole reply."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def placeholders(text: str) -> set[str]:
    """The `{name}` placeholders a text uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def load_locale(path: Path) -> Locale:
    """Read one locale file, with the responses of its parts (locales/<part>/<lang>.yml) merged in."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    meta = data.get("meta", {})
    responses = dict(data.get("responses", {}))
    for part in LOCALE_PARTS:
        part_path = path.parent / part / path.name
        if part_path.exists():
            responses.update((yaml.safe_load(part_path.read_text(encoding="utf-8")) or {}).get("responses", {}))
    return Locale(
        code=meta.get("language", path.stem),
        name=meta.get("name", path.stem),
        direction=meta.get("direction", "ltr"),
        review=meta.get("review", ""),
        responses=responses,
    )


def load_locales(directory: Path = LOCALES_DIR) -> dict[str, Locale]:
    """Read every locale file in a directory, keyed by language code."""
    return {path.stem: load_locale(path) for path in sorted(directory.glob("*.yml"))}


class Catalog:
    """Renders a named response in a language, falling back to the default language."""

    def __init__(self, locales: Mapping[str, Locale], default_language: str, constants: Mapping[str, str]):
        self.locales = dict(locales)
        self.default_language = default_language
        self.constants = dict(constants)

    def language_names(self, codes: Optional[list[str]] = None) -> list[tuple[str, str]]:
        """(code, own name) for the given or all languages, for a language picker."""
        chosen = codes if codes is not None else sorted(self.locales)
        return [(code, self.locales[code].name) for code in chosen if code in self.locales]

    def resolve_language(self, language: Optional[str]) -> str:
        """The language actually used for a requested one (default when we have no texts)."""
        return language if language in self.locales else self.default_language

    def render(self, name: str, language: Optional[str], values: Optional[Mapping[str, Any]] = None) -> Optional[dict]:
        """The response as `{"text", "buttons"?}` in the language, or None if no locale has it."""
        lang = self.resolve_language(language)
        template = self.locales[lang].responses.get(name)
        if template is None and lang != self.default_language:
            template = self.locales[self.default_language].responses.get(name)
        if template is None:
            return None
        fill = _KeepMissing(self.constants)
        fill.update({k: v for k, v in (values or {}).items() if v is not None})
        message: dict[str, Any] = {"text": str(template.get("text", "")).format_map(fill)}
        buttons = template.get("buttons")
        if buttons:
            message["buttons"] = [
                {"title": str(b["title"]).format_map(fill), "payload": b["payload"]} for b in buttons
            ]
        return message
