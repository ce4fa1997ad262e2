"""The helpline team's opening hours: parsed from SAFELINE_OPENING_HOURS, asked "open now?".

Format: `always`, or comma-separated spans `DAYS HH:MM-HH:MM` in SAFELINE_TIMEZONE, where DAYS is a
day (`mon`), a range (`mon-fri`) or a list (`sat+sun`); `24:00` ends a day. Example:
`mon-fri 09:00-18:00, sat 10:00-14:00`. A person handed to the team is told whether someone is
there now, and if not, when the team is back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(?P<days>[a-z+\-]+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")


class OpeningHoursError(ValueError):
    """The opening hours text cannot be read; the message says what is wrong."""


def _minutes(value: str) -> int:
    """Minutes since midnight of `HH:MM` (24:00 allowed as an end)."""
    hours, minutes = (int(part) for part in value.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise OpeningHoursError(f"{value!r} is not a time of day")
    return hours * 60 + minutes


def _days(text: str) -> list[int]:
    """Weekday numbers (Monday 0) of `mon`, `mon-fri` or `sat+sun`."""
    days: list[int] = []
    for part in text.split("+"):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise OpeningHoursError(f"{part!r} is not a day or a range of days (use mon tue wed thu fri sat sun)")
        start, end = DAYS.index(first), DAYS.index(last or first)
        days += [(start + n) % 7 for n in range((end - start) % 7 + 1)]
    return days


@dataclass(frozen=True)
class OpeningHours:
    """When operators are on duty; `always` means around the clock."""

    spans: tuple[tuple[int, int, int], ...]  # (weekday, start minute, end minute)
    zone: str = "UTC"
    always: bool = False

    @classmethod
    def parse(cls, text: str, zone: str = "UTC") -> "OpeningHours":
        """Read the setting's text (raises OpeningHoursError with a helpful message)."""
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise OpeningHoursError(f"unknown time zone {zone!r} (use a name like Europe/Madrid)") from exc
        cleaned = " ".join(text.strip().lower().split())
        if cleaned in ("", "always", "24/7"):
            return cls((), zone, True)
        spans = []
        for chunk in cleaned.split(","):
            match = _SPAN.match(chunk.strip())
            if not match:
                raise OpeningHoursError(f"{chunk.strip()!r} must look like 'mon-fri 09:00-17:00'")
            start, end = _minutes(match["start"]), _minutes(match["end"])
            if end <= start:
                raise OpeningHoursError(f"{chunk.strip()!r} ends before it starts")
            spans += [(day, start, end) for day in _days(match["days"])]
        return cls(tuple(sorted(spans)), zone, False)

    def _local(self, at: Optional[datetime]) -> datetime:
        """`at` (default now) in the team's time zone."""
        return (at or datetime.now(timezone.utc)).astimezone(ZoneInfo(self.zone))

    def is_open(self, at: Optional[datetime] = None) -> bool:
        """Is someone on duty at `at` (default: now)?"""
        if self.always:
            return True
        local = self._local(at)
        minute = local.hour * 60 + local.minute
        return any(day == local.weekday() and start <= minute < end for day, start, end in self.spans)

    def next_open(self, at: Optional[datetime] = None) -> Optional[datetime]:
        """When the team is next on duty (now if open; None if never)."""
        if self.always or self.is_open(at):
            return self._local(at)
        if not self.spans:
            return None
        local = self._local(at)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        for offset in range(8):
            day = midnight + timedelta(days=offset)
            for weekday, start, _ in self.spans:
                candidate = day + timedelta(minutes=start)
                if weekday == day.weekday() and candidate > local:
                    return candidate
        return None

    def hours_until_open(self, at: Optional[datetime] = None) -> Optional[int]:
        """Whole hours (rounded up, at least 1) until the team is back; 0 if open now."""
        if self.is_open(at):
            return 0
        opens = self.next_open(at)
        if opens is None:
            return None
        seconds = (opens - self._local(at)).total_seconds()
        return max(1, int(-(-seconds // 3600)))

    def describe(self, language: str = "en") -> str:
        """The hours for a person, e.g. `Mon–Fri 09:00–18:00 (Europe/Madrid)`, day names in their language."""
        if self.always:
            return "24/7"
        names = _day_names(language)
        by_hours: dict[tuple[int, int], list[int]] = {}
        for day, start, end in self.spans:
            by_hours.setdefault((start, end), []).append(day)
        parts = []
        for (start, end), days in by_hours.items():
            parts.append(f"{_day_ranges(sorted(set(days)), names)} {_clock(start)}–{_clock(end)}")
        return f"{', '.join(parts)} ({self.zone})"


def _clock(minutes: int) -> str:
    """`HH:MM` of minutes since midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_ranges(days: list[int], names: list[str]) -> str:
    """Consecutive weekdays as ranges: [0,1,2,3,4,6] → `Mon–Fri, Sun`."""
    ranges: list[list[int]] = []
    for day in days:
        if ranges and day == ranges[-1][-1] + 1:
            ranges[-1].append(day)
        else:
            ranges.append([day])
    return ", ".join(names[r[0]] if len(r) == 1 else f"{names[r[0]]}–{names[r[-1]]}" for r in ranges)


def _day_names(language: str) -> list[str]:
    """Abbreviated weekday names (Monday first) in the language, English when unknown."""
    try:
        from babel.dates import get_day_names

        for code in (language, {"tl": "fil"}.get(language, language), "en"):
            try:
                names = get_day_names("abbreviated", locale=code)
                return [str(names[n]) for n in range(7)]
            except Exception:  # noqa: BLE001 - babel lacks some locales; try the next
                continue
    except ImportError:
        pass
    return ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
