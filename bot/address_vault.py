"""Encrypted channel addresses: how Safeline can still reply after the webhook has returned.

A phone number or Telegram chat id is never stored in the clear. Where a reply may have to be sent
later (a worker retrying, an operator answering), the address travels and rests only as a Fernet
token sealed with a key derived from SAFELINE_SECRET_KEY. Tokens carry their creation time and stop
opening after the configured TTL, and the store deletes them with the conversation.
"""
from __future__ import annotations

import base64
import hmac
from typing import Optional

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"safeline address vault v1"


def derive_key(secret_key: str) -> bytes:
    """A Fernet key derived from the master secret (HKDF-SHA256), so no second secret is needed."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_key.encode("utf-8"))
    return base64.urlsafe_b64encode(raw)


class AddressVault:
    """Seals `channel:address` into a token and opens it again while it has not expired."""

    def __init__(self, secret_key: str, ttl_s: int):
        self._fernet = Fernet(derive_key(secret_key))
        self.ttl_s = ttl_s

    def seal(self, channel: str, address: str) -> str:
        """An opaque, expiring token for the address on that channel."""
        return self._fernet.encrypt(f"{channel}:{address}".encode("utf-8")).decode("ascii")

    def open(self, channel: str, token: Optional[str]) -> Optional[str]:
        """The address, or None if the token is missing, expired, forged or for another channel."""
        if not token:
            return None
        try:
            plain = self._fernet.decrypt(token.encode("ascii"), ttl=self.ttl_s).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            return None
        found, _, address = plain.partition(":")
        return address if hmac.compare_digest(found, channel) and address else None
