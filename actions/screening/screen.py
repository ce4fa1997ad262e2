"""Screening of free text in one step: the model's findings, the cues, then the rules."""
from __future__ import annotations

from typing import Optional

from actions.screening.assessment import Assessment, Evidence, Situation, assess
from actions.screening.cues import Cues, load_cues
from actions.screening.extractor import Extraction, Extractor, load_extractor


def situation_from_text(text: str, extraction: Extraction, cues: Optional[Cues] = None,
                        minor: Optional[bool] = None) -> Situation:
    """What a text tells screening: indicators with evidence, danger now, age and setting."""
    cues = cues or load_cues()
    stated = cues.minor(text)
    return Situation(
        indicators=[Evidence(f.id, f.evidence) for f in extraction.findings],
        danger_now=extraction.danger is not None,
        # A possible child in the words wins over an earlier "adult" answer: presumption of minority.
        minor=True if stated or minor else (minor if minor is not None else stated),
        forms_named=cues.forms(text),
        unnamed_signs=extraction.unnamed_signs,
    )


def screen_text(text: str, extractor: Optional[Extractor] = None) -> Assessment:
    """Screen one text (the batch CLI and the benchmark use exactly this)."""
    extractor = extractor or load_extractor()
    return assess(situation_from_text(text, extractor.extract(text)))
