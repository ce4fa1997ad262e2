"""Conversation pseudonyms: the only identifier Safeline keeps for a person."""
from __future__ import annotations

import hashlib
import hmac


def pseudonym(secret_key: str, channel: str, address: str) -> str:
    """HMAC-SHA256(secret, channel + ":" + address) as hex; the address itself is never stored."""
    message = f"{channel}:{address}".encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()
