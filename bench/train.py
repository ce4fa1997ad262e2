"""Training time and model size: a full `rasa train` from scratch (no cache), timed.

Usage: .venv/bin/python bench/train.py
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = str(Path(sys.executable).parent / "rasa")
DATA = ["nlu_data", "dialogues/rules.yml", "dialogues/screening_rules.yml", "dialogues/stories.yml"]  # as the Makefile


def main() -> int:
    """Train into a temporary directory with an empty cache and print the figures."""
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
               "RASA_CACHE_DIRECTORY": cache}
        subprocess.run([sys.executable, "-m", "bot.domain_responses"], cwd=ROOT, env=env, check=True)
        started = time.monotonic()
        subprocess.run([RASA, "train", "--config", "config.yml", "--domain", "dialogues", "--data", *DATA,
                        "--out", out, "--quiet"], cwd=ROOT, env=env, check=True, capture_output=True)
        seconds = time.monotonic() - started
        model = next(Path(out).glob("*.tar.gz"))
        size_mb = model.stat().st_size / 1e6
    examples = sum(1 for p in (ROOT / "nlu_data").glob("??.yml") for line in p.read_text().splitlines()
                   if line.strip().startswith("- ") and not line.startswith("- "))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"NLU examples: {examples}")
    print(f"training time (rasa train, empty cache): {seconds:.1f} s")
    print(f"model size: {size_mb:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
