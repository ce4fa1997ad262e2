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


def _conversation(entry: Entry) -> str:
    """The conversation a queue entry belongs to (stream field `c`)."""
    return str(entry.get("conversation") or "")


class RedisStore:
    """`Store` on Redis 5+ (streams, consumer groups, SET NX EX, hashes, sorted sets)."""

    def __init__(self, client: "redis.Redis", conversation_ttl_s: int, prefix: str = "safeline"):
        self.client = client
        self.conversation_ttl_s = conversation_ttl_s
        self.prefix = prefix
        self._groups: set[str] = set()
        # Queues whose last claim failed: a lost XREADGROUP reply may have left entries pending
        # for the consumer, so its own pending entries are read again on the next claim.
        self._claim_failed: set[tuple[str, str]] = set()

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
        handoff_ids = list(await self.client.smembers(self.key("hoconv", conversation)))
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(*self._conversation_keys(conversation))
            pipe.zrem(self.key("handoff_index"), conversation)
            # The operator console's records of the conversation and its web chat mailbox.
            pipe.delete(self.key("hoconv", conversation), self.key("mbox", conversation),
                        *(self.key("ho", i) for i in handoff_ids))
            if handoff_ids:
                pipe.zrem(self.key("ho_index"), *handoff_ids)
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
            pipe.xadd(stream, {"json": _dumps(entry), "c": _conversation(entry)})
            pipe.expire(stream, self._queue_ttl())
            entry_id, _ = await pipe.execute()
        return entry_id

    # SET NX EX and XADD in one step: both happen or neither (a script runs atomically).
    _PUSH_ONCE = """
    if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return false end
    local id = redis.call('XADD', KEYS[2], '*', 'json', ARGV[2], 'c', ARGV[4])
    redis.call('EXPIRE', KEYS[2], ARGV[3])
    return id
    """

    async def queue_push_once(self, queue: str, entry: Entry, once_key: str, ttl_s: int) -> Optional[str]:
        """Claim the one-time key and XADD atomically (a Lua script); None if the key was claimed."""
        stream = self.key("q", queue)
        await self._ensure_group(stream)
        return await self.client.eval(self._PUSH_ONCE, 2, self.key("once", once_key), stream,
                                      max(1, int(ttl_s)), _dumps(entry), self._queue_ttl(), _conversation(entry))

    async def queue_earlier(self, queue: str, entry_id: str, conversation: str) -> Optional[str]:
        """XRANGE up to the entry: acknowledged entries are deleted, so what is left is unfinished.

        Entries carry their conversation in field `c` so the scan decodes no JSON.
        """
        stream = self.key("q", queue)
        start = "-"
        while True:
            batch = await self.client.xrange(stream, min=start, max="(" + entry_id, count=500)
            for other_id, fields in batch:
                owner = fields.get("c")
                if owner is None and fields.get("json"):  # queued before the field existed
                    owner = json.loads(fields["json"]).get("conversation")
                if owner == conversation:
                    return other_id
            if len(batch) < 500:
                return None
            start = "(" + batch[-1][0]

    @staticmethod
    def _entries(raw: Sequence[Any]) -> list[tuple[str, Entry]]:
        """Decode stream records, skipping ids whose entry was already deleted."""
        return [(entry_id, json.loads(fields["json"])) for entry_id, fields in raw if fields]

    async def queue_claim(self, queue: str, consumer: str, count: int, stale_after_s: float,
                          block_s: float = 0.0) -> list[tuple[str, Entry]]:
        """Stale claims first (XAUTOCLAIM), then new entries (XREADGROUP), oldest first.

        After a failed claim the consumer's own pending entries come first (XREADGROUP from id 0):
        Redis may have handed some out just before the connection broke. Callers ignore entries
        they are already working on.
        """
        try:
            return await self._claim(queue, consumer, count, stale_after_s, block_s)
        except Exception:
            self._claim_failed.add((queue, consumer))
            raise

    async def _claim(self, queue: str, consumer: str, count: int, stale_after_s: float,
                     block_s: float) -> list[tuple[str, Entry]]:
        """The claim itself (see queue_claim)."""
        stream = self.key("q", queue)
        await self._ensure_group(stream)
        taken: list[tuple[str, Entry]] = []
        if (queue, consumer) in self._claim_failed:
            reply = await self._reading(stream, lambda: self.client.xreadgroup(GROUP, consumer, {stream: "0"}))
            for _, records in reply or []:
                taken.extend(self._entries(records))
            self._claim_failed.discard((queue, consumer))
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
                pipe.xadd(self.key("q", target), {"json": _dumps(entry), "c": _conversation(entry)})
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

    # Handoff records (ho:<id>), their conversation links (hoconv:<c>) and index (ho_index).

    async def handoff_put(self, record: dict[str, Any], ttl_s: int) -> None:
        """SET the record with its expiry; link and index it for at least as long."""
        handoff_id, conversation = str(record["id"]), str(record["conversation"])
        ttl = max(1, int(ttl_s))
        linked = max(ttl, self.conversation_ttl_s)
        created = float(record.get("created_ts") or time.time())
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.key("ho", handoff_id), _dumps(record), ex=ttl)
            pipe.sadd(self.key("hoconv", conversation), handoff_id)
            pipe.expire(self.key("hoconv", conversation), linked)
            pipe.zadd(self.key("ho_index"), {handoff_id: created}, nx=True)
            pipe.expire(self.key("ho_index"), linked)
            await pipe.execute()

    async def handoff_get(self, handoff_id: str) -> Optional[dict[str, Any]]:
        """The record, or None."""
        raw = await self.client.get(self.key("ho", handoff_id))
        return json.loads(raw) if raw else None

    async def handoff_list(self) -> list[dict[str, Any]]:
        """Every live record, oldest first; index entries of expired records are dropped."""
        ids = await self.client.zrange(self.key("ho_index"), 0, -1)
        if not ids:
            return []
        raws = await self.client.mget([self.key("ho", i) for i in ids])
        gone = [i for i, raw in zip(ids, raws) if raw is None]
        if gone:
            await self.client.zrem(self.key("ho_index"), *gone)
        records = [json.loads(raw) for raw in raws if raw is not None]
        return sorted(records, key=lambda r: r.get("created_at", ""))

    async def handoff_ids_of(self, conversation: str) -> list[str]:
        """Ids of the conversation's live records."""
        ids = sorted(await self.client.smembers(self.key("hoconv", conversation)))
        if not ids:
            return []
        live = await self.client.mget([self.key("ho", i) for i in ids])
        return [i for i, raw in zip(ids, live) if raw is not None]

    async def handoff_delete(self, handoff_id: str) -> None:
        """Delete the record, its link and its index entry."""
        record = await self.handoff_get(handoff_id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(self.key("ho", handoff_id))
            if record and record.get("conversation"):
                pipe.srem(self.key("hoconv", str(record["conversation"])), handoff_id)
            pipe.zrem(self.key("ho_index"), handoff_id)
            await pipe.execute()

    # Web chat mailboxes (mbox:<c>), console sessions (sess:<key>) and rate-limit counters (hits:<key>).

    async def mailbox_push(self, conversation: str, message: dict[str, Any], ttl_s: int) -> None:
        """RPUSH and push the expiry out."""
        key = self.key("mbox", conversation)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.rpush(key, _dumps(message))
            pipe.expire(key, max(1, int(ttl_s)))
            await pipe.execute()

    async def mailbox_take(self, conversation: str) -> list[dict[str, Any]]:
        """LRANGE and DEL in one transaction."""
        key = self.key("mbox", conversation)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.lrange(key, 0, -1)
            pipe.delete(key)
            items, _ = await pipe.execute()
        return [json.loads(item) for item in items]

    async def session_put(self, key: str, session: dict[str, Any], ttl_s: int) -> None:
        """SET with the idle expiry."""
        await self.client.set(self.key("sess", key), _dumps(session), ex=max(1, int(ttl_s)))

    async def session_get(self, key: str) -> Optional[dict[str, Any]]:
        """The session, or None."""
        raw = await self.client.get(self.key("sess", key))
        return json.loads(raw) if raw else None

    async def session_delete(self, key: str) -> None:
        """DEL the session."""
        await self.client.delete(self.key("sess", key))

    async def hit(self, key: str, window_s: int) -> int:
        """INCR, with the expiry set by the first event of the window only (EXPIRE NX)."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(self.key("hits", key))
            pipe.expire(self.key("hits", key), max(1, int(window_s)), nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def hits(self, key: str) -> int:
        """The current count, 0 if none."""
        return int(await self.client.get(self.key("hits", key)) or 0)

    # Deliberately permanent (no expiry), under perm:: accounts, the audit log, statistics.

    async def account_get(self, username: str) -> Optional[dict[str, Any]]:
        """HGET perm:accounts."""
        raw = await self.client.hget(self.key("perm", "accounts"), username)
        return json.loads(raw) if raw else None

    async def account_put(self, username: str, account: dict[str, Any]) -> None:
        """HSET perm:accounts."""
        await self.client.hset(self.key("perm", "accounts"), username, _dumps(account))

    async def account_list(self) -> list[dict[str, Any]]:
        """Every account, by username."""
        raw = await self.client.hgetall(self.key("perm", "accounts"))
        return [json.loads(raw[name]) for name in sorted(raw)]

    async def audit_append(self, entry: dict[str, Any]) -> None:
        """RPUSH perm:audit (nothing in Safeline ever trims or rewrites it)."""
        await self.client.rpush(self.key("perm", "audit"), _dumps(entry))

    async def audit_list(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest entries first."""
        raw = await self.client.lrange(self.key("perm", "audit"), -max(1, limit), -1)
        return [json.loads(item) for item in reversed(raw)]

    async def stats_add(self, counters: Sequence[str]) -> None:
        """HINCRBY perm:stats for each counter, in one transaction."""
        if not counters:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            for name in counters:
                pipe.hincrby(self.key("perm", "stats"), name, 1)
            await pipe.execute()

    async def stats_get(self) -> dict[str, int]:
        """Every counter."""
        return {name: int(value) for name, value in (await self.client.hgetall(self.key("perm", "stats"))).items()}

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
            elif kind == "set":
                value = sorted(await self.client.smembers(key))
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
