"""Rasa's own checks, run as part of the suite: data validation and the story tests."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.stack import latest_model

RASA = str(Path(sys.executable).parent / "rasa")
DATA = ["nlu_data", "dialogues/rules.yml", "dialogues/screening_rules.yml", "dialogues/stories.yml"]
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


def test_rasa_data_validate_finds_no_errors():
    result = subprocess.run([RASA, "data", "validate", "--config", "config.yml", "--domain", "dialogues",
                             "--data", *DATA], cwd=PROJECT_ROOT, env=ENV, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_every_story_test_passes(tmp_path):
    # --e2e: a step with the person's words (`user:`) goes through the model's NLU, whose intent and
    # entities must be the step's (e.g. a typed consent level); steps with only an intent are taken as given.
    out = tmp_path / "core"
    result = subprocess.run([RASA, "test", "core", "--e2e", "--stories", "tests/stories", "--model",
                             str(latest_model()), "--out", str(out), "--fail-on-prediction-errors"],
                            cwd=PROJECT_ROOT, env=ENV, capture_output=True, text=True)
    failed = (out / "failed_test_stories.yml")
    detail = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, detail[-4000:] or (result.stdout[-3000:] + result.stderr[-3000:])
    report = json.loads((out / "story_report.json").read_text())
    assert report["conversation_accuracy"]["accuracy"] == 1.0
