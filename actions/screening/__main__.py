"""`python -m actions.screening`: batch screening, CONTRACTS §7.

Reads JSON lines `{"text": "...", "lang": "xx"}` on stdin and writes one JSON line for each:
`{"forms": [..], "indicators": [{"id", "strength"}], "urgency": "...", "minor": true|false|null}`.
A line that cannot be screened gets `{"error": "..."}` instead, and the run goes on.
Exit status: 0, or 2 when the trained model is missing (`make train` makes it).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, Any, Optional

from actions.screening.extractor import MODEL_PATH, Extractor, ModelMissing, load_extractor
from actions.screening.screen import screen_text

MAX_TEXT_CHARS = 20000


def screen_line(line: str, extractor: Extractor, explain: bool = False) -> dict[str, Any]:
    """The output object for one input line (an error object for bad input, never an exception)."""
    try:
        item = json.loads(line)
    except ValueError as exc:
        return {"error": f"not valid JSON: {exc.msg}"}
    if not isinstance(item, dict):
        return {"error": 'each line must be a JSON object like {"text": "...", "lang": "en"}'}
    text = item.get("text")
    if not isinstance(text, str):
        return {"error": 'missing "text" (a string)'}
    if "lang" in item and item["lang"] is not None and not isinstance(item["lang"], str):
        return {"error": '"lang" must be a language code string'}
    # The model and the cues cover every supported language at once, so "lang" is informative.
    result = screen_text(text[:MAX_TEXT_CHARS], extractor)
    output = result.contract_dict()
    if explain:
        output["evidence"] = {i["id"]: i["evidence"] for i in result.indicators}
        output["dimensions"] = result.dimensions
        output["urgency_reason"] = result.reason
    return output


def run(source: IO[str], sink: IO[str], explain: bool = False, model: Path = MODEL_PATH) -> int:
    """Screen every non-empty line of source into sink; returns the exit status."""
    try:
        extractor = load_extractor(model)
    except ModelMissing as exc:
        print(f"python -m actions.screening: {exc}", file=sys.stderr)
        return 2
    for line in source:
        if not line.strip():
            continue
        try:
            output = screen_line(line, extractor, explain)
        except Exception as exc:  # noqa: BLE001 - one bad line must never stop a batch
            output = {"error": f"could not screen this line: {type(exc).__name__}"}
        sink.write(json.dumps(output, ensure_ascii=False) + "\n")
        sink.flush()
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m actions.screening", description=__doc__.splitlines()[0])
    parser.add_argument("--explain", action="store_true",
                        help="also write the evidence, the dimensions and why the urgency was chosen")
    parser.add_argument("--model", type=Path, default=MODEL_PATH,
                        help="the trained screening model (default: models/screening.joblib)")
    args = parser.parse_args(argv)
    return run(sys.stdin, sys.stdout, args.explain, args.model)


if __name__ == "__main__":
    sys.exit(main())
