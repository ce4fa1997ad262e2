"""The screening rule set (rules.yml): forms, dimensions, urgency and needs from what was found.

Pure functions over plain data, so a helpline manager's change to rules.yml is tested by
tests/unit/test_screening_rules.py without a model, Rasa or a network.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

import yaml

from actions.screening.catalogue import CONTRACT_IDS, DIMENSIONS, FORMS, STRENGTHS, Catalogue, load_catalogue

RULES_PATH = Path(__file__).resolve().parent / "rules.yml"
URGENCIES: tuple[str, ...] = ("emergency", "high", "medium", "low")  # CONTRACTS §5, most urgent first
REPORTERS: tuple[str, ...] = ("self", "third_party", "professional")
CONDITIONS = frozenset({"danger_now", "min_strong", "minor", "min_indicators", "trafficking_indicated",
                        "min_urgency", "interpreter_needed", "unnamed_signs"})


class RulesError(ValueError):
    """rules.yml cannot be used; the message says which rule and why."""


@dataclass(frozen=True)
class UrgencyRule:
    """One line of the urgency table: the urgency, when it applies, and why (for the operator)."""

    urgency: str
    when: Mapping[str, Any]
    why: str


@dataclass(frozen=True)
class Rules:
    """Everything rules.yml says."""

    urgency_rules: tuple[UrgencyRule, ...]
    dimension_present_when: tuple[Mapping[str, int], ...]
    trafficking_needs: Mapping[str, tuple[str, ...]]
    child_only_indicators: frozenset[str]
    form_context_indicators: frozenset[str]
    read_in_form: Mapping[str, Mapping[str, str]]
    also_in_form: Mapping[str, Mapping[str, str]]
    default_form: str
    needs: Mapping[str, Mapping[str, Any]]
    max_questions: Mapping[str, int]


@dataclass(frozen=True)
class Evidence:
    """An indicator and the person's own words that support it ("" when it came from a yes)."""

    id: str
    evidence: str = ""


@dataclass(frozen=True)
class Situation:
    """What screening knows: indicators with evidence, danger now, age, and forms named."""

    indicators: Sequence[Evidence] = ()
    danger_now: bool = False
    minor: Optional[bool] = None
    forms_named: Sequence[str] = ()
    interpreter_needed: bool = False
    needs_requested: Sequence[str] = ()
    unnamed_signs: bool = False


@dataclass(frozen=True)
class Assessment:
    """The outcome of screening: for referral, not a verdict."""

    forms: list[str]
    indicators: list[dict[str, str]]
    urgency: str
    minor: Optional[bool]
    dimensions: dict[str, bool]
    trafficking_indicated: bool
    needs: list[str]
    reason: str
    danger_now: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def contract_dict(self) -> dict[str, Any]:
        """The CLI's line of CONTRACTS §7: forms, indicators {id, strength}, urgency, minor."""
        return {"forms": self.forms,
                "indicators": [{"id": i["id"], "strength": i["strength"]} for i in self.indicators],
                "urgency": self.urgency, "minor": self.minor}


def _check_conditions(where: str, when: Mapping[str, Any]) -> None:
    """Refuse a condition name the evaluator does not know (a typo would silently never match)."""
    unknown = set(when) - CONDITIONS
    if unknown:
        raise RulesError(f"rules.yml: {where}: unknown condition(s) {sorted(unknown)}; use {sorted(CONDITIONS)}")


