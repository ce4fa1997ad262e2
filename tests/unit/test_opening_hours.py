"""Opening hours: parsed from the setting, asked "open now?" and "back when?", described per language."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.config import ConfigError, Settings
from bot.opening_hours import OpeningHours, OpeningHoursError

WEEKDAYS = OpeningHours.parse("mon-fri 09:00-17:00, sat 10:00-14:00", "Europe/Madrid")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_always_is_the_default_and_always_open():
    hours = OpeningHours.parse("always")
    assert hours.is_open(utc(2026, 11, 29, 3, 0))
    assert hours.hours_until_open() == 0
    assert hours.describe("es") == "24/7"


def test_open_and_closed_in_the_teams_time_zone():
    assert WEEKDAYS.is_open(utc(2026, 11, 23, 8, 30))  # Monday 09:30 in Madrid
    assert not WEEKDAYS.is_open(utc(2026, 11, 23, 7, 30))  # 08:30 in Madrid
    assert WEEKDAYS.is_open(utc(2026, 11, 28, 12, 0))  # Saturday 13:00
    assert not WEEKDAYS.is_open(utc(2026, 11, 29, 12, 0))  # Sunday


def test_next_opening_and_hours_until_it_from_saturday_evening():
    at = utc(2026, 11, 28, 20, 0)  # Saturday 21:00 in Madrid
    assert WEEKDAYS.next_open(at).isoformat() == "2026-11-30T09:00:00+01:00"
    assert WEEKDAYS.hours_until_open(at) == 36


def test_ranges_wrap_around_the_week_and_24_00_ends_a_day():
    hours = OpeningHours.parse("fri-mon 22:00-24:00")
    assert [span[0] for span in hours.spans] == [0, 4, 5, 6]
    assert hours.is_open(utc(2026, 11, 29, 23, 59))


def test_description_uses_the_persons_day_names():
    assert WEEKDAYS.describe("en") == "Mon–Fri 09:00–17:00, Sat 10:00–14:00 (Europe/Madrid)"
    assert WEEKDAYS.describe("es").startswith("lun–vie 09:00–17:00")


@pytest.mark.parametrize("text", ["weekdays 9-5", "mon-fri 17:00-09:00", "mon 25:00-26:00", "funday 09:00-10:00"])
def test_unreadable_hours_are_refused_with_a_reason(text):
    with pytest.raises(OpeningHoursError):
        OpeningHours.parse(text)


def test_settings_refuse_bad_hours_or_zone_at_start(tmp_path):
    base = {"SAFELINE_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="SAFELINE_OPENING_HOURS"):
        Settings.from_env({**base, "SAFELINE_OPENING_HOURS": "weekdays"})
    with pytest.raises(ConfigError, match="time zone"):
        Settings.from_env({**base, "SAFELINE_TIMEZONE": "Mars/Olympus"})
    settings = Settings.from_env({**base, "SAFELINE_OPENING_HOURS": "mon-fri 09:00-17:00",
                                  "SAFELINE_CLOSED_CASE_RETENTION": "3600"})
    assert settings.opening_hours == "mon-fri 09:00-17:00" and settings.closed_retention_s == 3600
