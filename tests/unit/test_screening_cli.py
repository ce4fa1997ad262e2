"""The batch CLI of CONTRACTS §7, run as a subprocess exactly as an integration would."""
from __future__ import annotations

import json
import subprocess
import sys

from bot.config import PROJECT_ROOT


def cli(stdin: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "actions.screening", *args], input=stdin, capture_output=True,
                          text=True, cwd=PROJECT_ROOT, timeout=120)


def test_one_json_line_out_for_each_line_in_with_exactly_the_contract_fields():
    lines = [{"text": "my boss took my passport and I owe him 3000 for the trip", "lang": "en"},
             {"text": "tengo 15 años y mi padre me obliga a casarme", "lang": "es"},
             {"text": "hello, I just want to know my rights", "lang": "en"}]
    result = cli("".join(json.dumps(line) + "\n" for line in lines))
    assert result.returncode == 0, result.stderr
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(outputs) == 3
    for out in outputs:
        assert set(out) == {"forms", "indicators", "urgency", "minor"}
        assert out["urgency"] in ("emergency", "high", "medium", "low")
        assert all(set(i) == {"id", "strength"} for i in out["indicators"])
    assert "documents_confiscated" in {i["id"] for i in outputs[0]["indicators"]} and outputs[0]["urgency"] == "high"
    assert outputs[1]["minor"] is True and "forced_marriage" in outputs[1]["forms"]
    assert outputs[2] == {"forms": [], "indicators": [], "urgency": "low", "minor": None}


def test_bad_lines_get_an_error_line_and_the_run_goes_on():
    stdin = "not json\n[1, 2]\n{\"lang\": \"en\"}\n{\"text\": 5}\n\n{\"text\": \"they beat us\", \"lang\": \"en\"}\n"
    result = cli(stdin)
    assert result.returncode == 0
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [("error" in out) for out in outputs] == [True, True, True, True, False]
    assert outputs[-1]["urgency"] in ("high", "emergency")


def test_explain_adds_the_evidence():
    result = cli(json.dumps({"text": "the agent keeps my passport", "lang": "en"}) + "\n", "--explain")
    out = json.loads(result.stdout)
    assert out["evidence"]["documents_confiscated"] == "the agent keeps my passport"


def test_a_missing_model_is_a_clear_error(tmp_path):
    result = cli('{"text": "x"}\n', "--model", str(tmp_path / "none.joblib"))
    assert result.returncode == 2 and result.stdout == ""
    assert "no screening model" in result.stderr and "make train" in result.stderr
