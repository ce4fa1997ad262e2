"""The same contract for both stores: in-process (embedded default) and Redis (production)."""
from __future__ import annotations

import asyncio
import secrets
from typing import AsyncIterator

from bot.stores.redis_store import RedisStore
from store_fixtures import store  # noqa: F401  (the fixture: both stores)


def run(coro):
    return asyncio.run(coro)


async def _closing(store, coro):
    try:
        return await coro
    finally:
        await store.close()


def test_conversation_state_round_trips_and_is_erased_with_everything_under_the_pseudonym(store):
    async def scenario():
        await store.put_conversation("c1", {"language": {"language": "es"}})
        await store.add_handoff_request("c1", {"conversation": "c1", "created_at": "2026-01-01T00:00:00"})
        await store.put_address("c1", "sealed-token", 60)
        await store.update_prefs("c1", {"discreet": True}, 60)
        await store.add_trace("c1", "msg-1", 1.0, 60)
        await store.put_conversation("c2", {"language": {"language": "th"}})
        assert (await store.get_conversation("c1"))["language"]["language"] == "es"
        assert len(await store.list_handoff_requests()) == 1
        await store.delete_conversation("c1")
        assert await store.get_conversation("c1") is None
        assert await store.list_handoff_requests() == []
        assert await store.get_address("c1") is None
        assert await store.get_prefs("c1") == {}
        assert await store.take_traces("c1") == []
        assert await store.get_conversation("c2") is not None
    run(_closing(store, scenario()))


def test_handoff_requests_are_listed_oldest_first(store):
    async def scenario():
        await store.add_handoff_request("b", {"conversation": "b", "created_at": "2026-01-02T00:00:00"})
        await store.add_handoff_request("a", {"conversation": "a", "created_at": "2026-01-01T00:00:00"})
        assert [r["conversation"] for r in await store.list_handoff_requests()] == ["a", "b"]
    run(_closing(store, scenario()))


def test_queue_delivers_in_order_and_ack_removes(store):
    async def scenario():
        ids = [await store.queue_push("inbound", {"n": n}) for n in range(5)]
        claimed = await store.queue_claim("inbound", "w1", count=10, stale_after_s=30)
        assert [e["n"] for _, e in claimed] == [0, 1, 2, 3, 4]
        assert [i for i, _ in claimed] == ids
        assert await store.queue_claim("inbound", "w2", count=10, stale_after_s=30) == []
        for entry_id, _ in claimed:
            await store.queue_ack("inbound", entry_id)
        assert await store.queue_depth("inbound") == 0
    run(_closing(store, scenario()))


def test_a_crashed_workers_entries_are_redelivered_after_they_go_stale(store):
    async def scenario():
        await store.queue_push("inbound", {"n": 1})
        first = await store.queue_claim("inbound", "crashed", count=1, stale_after_s=0.2)
        assert [e for _, e in first] == [{"n": 1}]
        assert await store.queue_claim("inbound", "other", count=1, stale_after_s=0.2) == []
        await asyncio.sleep(0.3)
        again = await store.queue_claim("inbound", "other", count=1, stale_after_s=0.2)
        assert again == first
    run(_closing(store, scenario()))


def test_touch_keeps_a_live_claim_from_going_stale(store):
    async def scenario():
        await store.queue_push("inbound", {"n": 1})
        (entry_id, _), = await store.queue_claim("inbound", "w1", count=1, stale_after_s=0.3)
        await asyncio.sleep(0.2)
        await store.queue_touch("inbound", "w1", [entry_id])
        await asyncio.sleep(0.2)
        assert await store.queue_claim("inbound", "w2", count=1, stale_after_s=0.3) == []
    run(_closing(store, scenario()))


def test_ack_pushes_follow_ups_atomically(store):
    async def scenario():
        entry_id = await store.queue_push("inbound", {"n": 1})
        await store.queue_claim("inbound", "w1", count=1, stale_after_s=30)
        await store.queue_ack("inbound", entry_id, then_push=[("outbound", {"reply": 1}), ("outbound", {"reply": 2})])
        out = await store.queue_claim("outbound", "w1", count=5, stale_after_s=30)
        assert [e["reply"] for _, e in out] == [1, 2]
        assert await store.queue_depth("inbound") == 0
    run(_closing(store, scenario()))


