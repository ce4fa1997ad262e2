"""Writes `dialogues/responses.yml` from `locales/en.yml`, so Rasa's domain knows every response name.

The English locale includes its parts (e.g. locales/screening/en.yml), merged by `load_locale`.

The texts Rasa would find there are never sent: the NLG endpoint renders every response from the
conversation's locale. Run by `make` before training and validation.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from bot.locales import LOCALES_DIR, load_locale

TARGET = PROJECT_ROOT / "dialogues" / "responses.yml"
HEADER = "# GENERATED from locales/en.yml by `python -m bot.domain_responses`; do not edit.\n"


def domain_responses(reference: Path = LOCALES_DIR / "en.yml") -> dict:
    """A domain fragment listing every response of the reference locale with its English text."""
    locale = load_locale(reference)
    responses = {}
    for name, template in locale.responses.items():
        entry = {"text": template.get("text", "")}
        if template.get("buttons"):
            entry["buttons"] = [dict(b) for b in template["buttons"]]
        responses[name] = [entry]
    return {"version": "3.1", "responses": responses}


def main() -> int:
    """Write the fragment if it changed (so Rasa's fingerprint only moves on real edits)."""
    text = HEADER + yaml.safe_dump(domain_responses(), allow_unicode=True, sort_keys=True, width=1000)
    if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
        TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
