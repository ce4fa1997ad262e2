"""Training narratives: whole first messages with the words that show each indicator (data/narratives/).

Single made-up sentences teach what an indicator sounds like, but people write long, run-on,
colloquial messages that mix facts with filler; a model taught only sentences over-reads the
filler (docs/dev/screening.md). A narrative is cut into the clause runs the extractor scores:
the shortest run holding a quoted piece of evidence teaches that indicator, and every run that
touches no evidence teaches `none`, in the context people actually write it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import yaml

from actions.screening.extractor import NONE, Span, split_clauses, windows

NARRATIVE_DIR = Path(__file__).resolve().parent / "data" / "narratives"
# A run of one word ("help", "madam") says nothing by itself either way: not taught as `none`.
MIN_NONE_WORDS = 2


@dataclass(frozen=True)
class Narrative:
    """One training message: its text, language, and for each indicator the quoted evidence."""

    text: str
    language: str
    evidence: dict[str, list[str]] = field(default_factory=dict)

    @property
    def indicators(self) -> set[str]:
        """The indicator ids the message shows."""
        return set(self.evidence)


def load_narratives(directory: Path = NARRATIVE_DIR, known: Optional[set[str]] = None) -> list[Narrative]:
    """Every narrative of data/narratives/<lang>.yml, with unknown ids and misquoted evidence refused."""
    result = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        language = str(data.get("language") or path.stem)
        for number, item in enumerate(data.get("narratives") or [], start=1):
            where = f"{path.name}: narrative {number}"
            text = str(item.get("text") or "").strip()
            evidence = item.get("evidence") or {}
            if not text or not isinstance(evidence, dict):
                raise ValueError(f"{where}: needs a text and an evidence mapping (id: [quotes])")
            quotes: dict[str, list[str]] = {}
            for label, pieces in evidence.items():
                if known is not None and label not in known:
                    raise ValueError(f"{where}: unknown indicator id {label!r} (see CONTRACTS §4)")
                if not isinstance(pieces, list) or not pieces:
                    raise ValueError(f"{where}: {label}: evidence must be a list of quotes")
                for piece in pieces:
                    if str(piece) not in text:
                        raise ValueError(f"{where}: {label}: {piece!r} is not in the text word for word")
                quotes[str(label)] = [str(p) for p in pieces]
            result.append(Narrative(text, language, quotes))
    return result


def evidence_spans(narrative: Narrative) -> list[tuple[str, int, int]]:
    """(indicator, start, end) of every quote: its first place in the text."""
    spans = []
    for label, pieces in narrative.evidence.items():
        for piece in pieces:
            start = narrative.text.find(piece)
            spans.append((label, start, start + len(piece)))
    return spans


def labelled_runs(narrative: Narrative) -> list[tuple[str, str]]:
    """(run text, label) pairs the narrative teaches, runs cut as the extractor cuts them.

    An indicator: the shortest run that holds the whole quote (the clause that says it, or two
    when a fact is split over a comma). `none`: every run that touches no quote. Runs that hold
    only part of a quote teach nothing: half a fact is neither evidence nor its absence.
    """
    runs = windows(narrative.text, split_clauses(narrative.text))
    spans = evidence_spans(narrative)
    taught: list[tuple[str, str]] = []
    for label, start, end in spans:
        holding = [run for run in runs if run.start <= start and run.end >= end]
        if holding:
            taught.append((min(holding, key=_length).text, label))
        else:  # a quote wider than three clauses: the run that holds most of it
            overlap = max(runs, key=lambda run: (min(run.end, end) - max(run.start, start), -_length(run)), default=None)
            if overlap is not None and overlap.start < end and start < overlap.end:
                taught.append((overlap.text, label))
    for run in runs:
        if len(run.text.split()) >= MIN_NONE_WORDS and not any(run.start < e and s < run.end for _, s, e in spans):
            taught.append((run.text, NONE))
    return taught


def _length(run: Span) -> int:
    """How long a run is, to prefer the clause over the paragraph."""
    return run.end - run.start
