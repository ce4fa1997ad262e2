"""The referral directory: services per country, from a data file the deployment maintains."""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml

SERVICE_KINDS = frozenset({"hotline", "shelter", "legal_aid", "child_protection", "medical"})

# Which kinds of service answer which need; a hotline can always help find the rest.
KINDS_FOR_NEED = {
    "shelter": ("shelter", "hotline"),
    "legal": ("legal_aid", "hotline"),
    "medical": ("medical", "hotline"),
    "child": ("child_protection", "hotline"),
    None: ("hotline", "shelter", "legal_aid", "child_protection", "medical"),
}


@dataclass(frozen=True)
class Service:
    """One verified service."""

    name: str
    kinds: tuple[str, ...]
    phone: str
    hours: str
    languages: tuple[str, ...]
    verified_on: dt.date

    def line(self) -> str:
        """How the service is shown to a person: name, phone, hours."""
        return f"- {self.name}: {self.phone} ({self.hours})"


@dataclass(frozen=True)
class Directory:
    """All countries' services, and whether the file is example data."""

    example: bool
    countries: dict[str, tuple[str, ...]]
    services: dict[str, tuple[Service, ...]]

    def match_country(self, text: str) -> Optional[str]:
        """The country code a person's words name ('españa', 'ES', 'I am in Spain'), if any."""
        wanted = _fold(text)
        if wanted.upper() in self.services:
            return wanted.upper()
        for code, names in self.countries.items():
            for name in names:
                if name == wanted or f" {name} " in f" {wanted} ":
                    return code
        return None

    def for_need(self, country: str, need: Optional[str]) -> list[Service]:
        """Services in a country that fit a need, in the order the file lists them."""
        kinds = KINDS_FOR_NEED.get(need, KINDS_FOR_NEED[None])
        return [s for s in self.services.get(country, ()) if set(s.kinds) & set(kinds)]


def _fold(text: str) -> str:
    """Lower-case and strip accents and punctuation, for forgiving country matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch) or ord(ch) > 0x0E00)
    kept = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in kept)
    return " ".join(kept.split())


def load_directory(path: Path) -> Directory:
    """Read and check the directory file; a malformed entry fails loudly with its place."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    countries: dict[str, tuple[str, ...]] = {}
    services: dict[str, tuple[Service, ...]] = {}
    for code, entry in (data.get("countries") or {}).items():
        code = str(code).upper()
        countries[code] = tuple(_fold(n) for n in entry.get("names", []))
        parsed = []
        for i, raw in enumerate(entry.get("services", [])):
            kinds = tuple(raw.get("kinds", []))
            unknown = set(kinds) - SERVICE_KINDS
            if unknown or not kinds:
                raise ValueError(f"{path}: {code} service {i}: kinds must be from {sorted(SERVICE_KINDS)}")
            verified = raw.get("verified_on")
            if not isinstance(verified, dt.date):
                raise ValueError(f"{path}: {code} service {i}: verified_on must be a date (YYYY-MM-DD)")
            parsed.append(Service(
                name=str(raw["name"]), kinds=kinds, phone=str(raw["phone"]), hours=str(raw.get("hours", "")),
                languages=tuple(raw.get("languages", [])), verified_on=verified,
            ))
        services[code] = tuple(parsed)
    return Directory(example=bool(data.get("example", False)), countries=countries, services=services)
