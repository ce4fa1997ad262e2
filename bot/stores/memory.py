"""In-process store: the embedded default of `make run`, with expiry but no server and no disk."""
from __future__ import annotations

import asyncio
import copy
import itertools
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Generic, Optional, Sequence, TypeVar

from bot.stores.base import Entry

V = TypeVar("V")


class _Expiring(Generic[V]):
    """A dict whose entries vanish after their time to live (checked lazily on access)."""

    SWEEP_EVERY = 1000  # puts between purges of expired items nobody asks for again (dedup keys)

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self._items: dict[str, tuple[float, V]] = {}
        self._puts = 0

    def __contains__(self, key: str) -> bool:
        """Is the key held, live or expired but not yet dropped?"""
        return key in self._items

    def get(self, key: str) -> Optional[V]:
        """The live value, or None (dropping it if expired)."""
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self.clock():
            del self._items[key]
            return None
        return item[1]

    def put(self, key: str, value: V, ttl_s: float) -> None:
        """Store a value until `ttl_s` from now (now and then dropping everything expired)."""
        self._items[key] = (self.clock() + ttl_s, value)
        self._puts += 1
        if self._puts % self.SWEEP_EVERY == 0:
            now = self.clock()
            for stale in [k for k, (expires_at, _) in self._items.items() if expires_at <= now]:
                del self._items[stale]

    def pop(self, key: str) -> Optional[V]:
        """Remove and return the live value."""
        value = self.get(key)
        self._items.pop(key, None)
        return value

    def incr(self, key: str, ttl_s: float) -> int:
        """Add one to a counter: a new one lives `ttl_s`, a live one keeps its expiry."""
        item = self._items.get(key)
        if item is None or item[0] <= self.clock():
            self.put(key, 1, ttl_s)  # type: ignore[arg-type]
            return 1
        count = int(item[1]) + 1  # type: ignore[call-overload]
        self._items[key] = (item[0], count)  # type: ignore[assignment]
        return count

    def live(self) -> dict[str, V]:
        """Every live key and value (for export)."""
        return {key: value for key in list(self._items) if (value := self.get(key)) is not None}


@dataclass
class _Claim:
    consumer: str
    at: float


