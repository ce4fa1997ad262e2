"""The indicator catalogue (indicators.yml): loaded once, checked against CONTRACTS §3-§4."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import yaml

CATALOGUE_PATH = Path(__file__).resolve().parent / "indicators.yml"

# CONTRACTS §3, in the order an operator reads them.
FORMS: tuple[str, ...] = ("forced_labour", "domestic_servitude", "sexual_exploitation", "forced_marriage",
                          "organ_removal", "forced_begging_criminality")
# CONTRACTS §4: every id, by the list it is in.
CONTRACT_IDS: dict[str, tuple[str, ...]] = {
    "common": ("coerced_to_stay", "deceived_recruitment", "excessive_hours", "degrading_conditions",
               "controlled_by_others", "threats_or_violence", "age_inappropriate", "documents_confiscated",
               "debt_bondage", "wages_withheld", "movement_restricted", "isolated", "threats_to_family",
               "recruitment_fee", "unaware_of_location"),
    "forced_marriage": ("marriage_payment", "marriage_without_consent", "virginity_testing", "family_violence",
                        "distress_signs"),
    "domestic_servitude": ("food_deprivation", "no_private_space"),
    "sexual_exploitation": ("cannot_refuse_clients", "earnings_taken", "forced_contraception",
                            "forced_medical_testing"),
    "organ_removal": ("organ_removal_coercion", "organ_removal_deception", "organ_procurer"),
    "begging_crime": ("punished_for_quota", "forced_criminality", "lives_with_coworkers"),
}
# The form each non-common group anchors.
GROUP_FORM = {"forced_marriage": "forced_marriage", "domestic_servitude": "domestic_servitude",
              "sexual_exploitation": "sexual_exploitation", "organ_removal": "organ_removal",
              "begging_crime": "forced_begging_criminality"}
STRENGTHS: tuple[str, ...] = ("strong", "medium", "weak")
DIMENSIONS: tuple[str, ...] = ("recruitment", "exploitation", "coercion")
AGE_GROUPS: tuple[str, ...] = ("adult", "child")


class CatalogueError(ValueError):
    """indicators.yml is inconsistent; the message names the indicator and the problem."""


@dataclass(frozen=True)
class Indicator:
    """One indicator of trafficking: what it points to and how much it weighs."""

    id: str
    group: str
    forms: tuple[str, ...]
    strength_adult: str
    strength_child: str
    dimension: str
    ask: int
    source: str

    def strength(self, minor: bool | None) -> str:
        """Strength for the person's age group; a possible child is weighed as a child."""
        return self.strength_child if minor else self.strength_adult

    @property
    def anchors_form(self) -> str | None:
        """The form this indicator names by itself: its group's, unless it points to other forms too.

        Living with co-workers is in the begging list, but workers housed on a farm or girls in
        one flat show it as well; alone it must not call a farm case forced begging.
        """
        form = GROUP_FORM.get(self.group)
        return form if form is not None and set(self.forms) == {form} else None


@dataclass(frozen=True)
class Catalogue:
    """Every indicator, by id, in the catalogue's order."""

    indicators: Mapping[str, Indicator]

    @property
    def ids(self) -> list[str]:
        """All indicator ids."""
        return list(self.indicators)

    def __getitem__(self, indicator_id: str) -> Indicator:
        return self.indicators[indicator_id]

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self.indicators

    def by_form(self, form: str) -> list[Indicator]:
        """The indicators that point to a form, strongest (for adults) first."""
        chosen = [i for i in self.indicators.values() if form in i.forms]
        return sorted(chosen, key=lambda i: STRENGTHS.index(i.strength_adult))


def _indicator(indicator_id: str, entry: Mapping) -> Indicator:
    """One catalogue entry, validated."""
    def fail(problem: str) -> CatalogueError:
        return CatalogueError(f"indicators.yml: {indicator_id}: {problem}")

    forms = tuple(entry.get("forms") or ())
    if not forms or set(forms) - set(FORMS):
        raise fail(f"forms must be a non-empty list of {FORMS}, got {forms}")
    strength = entry.get("strength") or {}
    if set(strength) != set(AGE_GROUPS) or set(strength.values()) - set(STRENGTHS):
        raise fail(f"strength needs adult and child, each one of {STRENGTHS}")
    if entry.get("dimension") not in DIMENSIONS:
        raise fail(f"dimension must be one of {DIMENSIONS}")
    group = entry.get("group")
    expected_group = next(g for g, ids in CONTRACT_IDS.items() if indicator_id in ids)
    if group != expected_group:
        raise fail(f"group must be {expected_group} (CONTRACTS §4)")
    if group in GROUP_FORM and GROUP_FORM[group] not in forms:
        raise fail(f"an indicator of the {group} list must point to {GROUP_FORM[group]}")
    if not str(entry.get("source") or "").strip():
        raise fail("source is required (which seed list or guidance it comes from)")
    ask = entry.get("ask", 0)
    if not isinstance(ask, int) or ask < 0:
        raise fail("ask must be a whole number, 0 for never")
    return Indicator(indicator_id, group, forms, strength["adult"], strength["child"], entry["dimension"],
                     ask, str(entry["source"]).strip())


def parse_catalogue(data: Mapping) -> Catalogue:
    """Build and check a catalogue from its YAML data: exactly the ids of CONTRACTS §4."""
    entries = (data or {}).get("indicators") or {}
    expected = [i for ids in CONTRACT_IDS.values() for i in ids]
    missing = sorted(set(expected) - set(entries))
    extra = sorted(set(entries) - set(expected))
    if missing or extra:
        raise CatalogueError(f"indicators.yml: missing ids {missing}, unknown ids {extra}")
    return Catalogue({i: _indicator(i, entries[i]) for i in entries})


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """The catalogue in indicators.yml (cached; raises CatalogueError if inconsistent)."""
    return parse_catalogue(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
