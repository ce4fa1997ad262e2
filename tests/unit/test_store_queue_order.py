"""`queue_earlier`: an unfinished entry of the same conversation queued before, on both stores."""
from __future__ import annotations

import asyncio
import secrets

from bot.stores.redis_store import RedisStore
from store_fixtures import store  # noqa: F401  (the fixture: both stores)


def test_an_entry_is_first_of_its_conversation_once_the_earlier_ones_are_acknowledged(store):
    async def scenario():
        try:
            a1 = await store.queue_push("inbound", {"conversation": "a", "text": "1"})
            b1 = await store.queue_push("inbound", {"conversation": "b", "text": "1"})
            a2 = await store.queue_push_once("inbound", {"conversation": "a", "text": "2"}, "seen:a2", 60)
            await store.queue_ack("outbox-source", "0-1", [("inbound", {"conversation": "a", "text": "3"})]) \
                if isinstance(store, RedisStore) else await store.queue_push("inbound", {"conversation": "a", "text": "3"})
            claimed = await store.queue_claim("inbound", "w", 10, stale_after_s=60)
            a3 = [i for i, e in claimed if e["conversation"] == "a" and e["text"] == "3"][0]
            assert await store.queue_earlier("inbound", a1, "a") is None
            assert await store.queue_earlier("inbound", b1, "b") is None
            assert await store.queue_earlier("inbound", a2, "a") == a1
            assert await store.queue_earlier("inbound", a3, "a") == a1
            await store.queue_ack("inbound", a1)
            assert await store.queue_earlier("inbound", a3, "a") == a2
            await store.queue_ack("inbound", a2)
            assert await store.queue_earlier("inbound", a3, "a") is None
        finally:
            await store.close()

    asyncio.run(scenario())


def test_the_redis_scan_pages_through_a_long_backlog(redis_server):
    async def scenario():
        store = RedisStore.from_url(redis_server.url, conversation_ttl_s=3600, prefix=f"t{secrets.token_hex(4)}")
        try:
            first = await store.queue_push("inbound", {"conversation": "x"})
            for n in range(1200):
                await store.queue_push("inbound", {"conversation": f"other-{n}"})
            last = await store.queue_push("inbound", {"conversation": "x"})
            assert await store.queue_earlier("inbound", last, "x") == first
            await store.queue_ack("inbound", first)
            assert await store.queue_earlier("inbound", last, "x") is None
        finally:
            await store.close()

    asyncio.run(scenario())