def parse_rules(data: Mapping) -> Rules:
    """Build and check the rules from their YAML data."""
    urgency_rules = []
    for n, entry in enumerate(data.get("urgency_rules") or [], 1):
        if entry.get("urgency") not in URGENCIES:
            raise RulesError(f"rules.yml: urgency rule {n}: urgency must be one of {URGENCIES}")
        when = dict(entry.get("when") or {})
        _check_conditions(f"urgency rule {n}", when)
        urgency_rules.append(UrgencyRule(entry["urgency"], when, str(entry.get("why", ""))))
    if not urgency_rules or urgency_rules[-1].when:
        raise RulesError("rules.yml: the last urgency rule must have no condition (the fallback)")
    combos = tuple(dict(c) for c in data.get("dimension_present_when") or [])
    if not combos or any(set(c) - set(STRENGTHS) for c in combos):
        raise RulesError(f"rules.yml: dimension_present_when entries count {STRENGTHS} only")
    needs_by_age = {k: tuple(v) for k, v in (data.get("trafficking_needs") or {}).items()}
    if set(needs_by_age) != {"adult", "child"} or any(set(v) - set(DIMENSIONS) for v in needs_by_age.values()):
        raise RulesError(f"rules.yml: trafficking_needs needs adult and child, each a list of {DIMENSIONS}")
    if data.get("default_form") not in FORMS:
        raise RulesError(f"rules.yml: default_form must be one of {FORMS}")
    needs = {name: dict(when or {}) for name, when in (data.get("needs") or {}).items()}
    for name, when in needs.items():
        _check_conditions(f"need {name}", when)
    read_in_form, also_in_form = (_form_pairs(data, key) for key in ("read_in_form", "also_in_form"))
    return Rules(tuple(urgency_rules), combos, needs_by_age, frozenset(data.get("child_only_indicators") or ()),
                 frozenset(data.get("form_context_indicators") or ()), read_in_form, also_in_form,
                 data["default_form"], needs, dict(data.get("max_questions") or {}))


