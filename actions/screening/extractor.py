"""Finds trafficking indicators in a person's own words, with the words that are the evidence.

Text is cut into clauses (sentence marks, commas and joining words in the supported languages;
spaces in Thai, which writes clauses without punctuation), and every clause and every run of two
or three neighbouring clauses is scored by the trained screening model (`train.py`): a TF-IDF
character + word n-gram linear classifier over the indicator ids and `none`, averaged with a
classifier over multilingual sentence vectors (`vectors.py`) when that model can load here and
the text is not arabizi (Arabic in Latin letters, which the vectors never learnt). Negations and
hypotheticals ("I have my passport", "what if they take my passport?") are `none` examples in the
training data, so they are learnt rather than listed. Neighbouring runs matter because people
split one fact over two clauses ("he beats him | when he brings back less than three").

A second, binary model scores immediate danger (`danger_now`), trained on the `in_danger_now`
examples of nlu_data/ in all languages.

This module must stay light: the batch CLI imports it, so it never imports Rasa.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import joblib
import numpy as np

from actions.screening.vectors import SentenceVectors, shared_vectors
from bot.arabizi import is_arabizi

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
MODEL_PATH = PROJECT_ROOT / "models" / "screening.joblib"
NONE = "none"
MODEL_FORMAT = 2
# Runs of up to this many neighbouring clauses are scored as one piece of evidence.
MAX_WINDOW = 3
# A clause that starts with a joining word can share its verb with the clause before it ("I have my
# own room | and my passport"), and alone reads as an indicator its sentence denies. Such a clause
# run does not count when it is unsure on its own (`none` at least FRAGMENT_NONE) and every longer
# run that reads it with the words before it reads as nothing for that indicator (`none` at least
# CONTEXT_NONE and likelier). Narrow on purpose: a broader rule (any run, any side) also silenced
# real statements beside long ordinary clauses ("I work in a factory in Taiwan, the company keeps
# my passport"), and missing a victim costs more than an extra handoff.
FRAGMENT_NONE = 0.35
CONTEXT_NONE = 0.5

# Sentence and clause marks of the supported scripts (Latin, Cyrillic, Arabic, Thai, CJK-style).
# A sentence mark stays with its clause: "?" is how people write a hypothetical ("can they keep
# my passport?"), and the model has learnt it from the `none` examples. A comma or colon between
# digits is part of a number or a time ("15,000 baht", "10:30"), not a clause mark.
_BREAKS = re.compile(r"(?<=[.!?…؟])\s+|(?<=[。！？])|[;\n\r؛]+|(?:(?<!\d)[:,،、]+|[:,،、]+(?!\d))|\s[-–—]+\s|[()]")
# Words that join two clauses, per supported language. A clause is cut before them and they stay
# at the start of the next clause, so "and"/"but" remain visible to the model.
_JOINERS = {
    "en": ["and", "but", "so", "because", "then", "also", "plus", "or else"],
    "es": ["y", "pero", "porque", "entonces", "pues", "ademas", "además", "luego"],
    "fr": ["et", "mais", "donc", "parce que", "car", "puis", "alors"],
    "pt": ["e", "mas", "porque", "entao", "então", "pois", "depois"],
    "ro": ["si", "și", "şi", "dar", "pentru ca", "pentru că", "iar", "apoi", "deci"],
    "ru": ["и", "но", "а", "потому что", "поэтому", "потом", "тогда"],
    "uk": ["і", "й", "та", "але", "а", "тому що", "бо", "тому", "потім"],
    "id": ["dan", "tapi", "tetapi", "karena", "karna", "lalu", "terus", "jadi"],
    "tl": ["at", "pero", "kasi", "dahil", "tapos", "kaya"],
    "vi": ["và", "nhưng", "nhung", "vì", "rồi", "nên"],
    "ar": ["لكن", "ولكن", "ثم", "لأن", "لان", "بس"],
}
_JOINER_WORDS = "|".join(sorted({re.escape(w) for ws in _JOINERS.values() for w in ws}, key=len, reverse=True))
_JOINER = re.compile(r"(?<=\S)\s+(?=(?:" + _JOINER_WORDS + r")\s)", re.IGNORECASE)
_STARTS_WITH_JOINER = re.compile(r"^(?:" + _JOINER_WORDS + r")\s", re.IGNORECASE)
_THAI = re.compile(r"[\u0E00-\u0E7F]")
_THAI_BREAK = re.compile(r"\s+")
# Arabic writes "and" / "so" (و / ف) joined to the next word, so the joiner list cannot see them:
# a cut before a long word that starts with one ("وكيهددها", "فسحبوا"). Short words that merely
# start with the letter ("وين", "فيه") are left alone; a cut too many costs nothing, because runs
# of neighbouring clauses are scored together.
_ARABIC = re.compile(r"[\u0600-\u06FF]")
# Short words are cut before too when they open a clause: a negation or a pronoun after "and"
# ("وما عطاني راتب", "ومش راضي", "ولا", "وكل", "وهو") starts a new fact ("the sponsor took my passport
# | and has not paid me"), and two facts in one clause share one probability between them.
_ARABIC_CLAUSE_OPENERS = "ما|مش|مو|لا|لم|لن|كل|هو|هي|هم|انا|أنا|لما|بعدين"
_ARABIC_JOINED = re.compile(r"(?<=[\u0600-\u06FF])\s+(?=[وف](?:[\u0600-\u06FF]{4,}|(?:"
                            + _ARABIC_CLAUSE_OPENERS + r")(?![\u0600-\u06FF])))")
_WORDY = re.compile(r"\w", re.UNICODE)


class ModelMissing(RuntimeError):
    """The trained screening model is not there; the message says how to make it."""


@dataclass(frozen=True)
class Span:
    """A piece of the original text: its characters and where they are."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Finding:
    """One indicator found in the text, with the words that support it."""

    id: str
    probability: float
    evidence: str
    start: int
    end: int

    def as_dict(self) -> dict[str, Any]:
        """The finding as plain JSON data."""
        return {"id": self.id, "probability": round(self.probability, 3), "evidence": self.evidence,
                "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Extraction:
    """Everything the models found in one text."""

    findings: list[Finding]
    danger: Optional[Finding]
    # No indicator reached its threshold, yet somewhere `none` was very unlikely: the words read as
    # exploitation the model cannot name, which a person should read (rules.yml: unnamed_signs).
    unnamed_signs: bool = False

    @property
    def ids(self) -> list[str]:
        """The indicator ids found, most certain first."""
        return [f.id for f in self.findings]


def fold_accents(text: str) -> str:
    """Lower-case and drop Latin/Cyrillic/Arabic diacritics; Thai marks are letters, so kept.

    The same as nlu_components' folding, repeated here so the CLI does not import Rasa.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not (unicodedata.combining(ch) and ord(ch) < 0x0E00))


def _trimmed(text: str, start: int, end: int) -> Optional[Span]:
    """The span without surrounding spaces and quotes, or None if it holds no word."""
    while start < end and (text[start].isspace() or text[start] in "\"'“”«»"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in "\"'“”«».,"):
        end -= 1
    if start >= end or not _WORDY.search(text[start:end]):
        return None
    return Span(text[start:end], start, end)


def _cut(text: str, start: int, end: int, pattern: re.Pattern) -> list[tuple[int, int]]:
    """Cut text[start:end] wherever the pattern matches (the match itself is dropped)."""
    pieces, position = [], start
    for match in pattern.finditer(text, start, end):
        pieces.append((position, match.start()))
        position = match.end()
    pieces.append((position, end))
    return pieces


def _cut_at_joiners(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut before joining words, but never leave a single word alone before one.

    The joiner list serves every language at once, and a short word can join in one and not in
    another: Portuguese "e" (and) is Romanian "e" (is), so "pasaportul e la mine" (the passport is
    with me) would leave "pasaportul" alone, read as a confiscated passport.
    """
    pieces: list[tuple[int, int]] = []
    for s, e in _cut(text, start, end, _JOINER):
        if pieces and len(text[pieces[-1][0]:pieces[-1][1]].split()) < 2:
            pieces[-1] = (pieces[-1][0], e)
        else:
            pieces.append((s, e))
    return pieces


def split_clauses(text: str) -> list[Span]:
    """The clauses of a text, in order, with their positions in it."""
    text = unicodedata.normalize("NFC", text)
    spans: list[Span] = []
    for start, end in _cut(text, 0, len(text), _BREAKS):
        for s, e in _cut_at_joiners(text, start, end):
            piece = text[s:e]
            # Thai separates clauses and sentences with spaces, not punctuation.
            if _THAI.search(piece):
                pieces = _cut(text, s, e, _THAI_BREAK)
            elif _ARABIC.search(piece):
                pieces = _cut(text, s, e, _ARABIC_JOINED)
            else:
                pieces = [(s, e)]
            spans.extend(span for span in (_trimmed(text, a, b) for a, b in pieces) if span)
    return spans


def windows(text: str, clauses: list[Span], size: int = MAX_WINDOW) -> list[Span]:
    """Every clause and every run of up to `size` neighbouring clauses, as spans of the text."""
    runs = []
    for i in range(len(clauses)):
        for j in range(i, min(i + size, len(clauses))):
            start, end = clauses[i].start, clauses[j].end
            runs.append(Span(text[start:end], start, end))
    return runs


@dataclass(frozen=True)
class Calibration:
    """The thresholds one way of scoring was calibrated with (train.py)."""

    threshold: float
    thresholds: dict[str, float]
    none_ratio: float
    unnamed_below: float

    @classmethod
    def of(cls, bundle: dict[str, Any], tfidf_alone: bool) -> "Calibration":
        """The calibration of TF-IDF averaged with the vectors, or of TF-IDF alone (if the bundle has one)."""
        prefix = "tfidf_" if tfidf_alone and "tfidf_threshold" in bundle else ""
        return cls(float(bundle[prefix + "threshold"]), dict(bundle.get(prefix + "thresholds") or {}),
                   float(bundle.get(prefix + "none_ratio", 0.0)), float(bundle.get(prefix + "unnamed_none_below", 0.0)))


class Extractor:
    """Applies the trained screening model to free text."""

    def __init__(self, bundle: dict[str, Any], vectors: Optional[SentenceVectors] = None):
        if bundle.get("format") != MODEL_FORMAT:
            raise ModelMissing("the screening model is from another version: run `make train`")
        self.bundle = bundle
        self.indicators = bundle["indicators"]
        self.danger = bundle["danger"]
        self.classes = [str(c) for c in self.indicators.classes_]
        # Both models together when the vectors load; otherwise TF-IDF alone, with the thresholds
        # calibrated for it alone (a missing wheel or engine degrades screening, never stops it).
        self.vector_model = bundle.get("vectors") if vectors is not None else None
        self.vectors = vectors if self.vector_model is not None else None
        self.tfidf_weight: float = float(bundle.get("tfidf_weight", 1.0))
        self.tfidf_alone = Calibration.of(bundle, tfidf_alone=True)
        self.calibration = Calibration.of(bundle, tfidf_alone=self.vector_model is None)
        self.danger_threshold: float = float(bundle["danger_threshold"])

    def score(self, pieces: list[str], tfidf_alone: bool = False) -> np.ndarray:
        """Indicator probabilities for each piece of text (rows), by class (columns)."""
        tfidf = self.indicators.predict_proba(pieces)
        if tfidf_alone or self.vector_model is None or self.vectors is None or not pieces:
            return tfidf
        meaning = self.vector_model.predict_proba(self.vectors.texts(pieces))
        return self.tfidf_weight * tfidf + (1.0 - self.tfidf_weight) * meaning

    def extract(self, text: str) -> Extraction:
        """The indicators and the immediate danger found in a text, with evidence spans."""
        clauses = split_clauses(text or "")
        if not clauses:
            return Extraction([], None)
        runs = windows(unicodedata.normalize("NFC", text), clauses)
        # The sentence vectors read arabizi as nothing ("lmadam chadda lpasspor dyali", the madam
        # keeps my passport); the TF-IDF model learnt it from the arabizi training data.
        arabizi = is_arabizi(text)
        calibration = self.tfidf_alone if arabizi else self.calibration
        probabilities = read_in_context(self.score([r.text for r in runs], tfidf_alone=arabizi), self.classes,
                                        calibration.none_ratio, runs)
        findings = []
        for column, label in enumerate(self.classes):
            if label == NONE:
                continue
            best = _best_evidence(runs, probabilities[:, column], calibration.thresholds.get(label, calibration.threshold))
            if best is not None:
                span, p = best
                findings.append(Finding(label, p, span.text, span.start, span.end))
        findings.sort(key=lambda f: (-f.probability, f.start))
        unnamed = not findings and NONE in self.classes and \
            float(probabilities[:, self.classes.index(NONE)].min()) < calibration.unnamed_below
        danger_p = self.danger.predict_proba([r.text for r in runs])[:, list(self.danger.classes_).index(1)]
        best_danger = _best_evidence(runs, danger_p, self.danger_threshold)
        danger = None
        if best_danger is not None:
            span, p = best_danger
            danger = Finding("danger_now", p, span.text, span.start, span.end)
        return Extraction(findings, danger, unnamed)


def admissible(probabilities: np.ndarray, classes: list[str], none_ratio: float) -> np.ndarray:
    """Indicator probabilities per run, set to 0 where `none` is much likelier for that run.

    A run that mostly says nothing ("I have my passport with me") is no evidence, even though an
    indicator's words are in it; `none_ratio` (calibrated in train.py) says how much likelier.
    """
    if NONE not in classes or none_ratio <= 0:
        return probabilities
    nothing = probabilities[:, [classes.index(NONE)]]
    return np.where(probabilities >= none_ratio * nothing, probabilities, 0.0)


def read_in_context(probabilities: np.ndarray, classes: list[str], none_ratio: float, runs: list[Span]) -> np.ndarray:
    """Admissible probabilities, 0 for a piece with no letters ("15,000" between Thai clauses: the
    runs that hold it say what it is about) and for a joined fragment that the words before it deny
    (see FRAGMENT_NONE)."""
    counted = admissible(probabilities, classes, none_ratio).copy()
    if NONE not in classes or len(runs) < 2:
        return counted
    none = classes.index(NONE)
    letterless = [i for i, run in enumerate(runs) if not any(ch.isalpha() for ch in run.text)]
    counted[np.ix_(letterless, [k for k in range(len(classes)) if k != none])] = 0.0
    nothing = probabilities[:, none]
    quiet = (probabilities < max(none_ratio, 1.0) * nothing[:, None]) & (nothing[:, None] >= CONTEXT_NONE)
    for i, run in enumerate(runs):
        if nothing[i] < FRAGMENT_NONE or not _STARTS_WITH_JOINER.match(run.text):
            continue
        before = [j for j, other in enumerate(runs) if other.start < run.start and other.end >= run.end]
        if before:
            denied = quiet[before].all(axis=0)
            denied[none] = False
            counted[i, denied] = 0.0
    return counted


def _best_evidence(runs: list[Span], scores: np.ndarray, threshold: float) -> Optional[tuple[Span, float]]:
    """The shortest run that reaches the threshold (most probable among equals), with its score.

    Shortest, because an operator reads the evidence: the clause that says it, not the paragraph.
    """
    above = [i for i in range(len(runs)) if scores[i] >= threshold]
    if not above:
        return None
    chosen = min(above, key=lambda i: (len(runs[i].text), -scores[i]))
    return runs[chosen], float(max(scores[i] for i in above))


@lru_cache(maxsize=2)
def load_extractor(path: Path = MODEL_PATH) -> Extractor:
    """The trained extractor (cached), or ModelMissing with the command that makes it."""
    if not Path(path).exists():
        raise ModelMissing(
            f"no screening model at {path}: run `make train` "
            "(or `.venv/bin/python -m actions.screening.train`)"
        )
    return Extractor(joblib.load(path), shared_vectors())
