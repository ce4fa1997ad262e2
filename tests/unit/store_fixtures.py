"""The `store` fixture for tests of the store contract: a fresh store of each kind.

In-process (the embedded default) and Redis (production, a unique key prefix on the shared test
server), so every test that takes `store` runs against both.
"""
from __future__ import annotations

import secrets

import pytest

from bot.stores.memory import MemoryStore
from bot.stores.redis_store import RedisStore


@pytest.fixture(params=["memory", "redis"])
def store(request):
    """A fresh store of each kind."""
    if request.param == "memory":
        return MemoryStore(conversation_ttl_s=3600)
    server = request.getfixturevalue("redis_server")
    return RedisStore.from_url(server.url, conversation_ttl_s=3600, prefix=f"t{secrets.token_hex(4)}")