def _form_pairs(data: Mapping, key: str) -> dict[str, dict[str, str]]:
    """A rules.yml mapping of form -> {indicator: indicator}, with forms and ids checked."""
    pairs_by_form = {form: dict(pairs or {}) for form, pairs in (data.get(key) or {}).items()}
    if set(pairs_by_form) - set(FORMS):
        raise RulesError(f"rules.yml: {key} names forms {sorted(set(pairs_by_form) - set(FORMS))}; use {FORMS}")
    known = {i for ids in CONTRACT_IDS.values() for i in ids}
    unknown = {i for pairs in pairs_by_form.values() for pair in pairs.items() for i in pair} - known
    if unknown:
        raise RulesError(f"rules.yml: {key}: unknown indicator ids {sorted(unknown)} (CONTRACTS §4)")
    return pairs_by_form


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> Rules:
    """The rules of rules.yml (cached; raises RulesError if unusable)."""
    return parse_rules(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def dimension_present(strengths: Sequence[str], combos: Sequence[Mapping[str, int]]) -> bool:
    """The ILO / EC combination rule: do these indicator strengths reach any combination?"""
    have = Counter(strengths)
    return any(all(have[s] >= n for s, n in combo.items()) for combo in combos)


def _holds(when: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """Do all the conditions of a rule hold for these facts?"""
    for name, wanted in when.items():
        if name == "min_strong" and facts["strong"] < wanted:
            return False
        if name == "min_indicators" and facts["indicators"] < wanted:
            return False
        if name == "min_urgency" and URGENCIES.index(facts["urgency"]) > URGENCIES.index(wanted):
            return False
        if name in ("danger_now", "minor", "trafficking_indicated", "interpreter_needed", "unnamed_signs") \
                and bool(facts[name]) != bool(wanted):
            return False
    return True


def _in_play(found: Iterable[str], named: Sequence[str], catalogue: Catalogue) -> set[Optional[str]]:
    """The forms the person's words name or these indicators anchor."""
    return set(named) | {catalogue[i].anchors_form for i in found}


def _read_in_form(evidence: dict[str, str], named: Sequence[str], catalogue: Catalogue, rules: Rules) -> dict[str, str]:
    """Indicators read in the form in play (rules.yml): renamed to the form's own counterpart
    (`read_in_form`), or also counted as one (`also_in_form`), on the same words.

    Only indicators that stand on their own put a form in play: a form-context one (crying) could
    otherwise make a farm story a marriage and rename what it says.
    """
    in_play = _in_play([i for i in evidence if i not in rules.form_context_indicators], named, catalogue)
    result = dict(evidence)
    for form, pairs in rules.read_in_form.items():
        if form not in in_play:
            continue
        for common, own in pairs.items():
            if common in result and own in catalogue:
                words = result.pop(common)
                result[own] = result.get(own) or words
    for form, pairs in rules.also_in_form.items():
        if form in in_play:
            for found, also in pairs.items():
                if found in result and also in catalogue:
                    result[also] = result.get(also) or result[found]
    return result


def _out_of_context(found: Sequence[str], named: Sequence[str], catalogue: Catalogue, rules: Rules) -> list[str]:
    """The form-context indicators found while none of their forms is in play (rules.yml)."""
    in_play = _in_play([i for i in found if i not in rules.form_context_indicators], named, catalogue)
    return [i for i in found if i in rules.form_context_indicators and not set(catalogue[i].forms) & in_play]


def _forms(found: Sequence[str], named: Sequence[str], catalogue: Catalogue, rules: Rules) -> list[str]:
    """Forms in CONTRACTS order: anchored by an indicator, named by the person, or the default."""
    if not found:
        return []
    forms = {catalogue[i].anchors_form for i in found} - {None}
    forms |= {f for f in named if f in FORMS}
    if not forms:
        forms = {rules.default_form}
    return [f for f in FORMS if f in forms]


def assess(situation: Situation, rules: Optional[Rules] = None, catalogue: Optional[Catalogue] = None) -> Assessment:
    """Apply rules.yml to what screening knows."""
    rules = rules or load_rules()
    catalogue = catalogue or load_catalogue()
    minor = situation.minor
    evidence: dict[str, str] = {}
    for item in situation.indicators:
        if item.id in rules.child_only_indicators and minor is not True:
            continue
        if item.id in catalogue and (item.id not in evidence or not evidence[item.id]):
            evidence[item.id] = item.evidence
    evidence = _read_in_form(evidence, situation.forms_named, catalogue, rules)
    out_of_context = _out_of_context(list(evidence), situation.forms_named, catalogue, rules)
    for i in out_of_context:
        del evidence[i]
    indicators = [{"id": i, "strength": catalogue[i].strength(minor), "evidence": evidence[i]}
                  for i in sorted(evidence, key=lambda i: (STRENGTHS.index(catalogue[i].strength(minor)), i))]
    dimensions = {d: dimension_present([x["strength"] for x in indicators if catalogue[x["id"]].dimension == d],
                                       rules.dimension_present_when) for d in DIMENSIONS}
    needed = rules.trafficking_needs["child" if minor else "adult"]
    facts: dict[str, Any] = {
        "danger_now": situation.danger_now, "minor": bool(minor), "indicators": len(indicators),
        "strong": sum(1 for x in indicators if x["strength"] == "strong"),
        "trafficking_indicated": all(dimensions[d] for d in needed),
        "interpreter_needed": situation.interpreter_needed,
        # Signs read out of their form's context are still signs: a person reads them (rules.yml).
        "unnamed_signs": (situation.unnamed_signs or bool(out_of_context)) and not indicators,
    }
    rule = next(r for r in rules.urgency_rules if _holds(r.when, facts))
    facts["urgency"] = rule.urgency
    needs = list(dict.fromkeys([*situation.needs_requested,
                                *(n for n, when in rules.needs.items() if _holds(when, facts))]))
    return Assessment(
        forms=_forms(list(evidence), situation.forms_named, catalogue, rules),
        indicators=indicators, urgency=rule.urgency, minor=minor, dimensions=dimensions,
        trafficking_indicated=facts["trafficking_indicated"], needs=needs, reason=rule.why,
        danger_now=situation.danger_now,
    )
