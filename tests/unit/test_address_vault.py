"""Sealed addresses: encrypted, bound to their channel, expiring, and never readable without the key."""
from __future__ import annotations

import time

from cryptography.fernet import Fernet

from bot.address_vault import AddressVault, derive_key

KEY = "k" * 48


def test_a_sealed_address_opens_again_and_does_not_contain_it():
    vault = AddressVault(KEY, ttl_s=60)
    token = vault.seal("sms", "+15551234567")
    assert "15551234567" not in token
    assert vault.open("sms", token) == "+15551234567"


def test_a_token_is_bound_to_its_channel_and_key():
    token = AddressVault(KEY, 60).seal("telegram", "987654321")
    assert AddressVault(KEY, 60).open("sms", token) is None
    assert AddressVault("z" * 48, 60).open("telegram", token) is None
    assert AddressVault(KEY, 60).open("telegram", "not-a-token") is None
    assert AddressVault(KEY, 60).open("telegram", None) is None


def test_a_token_expires_after_its_ttl():
    vault = AddressVault(KEY, ttl_s=1)
    old = Fernet(derive_key(KEY)).encrypt_at_time(b"sms:+15550000000", int(time.time()) - 5).decode()
    assert vault.open("sms", old) is None


def test_the_key_is_derived_not_the_secret_itself():
    assert derive_key(KEY) != KEY.encode() and len(derive_key(KEY)) == 44