class MemoryStore:
    """Dict-backed `Store`; state is lost when the process stops, by design for local use."""

    def __init__(self, conversation_ttl_s: int, clock: Callable[[], float] = time.monotonic):
        self.conversation_ttl_s = conversation_ttl_s
        self.clock = clock
        self._conversations: _Expiring[dict[str, Any]] = _Expiring(clock)
        self._handoffs: dict[str, list[dict[str, Any]]] = {}
        self._once: _Expiring[bool] = _Expiring(clock)
        self._addresses: _Expiring[str] = _Expiring(clock)
        self._prefs: _Expiring[dict[str, Any]] = _Expiring(clock)
        self._traces: _Expiring[list[tuple[str, float]]] = _Expiring(clock)
        self._queues: dict[str, OrderedDict[str, Entry]] = {}
        self._claims: dict[str, dict[str, _Claim]] = {}
        self._arrivals: dict[str, asyncio.Event] = {}
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        # Operator console: handoff records, web chat mailboxes, sessions, rate-limit counters …
        self._handoff_records: _Expiring[dict[str, Any]] = _Expiring(clock)
        self._mailboxes: _Expiring[list[dict[str, Any]]] = _Expiring(clock)
        self._sessions: _Expiring[dict[str, Any]] = _Expiring(clock)
        self._hits: _Expiring[int] = _Expiring(clock)
        # … and the deliberately permanent ones: accounts, the append-only audit log, statistics.
        self._accounts: dict[str, dict[str, Any]] = {}
        self._audit: list[dict[str, Any]] = []
        self._stats: dict[str, int] = {}

    async def get_conversation(self, conversation: str) -> Optional[dict[str, Any]]:
        """The conversation's state, or None if unknown or expired."""
        held = conversation in self._conversations
        state = self._conversations.get(conversation)
        if state is None:
            if held:  # expired: forget everything else kept under it too
                await self.delete_conversation(conversation)
            return None
        return copy.deepcopy(state)

    async def put_conversation(self, conversation: str, state: dict[str, Any]) -> None:
        """Save state and push its expiry out by the idle TTL."""
        self._conversations.put(conversation, copy.deepcopy(state), self.conversation_ttl_s)

    async def add_handoff_request(self, conversation: str, request: dict[str, Any]) -> None:
        """Append a handoff request under the conversation."""
        async with self._lock:
            self._handoffs.setdefault(conversation, []).append(copy.deepcopy(request))

    async def list_handoff_requests(self) -> list[dict[str, Any]]:
        """Every recorded request, oldest first."""
        requests = [r for rs in self._handoffs.values() for r in rs]
        return sorted(copy.deepcopy(requests), key=lambda r: r.get("created_at", ""))

    async def delete_conversation(self, conversation: str) -> None:
        """Forget the conversation and everything kept under its pseudonym."""
        async with self._lock:
            self._conversations.pop(conversation)
            self._handoffs.pop(conversation, None)
            self._addresses.pop(conversation)
            self._prefs.pop(conversation)
            self._traces.pop(conversation)
            self._mailboxes.pop(conversation)
            for handoff_id, record in self._handoff_records.live().items():
                if record.get("conversation") == conversation:
                    self._handoff_records.pop(handoff_id)

    # Queues.

    def _queue(self, queue: str) -> OrderedDict[str, Entry]:
        """The entries of a queue (created on first use)."""
        return self._queues.setdefault(queue, OrderedDict())

    def _arrival(self, queue: str) -> asyncio.Event:
        """Set whenever something is pushed to the queue, so claimers wake up at once."""
        return self._arrivals.setdefault(queue, asyncio.Event())

    def _push(self, queue: str, entry: Entry) -> str:
        """Append without waiting (used inside other operations to keep them atomic)."""
        entry_id = f"{next(self._ids):012d}"
        self._queue(queue)[entry_id] = copy.deepcopy(entry)
        self._arrival(queue).set()
        return entry_id

    async def queue_push(self, queue: str, entry: Entry) -> str:
        """Append an entry; ids sort in push order."""
        return self._push(queue, entry)

    async def queue_earlier(self, queue: str, entry_id: str, conversation: str) -> Optional[str]:
        """The first unacknowledged entry of the conversation before `entry_id` (ids sort as pushed)."""
        for other_id, entry in self._queue(queue).items():
            if other_id >= entry_id:
                return None
            if entry.get("conversation") == conversation:
                return other_id
        return None

    async def queue_push_once(self, queue: str, entry: Entry, once_key: str, ttl_s: int) -> Optional[str]:
        """Claim the key and append, with no await in between; None if the key was claimed."""
        if self._once.get(once_key):
            return None
        self._once.put(once_key, True, ttl_s)
        return self._push(queue, entry)

    def _take(self, queue: str, consumer: str, count: int, stale_after_s: float) -> list[tuple[str, Entry]]:
        """Claim stale entries first, then unclaimed ones, oldest first."""
        claims = self._claims.setdefault(queue, {})
        now = self.clock()
        stale = [i for i, c in claims.items() if now - c.at >= stale_after_s and i in self._queue(queue)]
        fresh = [i for i in self._queue(queue) if i not in claims]
        chosen = (sorted(stale) + fresh)[:count]
        for entry_id in chosen:
            claims[entry_id] = _Claim(consumer, now)
        return [(i, copy.deepcopy(self._queue(queue)[i])) for i in chosen]

    async def queue_claim(self, queue: str, consumer: str, count: int, stale_after_s: float,
                          block_s: float = 0.0) -> list[tuple[str, Entry]]:
        """Claim up to `count` entries, waiting up to `block_s` for one to arrive."""
        arrival = self._arrival(queue)
        arrival.clear()
        taken = self._take(queue, consumer, count, stale_after_s)
        if taken or block_s <= 0:
            return taken
        try:
            await asyncio.wait_for(arrival.wait(), block_s)
        except asyncio.TimeoutError:
            pass
        return self._take(queue, consumer, count, stale_after_s)

    async def queue_touch(self, queue: str, consumer: str, entry_ids: Sequence[str]) -> None:
        """Renew the claims so they are not handed to another consumer."""
        claims = self._claims.setdefault(queue, {})
        for entry_id in entry_ids:
            if entry_id in self._queue(queue):
                claims[entry_id] = _Claim(consumer, self.clock())

    async def queue_ack(self, queue: str, entry_id: str,
                        then_push: Sequence[tuple[str, Entry]] = ()) -> None:
        """Delete the entry and append the follow-ups in one step (no await in between)."""
        self._queue(queue).pop(entry_id, None)
        self._claims.setdefault(queue, {}).pop(entry_id, None)
        for target, entry in then_push:
            self._push(target, entry)

    async def queue_depth(self, queue: str) -> int:
        """Entries not yet acknowledged."""
        return len(self._queue(queue))

    # One-time keys, addresses, preferences, traces.

    async def claim_once(self, key: str, ttl_s: int) -> bool:
        """True unless the key was claimed within its TTL."""
        if self._once.get(key):
            return False
        self._once.put(key, True, ttl_s)
        return True

    async def release_once(self, key: str) -> None:
        """Forget the key."""
        self._once.pop(key)

    async def put_address(self, conversation: str, sealed: str, ttl_s: int) -> None:
        """Keep the sealed address until `ttl_s` from now."""
        self._addresses.put(conversation, sealed, ttl_s)

    async def get_address(self, conversation: str) -> Optional[str]:
        """The sealed address, if kept and not expired."""
        return self._addresses.get(conversation)

    async def delete_address(self, conversation: str) -> None:
        """Forget the address."""
        self._addresses.pop(conversation)

    async def get_prefs(self, conversation: str) -> dict[str, Any]:
        """The preferences, or {}."""
        return copy.deepcopy(self._prefs.get(conversation) or {})

    async def update_prefs(self, conversation: str, changes: dict[str, Any], ttl_s: int) -> None:
        """Merge the changes (None deletes a field) and push the expiry out."""
        prefs = self._prefs.get(conversation) or {}
        for name, value in changes.items():
            if value is None:
                prefs.pop(name, None)
            else:
                prefs[name] = copy.deepcopy(value)
        self._prefs.put(conversation, prefs, ttl_s)

    async def add_trace(self, conversation: str, ref: str, at: float, ttl_s: int) -> None:
        """Remember a message id with its time."""
        traces = self._traces.get(conversation) or []
        traces.append((ref, at))
        self._traces.put(conversation, traces, ttl_s)

    async def take_traces(self, conversation: str) -> list[tuple[str, float]]:
        """Remove and return the remembered message ids, oldest first."""
        return sorted(self._traces.pop(conversation) or [], key=lambda t: t[1])

    # Handoff records and web chat mailboxes.

    async def handoff_put(self, record: dict[str, Any], ttl_s: int) -> None:
        """Create or replace the record until `ttl_s` from now."""
        self._handoff_records.put(str(record["id"]), copy.deepcopy(record), ttl_s)

    async def handoff_get(self, handoff_id: str) -> Optional[dict[str, Any]]:
        """The record, or None."""
        return copy.deepcopy(self._handoff_records.get(handoff_id))

    async def handoff_list(self) -> list[dict[str, Any]]:
        """Every live record, oldest first."""
        records = copy.deepcopy(list(self._handoff_records.live().values()))
        return sorted(records, key=lambda r: r.get("created_at", ""))

    async def handoff_ids_of(self, conversation: str) -> list[str]:
        """Ids of the conversation's live records."""
        return [i for i, r in self._handoff_records.live().items() if r.get("conversation") == conversation]

    async def handoff_delete(self, handoff_id: str) -> None:
        """Forget the record."""
        self._handoff_records.pop(handoff_id)

    async def mailbox_push(self, conversation: str, message: dict[str, Any], ttl_s: int) -> None:
        """Append a message and push the mailbox's expiry out."""
        box = self._mailboxes.get(conversation) or []
        box.append(copy.deepcopy(message))
        self._mailboxes.put(conversation, box, ttl_s)

    async def mailbox_take(self, conversation: str) -> list[dict[str, Any]]:
        """Remove and return the waiting messages."""
        return self._mailboxes.pop(conversation) or []

    # Console sessions and rate limits.

    async def session_put(self, key: str, session: dict[str, Any], ttl_s: int) -> None:
        """Save the session until `ttl_s` from now."""
        self._sessions.put(key, copy.deepcopy(session), ttl_s)

    async def session_get(self, key: str) -> Optional[dict[str, Any]]:
        """The live session, or None."""
        return copy.deepcopy(self._sessions.get(key))

    async def session_delete(self, key: str) -> None:
        """Forget the session."""
        self._sessions.pop(key)

    async def hit(self, key: str, window_s: int) -> int:
        """Count an event; the window starts with the first event and is not extended."""
        return self._hits.incr(key, window_s)

    async def hits(self, key: str) -> int:
        """Events so far in the current window."""
        return self._hits.get(key) or 0

    # Permanent: accounts, audit log, statistics.

    async def account_get(self, username: str) -> Optional[dict[str, Any]]:
        """The account, or None."""
        return copy.deepcopy(self._accounts.get(username))

    async def account_put(self, username: str, account: dict[str, Any]) -> None:
        """Create or replace the account."""
        self._accounts[username] = copy.deepcopy(account)

    async def account_list(self) -> list[dict[str, Any]]:
        """Every account, by username."""
        return [copy.deepcopy(self._accounts[name]) for name in sorted(self._accounts)]

    async def audit_append(self, entry: dict[str, Any]) -> None:
        """Append an entry (never changed or removed)."""
        self._audit.append(copy.deepcopy(entry))

    async def audit_list(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest entries first."""
        return copy.deepcopy(self._audit[::-1][:limit])

    async def stats_add(self, counters: Sequence[str]) -> None:
        """Add one to each counter."""
        for name in counters:
            self._stats[name] = self._stats.get(name, 0) + 1

    async def stats_get(self) -> dict[str, int]:
        """Every counter."""
        return dict(self._stats)

    async def export(self) -> dict[str, Any]:
        """A deep copy of everything held, for privacy tests."""
        return copy.deepcopy({
            "handoff_records": self._handoff_records.live(),
            "mailboxes": self._mailboxes.live(),
            "sessions": self._sessions.live(),
            "hits": self._hits.live(),
            "accounts": self._accounts,
            "audit": self._audit,
            "stats": self._stats,
            "conversations": self._conversations.live(),
            "handoffs": self._handoffs,
            "once": sorted(self._once.live()),
            "addresses": self._addresses.live(),
            "prefs": self._prefs.live(),
            "traces": self._traces.live(),
            "queues": {name: dict(entries) for name, entries in self._queues.items()},
        })

    async def close(self) -> None:
        """Nothing to release."""
