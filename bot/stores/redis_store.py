"""Redis store: the production implementation of `bot.stores.base.Store`.

Every key starts with the configured prefix and carries an expiry, so nothing outlives its
retention even if a deletion is missed. Queues are Redis streams read through one consumer group,
so the entries a crashed worker had claimed are handed to another after `stale_after_s`.
"""
from __future__ import annotations

import json
import time
from typing import Any, Optional, Sequence

import redis.asyncio as redis
from redis.exceptions import ResponseError

from bot.stores.base import Entry

GROUP = "workers"
QUEUE_TTL_FLOOR_S = 24 * 3600  # a queue key outlives any single entry's processing by far


def _dumps(value: Any) -> str:
    """Compact JSON for values kept in Redis."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class RedisStore:
    """`Store` on Redis 5+ (streams, consumer groups, SET NX EX, hashes, sorted sets)."""

    def __init__(self, client: "redis.Redis", conversation_ttl_s: int, prefix: str = "safeline"):
        self.client = client
        self.conversation_ttl_s = conversation_ttl_s
        self.prefix = prefix
        self._groups: set[str] = set()

    @classmethod
    def from_url(cls, url: str, conversation_ttl_s: int, prefix: str = "safeline") -> "RedisStore":
        """Connect lazily to the Redis at `url` (connections open on first use)."""
        client = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30,
                                      socket_connect_timeout=5, retry_on_timeout=True)
        return cls(client, conversation_ttl_s, prefix)

    def key(self, kind: str, name: str = "") -> str:
        """A namespaced key: `<prefix>:<kind>:<name>`."""
        return f"{self.prefix}:{kind}:{name}" if name else f"{self.prefix}:{kind}"

    def _conversation_keys(self, conversation: str) -> list[str]:
        """Every key held under a pseudonym, Rasa's tracker included.

        Rasa's RedisTrackerStore (key_prefix "safeline", see bot/stack.py) keeps the tracker at
        `safeline:tracker:<sender>`, and since Rasa 3.6 it merges a saved tracker with the stored
        one, so replacing the events through Rasa's API cannot erase it: the key is deleted here.
        """
        kinds = ("conv", "handoffs", "addr", "prefs", "traces", "tracker")
        return [self.key(kind, conversation) for kind in kinds]

    async def ping(self) -> None:
        """Raise if Redis cannot be reached (used at start-up for a clear error)."""
        await self.client.ping()

    # Conversation state and handoff requests.

    async def get_conversation(self, conversation: str) -> Optional[dict[str, Any]]:
        """The conversation's state, or None if unknown or expired."""
        raw = await self.client.get(self.key("conv", conversation))
        return json.loads(raw) if raw else None

    async def put_conversation(self, conversation: str, state: dict[str, Any]) -> None:
        """Save state with the idle TTL."""
        await self.client.set(self.key("conv", conversation), _dumps(state), ex=self.conversation_ttl_s)

    async def add_handoff_request(self, conversation: str, request: dict[str, Any]) -> None:
        """Append a request and index the conversation, both expiring with the conversation."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.rpush(self.key("handoffs", conversation), _dumps(request))
            pipe.expire(self.key("handoffs", conversation), self.conversation_ttl_s)
            pipe.zadd(self.key("handoff_index"), {conversation: time.time()}, nx=True)
            pipe.expire(self.key("handoff_index"), self.conversation_ttl_s)
            await pipe.execute()

    async def list_handoff_requests(self) -> list[dict[str, Any]]:
        """Every live request, oldest first; index entries whose requests expired are dropped."""
        conversations = await self.client.zrange(self.key("handoff_index"), 0, -1)
        requests: list[dict[str, Any]] = []
        gone = []
        for conversation in conversations:
            items = await self.client.lrange(self.key("handoffs", conversation), 0, -1)
            if not items:
                gone.append(conversation)
            requests.extend(json.loads(item) for item in items)
        if gone:
            await self.client.zrem(self.key("handoff_index"), *gone)
        return sorted(requests, key=lambda r: r.get("created_at", ""))

    async def delete_conversation(self, conversation: str) -> None:
        """Erase every key under the pseudonym, at once."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(*self._conversation_keys(conversation))
            pipe.zrem(self.key("handoff_index"), conversation)
            await pipe.execute()

    # Queues: one stream per queue, one consumer group.

    async def _ensure_group(self, stream: str) -> None:
        """Create the stream and its consumer group once (idempotent)."""
        if stream in self._groups:
            return
        try:
            await self.client.xgroup_create(stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        # An idle queue must expire like every other key; pushes renew it.
        await self.client.expire(stream, self._queue_ttl(), nx=True)
        self._groups.add(stream)

    async def _reading(self, stream: str, read):
        """Run a group read, recreating the group once if an idle stream expired meanwhile."""
        try:
            return await read()
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._groups.discard(stream)
            await self._ensure_group(stream)
            return await read()

    def _queue_ttl(self) -> int:
        """Expiry of a queue key, renewed on every push."""
        return max(self.conversation_ttl_s, QUEUE_TTL_FLOOR_S)

    async def queue_push(self, queue: str, entry: Entry) -> str:
        """XADD the entry; the stream id is the entry id."""
        stream = self.key("q", queue)
        await self._ensure_group(stream)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xadd(stream, {"json": _dumps(entry)})
            pipe.expire(stream, self._queue_ttl())
            entry_id, _ = await pipe.execute()
        return entry_id

    @staticmethod
    def _entries(raw: Sequence[Any]) -> list[tuple[str, Entry]]:
        """Decode stream records, skipping ids whose entry was already deleted."""
        return [(entry_id, json.loads(fields["json"])) for entry_id, fields in raw if fields]

    async def queue_claim(self, queue: str, consumer: str, count: int, stale_after_s: float,
                          block_s: float = 0.0) -> list[tuple[str, Entry]]:
        """Stale claims first (XAUTOCLAIM), then new entries (XREADGROUP), oldest first."""
        stream = self.key("q", queue)
        await self._ensure_group(stream)
        taken: list[tuple[str, Entry]] = []
        start = "0-0"
        while len(taken) < count:
            reply = await self._reading(stream, lambda: self.client.xautoclaim(
                stream, GROUP, consumer, int(stale_after_s * 1000), start_id=start, count=count - len(taken)))
            start, claimed = reply[0], reply[1]
            taken.extend(self._entries(claimed))
            if start == "0-0":
                break
        if len(taken) < count:
            block = int(block_s * 1000) if block_s > 0 and not taken else None
            reply = await self._reading(stream, lambda: self.client.xreadgroup(
                GROUP, consumer, {stream: ">"}, count=count - len(taken), block=block))
            for _, records in reply or []:
                taken.extend(self._entries(records))
        return sorted(taken, key=lambda item: tuple(int(part) for part in item[0].split("-")))

    async def queue_touch(self, queue: str, consumer: str, entry_ids: Sequence[str]) -> None:
        """XCLAIM with min-idle 0 resets the idle time of claims still being worked on."""
        if entry_ids:
            await self.client.xclaim(self.key("q", queue), GROUP, consumer, 0, list(entry_ids), justid=True)

    async def queue_ack(self, queue: str, entry_id: str,
                        then_push: Sequence[tuple[str, Entry]] = ()) -> None:
        """Acknowledge, delete and push follow-ups in one transaction."""
        stream = self.key("q", queue)
        for target, _ in then_push:
            await self._ensure_group(self.key("q", target))
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xack(stream, GROUP, entry_id)
            pipe.xdel(stream, entry_id)
            for target, entry in then_push:
                pipe.xadd(self.key("q", target), {"json": _dumps(entry)})
                pipe.expire(self.key("q", target), self._queue_ttl())
            await pipe.execute()

    async def queue_depth(self, queue: str) -> int:
        """XLEN: acknowledged entries are deleted, so this counts the unfinished ones."""
        return int(await self.client.xlen(self.key("q", queue)))

    # One-time keys, sealed addresses, preferences, traces.

    async def claim_once(self, key: str, ttl_s: int) -> bool:
        """SET NX EX: True only for the first claim within the TTL."""
        return bool(await self.client.set(self.key("once", key), "1", nx=True, ex=max(1, int(ttl_s))))

    async def release_once(self, key: str) -> None:
        """Forget the claim."""
        await self.client.delete(self.key("once", key))

    async def put_address(self, conversation: str, sealed: str, ttl_s: int) -> None:
        """Keep the sealed (encrypted) address with its own expiry."""
        await self.client.set(self.key("addr", conversation), sealed, ex=max(1, int(ttl_s)))

    async def get_address(self, conversation: str) -> Optional[str]:
        """The sealed address, or None."""
        return await self.client.get(self.key("addr", conversation))

    async def delete_address(self, conversation: str) -> None:
        """Forget the address."""
        await self.client.delete(self.key("addr", conversation))

    async def get_prefs(self, conversation: str) -> dict[str, Any]:
        """The preference fields, decoded."""
        raw = await self.client.hgetall(self.key("prefs", conversation))
        return {name: json.loads(value) for name, value in raw.items()}

    async def update_prefs(self, conversation: str, changes: dict[str, Any], ttl_s: int) -> None:
        """HSET/HDEL the fields and push the expiry out, atomically."""
        key = self.key("prefs", conversation)
        removed = [name for name, value in changes.items() if value is None]
        kept = {name: _dumps(value) for name, value in changes.items() if value is not None}
        async with self.client.pipeline(transaction=True) as pipe:
            if removed:
                pipe.hdel(key, *removed)
            if kept:
                pipe.hset(key, mapping=kept)
            pipe.expire(key, max(1, int(ttl_s)))
            await pipe.execute()

    async def add_trace(self, conversation: str, ref: str, at: float, ttl_s: int) -> None:
        """ZADD the message id scored by its time, and push the expiry out."""
        key = self.key("traces", conversation)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {ref: at})
            pipe.expire(key, max(1, int(ttl_s)))
            await pipe.execute()

    async def take_traces(self, conversation: str) -> list[tuple[str, float]]:
        """Read and delete the message ids in one transaction, oldest first."""
        key = self.key("traces", conversation)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zrange(key, 0, -1, withscores=True)
            pipe.delete(key)
            items, _ = await pipe.execute()
        return [(ref, float(score)) for ref, score in items]

    async def export(self) -> dict[str, Any]:
        """Every key under the prefix with its type, value and TTL (privacy and retention tests)."""
        dump: dict[str, Any] = {}
        async for key in self.client.scan_iter(match=f"{self.prefix}:*", count=500):
            kind = await self.client.type(key)
            if kind == "string":
                value: Any = await self.client.get(key)
            elif kind == "list":
                value = await self.client.lrange(key, 0, -1)
            elif kind == "hash":
                value = await self.client.hgetall(key)
            elif kind == "zset":
                value = await self.client.zrange(key, 0, -1, withscores=True)
            elif kind == "stream":
                value = await self.client.xrange(key)
            else:
                value = None
            dump[key] = {"type": kind, "value": value, "ttl": await self.client.ttl(key)}
        return dump

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.close()
