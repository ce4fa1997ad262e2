"""translator/engine.py pieces that need no model: sentence splitting, codes, routes."""
from __future__ import annotations

from pathlib import Path

import pytest

from translator.engine import MAX_SENTENCE_CHARS, Engine, NoRoute, PunctuationSentencizer, Step, normalise_code


def test_punctuation_splitter_cuts_sentences_and_overlong_runs() -> None:
    splitter = PunctuationSentencizer()
    assert splitter.split_sentences("Help me. They took my passport! Where am I?") == [
        "Help me.", "They took my passport!", "Where am I?"]
    long = "word " * 200
    pieces = splitter.split_sentences(long)
    assert all(len(piece) <= MAX_SENTENCE_CHARS for piece in pieces)
    assert " ".join(pieces).split() == long.split()


@pytest.mark.parametrize("raw, code", [("es", "es"), ("PT-br", "pt"), ("en_GB", "en"), (" fr ", "fr"),
                                       ("español", None), ("", None), (None, None), (3, None)])
def test_language_codes_are_normalised_or_refused(raw, code) -> None:
    assert normalise_code(raw) == code


def test_routes_prefer_a_direct_package_and_pivot_only_through_the_pivot_language() -> None:
    engine = Engine(Path("/nonexistent"), pivot="en")
    for source, target in [("es", "en"), ("en", "fr"), ("en", "es"), ("es", "fr"), ("fr", "ru"), ("ru", "uk")]:
        engine.steps[(source, target)] = Step(source, target, "1", translation=None)
    routes = engine._routes()
    assert routes[("es", "fr")].via == ["es", "fr"]  # direct beats pivot
    assert ("fr", "uk") not in routes  # no pivoting through anything but English
    assert ("es", "es") not in routes  # es→en→es is not a translation
    engine.routes = routes
    with pytest.raises(NoRoute, match="no translation package for fr→uk"):
        engine.route("fr", "uk")
