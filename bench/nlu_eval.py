"""Per-language intent quality: Rasa cross-validation on nlu_data/ and the held-out set.

Usage: .venv/bin/python bench/nlu_eval.py [--folds 5] [--skip-cv] [--write docs/nlu-report.md]

Cross-validation runs `rasa test nlu --cross-validation` (Rasa trains the pipeline of config.yml on
each fold); the held-out set (tests/nlu_heldout, never trained on) is parsed by the latest model.
Both are broken down per language by mapping each example back to its language file.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml
from sklearn.metrics import accuracy_score, f1_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.config import SUPPORTED_LANGUAGES  # noqa: E402

RASA = str(Path(sys.executable).parent / "rasa")
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def examples(directory: Path) -> list[tuple[str, str, str]]:
    """(text, intent, language) for every intent example in `<dir>/<lang>.yml`."""
    rows = []
    for lang in SUPPORTED_LANGUAGES:
        path = directory / f"{lang}.yml"
        if not path.exists():
            continue
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                text = ANNOTATION.sub(r"\1", line.strip()[2:].strip())
                if text:
                    rows.append((text, block["intent"], lang))
    return rows


def per_language(rows: list[tuple[str, str, str]]) -> dict[str, dict[str, float]]:
    """Accuracy and macro F1 per language from (language, expected, predicted) rows."""
    grouped: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for lang, expected, predicted in rows:
        grouped[lang].append((expected, predicted))
        grouped["all"].append((expected, predicted))
    result = {}
    for lang, pairs in grouped.items():
        truth, guess = zip(*pairs)
        result[lang] = {"n": len(pairs), "accuracy": accuracy_score(truth, guess),
                        "macro_f1": f1_score(truth, guess, average="macro", zero_division=0)}
    return result


def cross_validation(folds: int) -> tuple[dict, float]:
    """Run Rasa's cross-validation and map its successes and errors back to languages."""
    language_of = {(t, i): lang for t, i, lang in examples(ROOT / "nlu_data")}
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run([RASA, "test", "nlu", "--nlu", "nlu_data", "--config", "config.yml", "--cross-validation",
                        "--folds", str(folds), "--successes", "--out", out],
                       cwd=ROOT, env=ENV, check=True, capture_output=True)
        seconds = time.monotonic() - started
        rows = []
        for name in ("intent_successes.json", "intent_errors.json"):
            path = Path(out) / name
            for item in json.loads(path.read_text()) if path.exists() else []:
                lang = language_of.get((item["text"], item["intent"]))
                if lang:
                    rows.append((lang, item["intent"], item["intent_prediction"]["name"]))
    return per_language(rows), seconds


def heldout() -> dict:
    """Parse every held-out example with the latest trained model."""
    from rasa.core.agent import Agent  # imported late: loading TensorFlow takes seconds

    import asyncio

    from bot.stack import latest_model

    agent = Agent.load(str(latest_model()))
    rows = []
    for text, intent, lang in examples(ROOT / "tests" / "nlu_heldout"):
        parsed = asyncio.run(agent.parse_message(text))
        rows.append((lang, intent, parsed["intent"]["name"]))
    return per_language(rows)


def table(title: str, scores: dict) -> str:
    """A Markdown table of per-language scores."""
    lines = [f"### {title}", "", "| language | examples | accuracy | macro F1 |", "|---|---:|---:|---:|"]
    for lang in [*SUPPORTED_LANGUAGES, "all"]:
        if lang in scores:
            s = scores[lang]
            lines.append(f"| {lang} | {s['n']} | {s['accuracy']:.3f} | {s['macro_f1']:.3f} |")
    return "\n".join(lines)


def main() -> int:
    """Print the figures; optionally write them as a report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    sections = [f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
                f"{time.strftime('%Y-%m-%d')}.", ""]
    if not args.skip_cv:
        scores, seconds = cross_validation(args.folds)
        sections += [table(f"Cross-validation on nlu_data ({args.folds} folds, {seconds:.0f} s)", scores), ""]
    sections += [table("Held-out set (tests/nlu_heldout, never trained on)", heldout()), ""]
    report = "\n".join(sections)
    print(report)
    if args.write:
        header = "# NLU report\n\nGenerated by `bench/nlu_eval.py`; intent accuracy and macro F1 per language.\n\n"
        args.write.write_text(header + report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
