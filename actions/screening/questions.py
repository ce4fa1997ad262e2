"""Which question, if any, can still change the outcome of a screening.

Trauma-informed screening asks little: only what could change where the case goes. That is, in
this order: the form of exploitation when nothing names it yet; one strong indicator while the
urgency is still below high; the age while it is unknown (a child changes urgency and needs); then
further strong indicators. Never more than rules.yml's max_questions, never a question twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from actions.screening.assessment import URGENCIES, Assessment, Evidence, Rules, Situation, assess
from actions.screening.catalogue import Catalogue

FORM_QUESTION = "form"
AGE_QUESTION = "age"


@dataclass
class ScreeningState:
    """What the dialogue knows so far; kept in Rasa slots between turns (see as_slots)."""

    reporter: str = "self"
    found: list[dict[str, str]] = field(default_factory=list)  # [{id, evidence}]
    denied: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    forms_named: list[str] = field(default_factory=list)
    minor: Optional[bool] = None
    danger_now: bool = False
    # Only for a one-off reading of a whole conversation (not kept in slots): the form asks instead.
    unnamed_signs: bool = False

    def add_found(self, indicator_id: str, evidence: str = "") -> None:
        """Record an indicator (keeping the first non-empty evidence)."""
        for item in self.found:
            if item["id"] == indicator_id:
                item["evidence"] = item["evidence"] or evidence
                return
        self.found.append({"id": indicator_id, "evidence": evidence})
        if indicator_id in self.denied:
            self.denied.remove(indicator_id)

    def situation(self, interpreter_needed: bool = False, needs_requested: tuple[str, ...] = ()) -> Situation:
        """The state as the rules' input."""
        return Situation([Evidence(f["id"], f.get("evidence", "")) for f in self.found], self.danger_now,
                         self.minor, tuple(self.forms_named), interpreter_needed, needs_requested,
                         self.unnamed_signs)

    def as_slots(self) -> dict[str, Any]:
        """Slot values to store the state in the tracker."""
        return {"screening_reporter": self.reporter, "screening_found": self.found,
                "screening_denied": self.denied, "screening_asked": self.asked,
                "screening_forms_named": self.forms_named, "screening_minor": self.minor,
                "screening_danger": self.danger_now}

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any]) -> "ScreeningState":
        """The state stored by as_slots (empty values for a fresh screening)."""
        minor = slots.get("screening_minor")
        return cls(reporter=slots.get("screening_reporter") or "self",
                   found=[dict(f) for f in slots.get("screening_found") or [] if isinstance(f, Mapping)],
                   denied=list(slots.get("screening_denied") or []),
                   asked=list(slots.get("screening_asked") or []),
                   forms_named=list(slots.get("screening_forms_named") or []),
                   minor=minor if isinstance(minor, bool) else None,
                   danger_now=bool(slots.get("screening_danger")))


def _strong_candidates(state: ScreeningState, assessment: Assessment, catalogue: Catalogue) -> list[str]:
    """Strong indicators not yet known, those of the forms in play first, then by `ask` order."""
    known = {f["id"] for f in state.found} | set(state.denied) | set(state.asked)
    forms = set(assessment.forms) | set(state.forms_named)
    chosen = []
    for indicator in catalogue.indicators.values():
        if indicator.ask <= 0 or indicator.id in known or indicator.strength(state.minor) != "strong":
            continue
        if forms and not forms & set(indicator.forms):
            continue
        specific = indicator.anchors_form is not None and indicator.anchors_form in forms
        chosen.append((0 if specific else 1, indicator.ask, indicator.id))
    return [i for _, _, i in sorted(chosen)]


def next_question(state: ScreeningState, rules: Rules, catalogue: Catalogue) -> Optional[str]:
    """The id of the next question ("form", "age" or an indicator id), or None to stop."""
    if len(state.asked) >= rules.max_questions.get(state.reporter, 4):
        return None
    assessment = assess(state.situation(), rules, catalogue)
    if assessment.urgency == "emergency":
        return None
    below_high = URGENCIES.index(assessment.urgency) > URGENCIES.index("high")
    strong = _strong_candidates(state, assessment, catalogue)
    order: list[str] = []
    anchored = {catalogue[f["id"]].anchors_form for f in state.found} - {None}
    if not anchored and not state.forms_named:
        order.append(FORM_QUESTION)
    # One strong indicator before the age, the others after it.
    if below_high and strong and not any(q in catalogue for q in state.asked):
        order.append(strong[0])
    if state.minor is None:
        order.append(AGE_QUESTION)
    if below_high:
        order += strong
    return next((q for q in order if q not in state.asked), None)
