"""Screening quality per language on the held-out narratives of tests/screening_eval (never trained on).

Usage: .venv/bin/python bench/screening_eval.py [--cases tests/screening_eval] [--model PATH] [--json]
       [--check] [--by language|batch]

Every narrative goes through the batch CLI (`python -m actions.screening`, CONTRACTS §7) exactly as
an integration would send it. Reported per language and overall:
- indicator precision and recall (micro: indicators found vs labelled, summed over narratives);
- form recall (labelled forms that the screening named);
- urgency accuracy (exact match with the labelled urgency);
- needs-human scored low: narratives labelled high or emergency that the screening called low;
- minor accuracy (informative: the labels mark a child, a clear adult or unknown).
--by batch reports per batch of narratives instead (each case's `batch`: when and how it was written,
docs/dev/screening.md), to tell the batches that guided changes from the ones that never did.
--check exits 1 unless indicator P and R >= 0.80, form recall >= 0.90, urgency accuracy >= 0.80
and no needs-human narrative is scored low (the targets of issue 4).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"indicator_precision": 0.80, "indicator_recall": 0.80, "form_recall": 0.90, "urgency_accuracy": 0.80}


def load_cases(directory: Path) -> list[dict[str, Any]]:
    """Every evaluation narrative with its language."""
    cases = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        language = str(data.get("language") or path.stem)
        cases += [{**case, "language": language} for case in data.get("cases") or []]
    return cases


def screen_with_cli(cases: list[dict[str, Any]], model: Path) -> list[dict[str, Any]]:
    """One CLI run over all narratives; one output object per narrative, in order."""
    lines = "".join(json.dumps({"text": c["text"], "lang": c["language"]}, ensure_ascii=False) + "\n" for c in cases)
    result = subprocess.run([sys.executable, "-m", "actions.screening", "--model", str(model)], input=lines,
                            capture_output=True, text=True, cwd=ROOT, check=False)
    if result.returncode != 0:
        raise SystemExit(f"the screening CLI failed ({result.returncode}): {result.stderr.strip()}")
    outputs = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    if len(outputs) != len(cases):
        raise SystemExit(f"the CLI answered {len(outputs)} lines for {len(cases)} narratives")
    return outputs


def score(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """The measures for (labelled case, CLI output) pairs."""
    tp = fp = fn = forms_found = forms_total = urgent_ok = minor_ok = needs_human_low = 0
    for case, out in pairs:
        found = {i["id"] for i in out.get("indicators", [])}
        truth = set(case.get("indicators") or [])
        tp, fp, fn = tp + len(found & truth), fp + len(found - truth), fn + len(truth - found)
        forms_total += len(case.get("forms") or [])
        forms_found += len(set(case.get("forms") or []) & set(out.get("forms", [])))
        urgent_ok += out.get("urgency") == case.get("urgency")
        minor_ok += out.get("minor") == case.get("minor")
        needs_human_low += case.get("urgency") in ("high", "emergency") and out.get("urgency") == "low"
    n = len(pairs)
    return {
        "cases": n,
        "indicator_precision": tp / (tp + fp) if tp + fp else 1.0,
        "indicator_recall": tp / (tp + fn) if tp + fn else 1.0,
        "form_recall": forms_found / forms_total if forms_total else 1.0,
        "urgency_accuracy": urgent_ok / n if n else 0.0,
        "needs_human_scored_low": needs_human_low,
        "minor_accuracy": minor_ok / n if n else 0.0,
    }


def report(cases: list[dict[str, Any]], outputs: list[dict[str, Any]], by: str = "language") -> dict[str, dict[str, Any]]:
    """Measures per language (or per batch) and overall ("all")."""
    groups: dict[str, list] = defaultdict(list)
    for case, out in zip(cases, outputs):
        groups[str(case.get(by, "?"))].append((case, out))
    # Batch 10 after batch 9, not after batch 1.
    table = {name: score(groups[name]) for name in sorted(groups, key=lambda name: (len(name), name))}
    table["all"] = score(list(zip(cases, outputs)))
    return table


def render(table: dict[str, dict[str, Any]]) -> str:
    """A plain-text table."""
    head = f"{'group':<5} {'cases':>5} {'ind P':>6} {'ind R':>6} {'form R':>7} {'urg acc':>8} {'high->low':>9} {'minor':>6}"
    rows = [head, "-" * len(head)]
    for name, m in table.items():
        rows.append(f"{name:<5} {m['cases']:>5} {m['indicator_precision']:>6.2f} {m['indicator_recall']:>6.2f} "
                    f"{m['form_recall']:>7.2f} {m['urgency_accuracy']:>8.2f} {m['needs_human_scored_low']:>9} "
                    f"{m['minor_accuracy']:>6.2f}")
    return "\n".join(rows)


def meets_targets(overall: dict[str, Any]) -> bool:
    """Issue 4's targets on the whole held-out set."""
    return all(overall[k] >= v for k, v in TARGETS.items()) and overall["needs_human_scored_low"] == 0


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=ROOT / "tests" / "screening_eval")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "screening.joblib")
    parser.add_argument("--json", action="store_true", help="print the measures as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 unless the targets of issue 4 are met")
    parser.add_argument("--by", choices=("language", "batch"), default="language", help="rows per language or per batch")
    args = parser.parse_args(argv)
    cases = load_cases(args.cases)
    if not cases:
        raise SystemExit(f"no evaluation narratives in {args.cases}")
    table = report(cases, screen_with_cli(cases, args.model), args.by)
    print(json.dumps(table, indent=2) if args.json else render(table))
    if args.check and not meets_targets(table["all"]):
        print("targets not met: " + ", ".join(f"{k} >= {v}" for k, v in TARGETS.items())
              + ", needs-human scored low = 0", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
