"""`queue_push_once`: de-duplication and queueing in one step, on both stores."""
from __future__ import annotations

import asyncio
import secrets

from bot.stores.redis_store import RedisStore
from store_fixtures import store  # noqa: F401  (the fixture: both stores)


def test_a_repeat_is_not_queued_and_the_first_is_claimable_in_order(store):
    async def scenario():
        try:
            first = await store.queue_push_once("inbound", {"text": "a"}, "seen:1", 60)
            assert first is not None
            assert await store.queue_push_once("inbound", {"text": "a again"}, "seen:1", 60) is None
            assert await store.queue_push_once("inbound", {"text": "b"}, "seen:2", 60) is not None
            assert await store.claim_once("seen:1", 60) is False  # the same keys as claim_once
            claimed = await store.queue_claim("inbound", "w1", 10, stale_after_s=60)
            assert [entry["text"] for _, entry in claimed] == ["a", "b"]
            assert claimed[0][0] == first
        finally:
            await store.close()

    asyncio.run(scenario())


def test_the_redis_queue_key_keeps_an_expiry(redis_server):
    async def scenario():
        store = RedisStore.from_url(redis_server.url, conversation_ttl_s=3600, prefix=f"t{secrets.token_hex(4)}")
        try:
            await store.queue_push_once("inbound", {"text": "a"}, "seen:1", 60)
            assert await store.client.ttl(store.key("q", "inbound")) > 0
            assert 0 < await store.client.ttl(store.key("once", "seen:1")) <= 60
        finally:
            await store.close()

    asyncio.run(scenario())