def test_blocking_claim_wakes_up_for_a_new_entry(store):
    async def scenario():
        async def push_later():
            await asyncio.sleep(0.1)
            await store.queue_push("inbound", {"n": 7})
        pusher = asyncio.create_task(push_later())
        got = await store.queue_claim("inbound", "w1", count=1, stale_after_s=30, block_s=2)
        await pusher
        assert [e for _, e in got] == [{"n": 7}]
    run(_closing(store, scenario()))


def test_claim_once_deduplicates_until_released(store):
    async def scenario():
        assert await store.claim_once("tg:update:42", 60)
        assert not await store.claim_once("tg:update:42", 60)
        await store.release_once("tg:update:42")
        assert await store.claim_once("tg:update:42", 60)
    run(_closing(store, scenario()))


def test_prefs_merge_and_none_deletes(store):
    async def scenario():
        await store.update_prefs("c", {"discreet": True, "code_word": "lemon"}, 60)
        await store.update_prefs("c", {"code_word": None, "last_seen": 5}, 60)
        assert await store.get_prefs("c") == {"discreet": True, "last_seen": 5}
    run(_closing(store, scenario()))


def test_traces_are_taken_once_oldest_first(store):
    async def scenario():
        await store.add_trace("c", "b", 2.0, 60)
        await store.add_trace("c", "a", 1.0, 60)
        assert await store.take_traces("c") == [("a", 1.0), ("b", 2.0)]
        assert await store.take_traces("c") == []
    run(_closing(store, scenario()))


def test_every_redis_key_has_a_ttl_and_a_known_prefix(redis_server):
    prefix = f"t{secrets.token_hex(4)}"
    store = RedisStore.from_url(redis_server.url, conversation_ttl_s=3600, prefix=prefix)

    async def scenario():
        for n in range(10):
            conversation = f"conv{n}"
            await store.put_conversation(conversation, {"n": n})
            await store.add_handoff_request(conversation, {"conversation": conversation, "created_at": str(n)})
            await store.put_address(conversation, "sealed", 60)
            await store.update_prefs(conversation, {"discreet": True}, 60)
            await store.add_trace(conversation, f"m{n}", float(n), 60)
            await store.claim_once(f"dedup{n}", 60)
            entry_id = await store.queue_push("inbound", {"conversation": conversation})
            await store.queue_claim("inbound", "w", count=1, stale_after_s=30)
            await store.queue_ack("inbound", entry_id, then_push=[("outbound", {"conversation": conversation})])
            await store.handoff_put({"id": f"h{n}", "conversation": conversation, "created_at": str(n)}, 60)
            await store.mailbox_push(conversation, {"text": "hi"}, 60)
            await store.session_put(f"s{n}", {"username": "op"}, 60)
            await store.hit(f"login:{n}", 60)
        # Deliberately permanent, under the perm: prefix only.
        await store.account_put("op", {"username": "op"})
        await store.audit_append({"action": "login"})
        await store.stats_add(["outcome:referred"])
        dump = await store.export()
        known = {"conv", "handoffs", "handoff_index", "addr", "prefs", "traces", "once", "q",
                 "ho", "hoconv", "ho_index", "mbox", "sess", "hits"}
        permanent = {f"{prefix}:perm:accounts", f"{prefix}:perm:audit", f"{prefix}:perm:stats"}
        assert dump
        assert permanent <= set(dump)
        for key, info in dump.items():
            if key in permanent:
                assert info["ttl"] == -1, f"{key} must not expire"
                continue
            assert key.split(":")[1] in known, key
            assert info["ttl"] > 0, f"{key} has no expiry"
    run(_closing(store, scenario()))


def test_handoff_records_round_trip_are_listed_oldest_first_and_found_by_conversation(store):
    async def scenario():
        await store.handoff_put({"id": "h2", "conversation": "c2", "created_at": "2026-01-02T00:00:00"}, 60)
        await store.handoff_put({"id": "h1", "conversation": "c1", "created_at": "2026-01-01T00:00:00"}, 60)
        await store.handoff_put({"id": "h3", "conversation": "c1", "created_at": "2026-01-03T00:00:00"}, 60)
        assert [r["id"] for r in await store.handoff_list()] == ["h1", "h2", "h3"]
        assert sorted(await store.handoff_ids_of("c1")) == ["h1", "h3"]
        await store.handoff_put({"id": "h1", "conversation": "c1", "created_at": "2026-01-01T00:00:00",
                                 "status": "claimed"}, 60)
        assert (await store.handoff_get("h1"))["status"] == "claimed"
        await store.handoff_delete("h1")
        assert await store.handoff_get("h1") is None
        assert await store.handoff_ids_of("c1") == ["h3"]
        assert [r["id"] for r in await store.handoff_list()] == ["h2", "h3"]
    run(_closing(store, scenario()))


