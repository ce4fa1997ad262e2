"""The referral directory file: every entry checked, example data marked, countries matched kindly."""
from __future__ import annotations

import datetime as dt

import pytest

from actions.referrals import load_directory
from bot.config import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "referrals" / "example.yml"


def test_the_shipped_directory_is_marked_as_example_data():
    assert load_directory(EXAMPLE).example is True
    assert "EXAMPLE DATA" in EXAMPLE.read_text()


def test_every_service_has_a_verified_on_date_and_a_phone():
    book = load_directory(EXAMPLE)
    services = [s for entries in book.services.values() for s in entries]
    assert services
    for service in services:
        assert isinstance(service.verified_on, dt.date) and service.phone


def test_an_entry_without_verified_on_is_refused(tmp_path):
    bad = tmp_path / "dir.yml"
    bad.write_text("countries:\n  XX:\n    names: [x]\n    services:\n      - {name: a, kinds: [hotline], phone: '1'}\n")
    with pytest.raises(ValueError, match="verified_on"):
        load_directory(bad)


def test_an_entry_with_an_unknown_kind_is_refused(tmp_path):
    bad = tmp_path / "dir.yml"
    bad.write_text("countries:\n  XX:\n    services:\n      - {name: a, kinds: [spa], phone: '1', verified_on: 2026-01-01}\n")
    with pytest.raises(ValueError, match="kinds"):
        load_directory(bad)


@pytest.mark.parametrize("said,code", [("Spain", "ES"), ("ESPAÑA", "ES"), ("espana!", "ES"), ("tay ban nha", "ES"),
                                       ("i live in thailand", "TH"), ("gb", "GB"), ("", None), ("mars", None)])
def test_country_matching_is_forgiving_about_case_accents_and_sentences(said, code):
    assert load_directory(EXAMPLE).match_country(said) == code