def test_a_handoff_record_expires_with_its_retention(store):
    async def scenario():
        await store.handoff_put({"id": "h", "conversation": "c", "created_at": "x"}, 1)
        await asyncio.sleep(1.3)
        assert await store.handoff_get("h") is None
        assert await store.handoff_list() == []
        assert await store.handoff_ids_of("c") == []
    run(_closing(store, scenario()))


def test_erasing_a_conversation_deletes_its_handoffs_and_mailbox_but_not_accounts_audit_or_stats(store):
    async def scenario():
        await store.handoff_put({"id": "h", "conversation": "c", "created_at": "x"}, 60)
        await store.handoff_put({"id": "other", "conversation": "d", "created_at": "y"}, 60)
        await store.mailbox_push("c", {"text": "from the team"}, 60)
        await store.account_put("op", {"username": "op", "role": "operator"})
        await store.audit_append({"action": "view", "case": "h"})
        await store.stats_add(["outcome:referred", "channel:webchat"])
        await store.delete_conversation("c")
        assert await store.handoff_get("h") is None
        assert await store.handoff_get("other") is not None
        assert await store.mailbox_take("c") == []
        assert (await store.account_get("op"))["role"] == "operator"
        assert await store.audit_list() == [{"action": "view", "case": "h"}]
        assert await store.stats_get() == {"outcome:referred": 1, "channel:webchat": 1}
    run(_closing(store, scenario()))


def test_mailbox_is_taken_once_in_order(store):
    async def scenario():
        await store.mailbox_push("c", {"n": 1}, 60)
        await store.mailbox_push("c", {"n": 2}, 60)
        assert await store.mailbox_take("c") == [{"n": 1}, {"n": 2}]
        assert await store.mailbox_take("c") == []
    run(_closing(store, scenario()))


def test_sessions_and_rate_limit_windows(store):
    async def scenario():
        await store.session_put("k", {"username": "op"}, 60)
        assert (await store.session_get("k"))["username"] == "op"
        await store.session_delete("k")
        assert await store.session_get("k") is None
        assert [await store.hit("ip:1", 1) for _ in range(3)] == [1, 2, 3]
        assert await store.hits("ip:1") == 3
        await asyncio.sleep(1.3)  # the window started with the first hit and was not extended
        assert await store.hits("ip:1") == 0
        assert await store.hit("ip:1", 1) == 1
    run(_closing(store, scenario()))


def test_audit_is_append_only_newest_first_and_accounts_and_stats_accumulate(store):
    async def scenario():
        for n in range(5):
            await store.audit_append({"n": n})
        assert [e["n"] for e in await store.audit_list(limit=3)] == [4, 3, 2]
        assert not hasattr(store, "audit_delete")
        await store.account_put("b", {"username": "b"})
        await store.account_put("a", {"username": "a"})
        assert [a["username"] for a in await store.account_list()] == ["a", "b"]
        await store.stats_add(["form:forced_labour"])
        await store.stats_add(["form:forced_labour", "urgency:high"])
        assert await store.stats_get() == {"form:forced_labour": 2, "urgency:high": 1}
    run(_closing(store, scenario()))


def test_an_idle_redis_queue_expires_and_comes_back_when_used_again(redis_server):
    store = RedisStore.from_url(redis_server.url, conversation_ttl_s=3600, prefix=f"t{secrets.token_hex(4)}")

    async def scenario():
        assert await store.queue_claim("idle", "w", count=1, stale_after_s=30) == []
        assert await store.client.ttl(store.key("q", "idle")) > 0
        await store.client.delete(store.key("q", "idle"))  # as if it expired
        assert await store.queue_claim("idle", "w", count=1, stale_after_s=30) == []
        await store.queue_push("idle", {"n": 1})
        assert [e for _, e in await store.queue_claim("idle", "w", count=1, stale_after_s=30)] == [{"n": 1}]
    run(_closing(store, scenario()))
