"""The storage interface every Safeline store implements (embedded in-process, or Redis).

Everything is keyed by the conversation pseudonym or by hashed keys: no store method ever receives a
phone number or a Telegram id in the clear (addresses arrive sealed by `bot.address_vault`).
Each group of methods names the Redis structure it is meant to map onto.
"""
from __future__ import annotations

from typing import Any, Optional, Protocol, Sequence

Entry = dict[str, Any]


class Store(Protocol):
    """Conversation state, handoff requests, channel queues and channel records, by pseudonym only."""

    async def get_conversation(self, conversation: str) -> Optional[dict[str, Any]]:
        """The conversation's state (language, flags), or None if unknown or expired."""

    async def put_conversation(self, conversation: str, state: dict[str, Any]) -> None:
        """Save the conversation's state; it expires after the configured idle time."""

    async def add_handoff_request(self, conversation: str, request: dict[str, Any]) -> None:
        """Record that the person asked for a human, so the request is never lost."""

    async def list_handoff_requests(self) -> list[dict[str, Any]]:
        """All recorded handoff requests, oldest first."""

    async def delete_conversation(self, conversation: str) -> None:
        """Erase everything kept under this pseudonym: state, handoff requests and records, prefs,
        address, traces, web chat mailbox."""

    # Durable queues (Redis: one stream per queue with a consumer group; ids are stream ids).

    async def queue_push(self, queue: str, entry: Entry) -> str:
        """Append an entry and return its id (XADD)."""

    async def queue_earlier(self, queue: str, entry_id: str, conversation: str) -> Optional[str]:
        """The id of an unfinished entry of the same conversation queued before `entry_id`, if any.

        Workers start a conversation's entry only when there is none, so however many workers share
        the queue, a conversation's entries run one at a time and in order.
        """

    async def queue_push_once(self, queue: str, entry: Entry, once_key: str, ttl_s: int) -> Optional[str]:
        """Claim `once_key` (as `claim_once`) and append the entry in one atomic step; None for a repeat.

        Webhooks use it so a crash between de-duplication and queueing cannot turn the platform's
        retry into a "repeat" of a message that was never queued.
        """

    async def queue_claim(self, queue: str, consumer: str, count: int, stale_after_s: float,
                          block_s: float = 0.0) -> list[tuple[str, Entry]]:
        """Up to `count` entries for this consumer, oldest first: claims left stale by a stopped
        worker first (XAUTOCLAIM min-idle), then new ones (XREADGROUP >), waiting up to `block_s`."""

    async def queue_touch(self, queue: str, consumer: str, entry_ids: Sequence[str]) -> None:
        """Renew claims still being worked on so they do not go stale (XCLAIM … JUSTID)."""

    async def queue_ack(self, queue: str, entry_id: str,
                        then_push: Sequence[tuple[str, Entry]] = ()) -> None:
        """Finish an entry and atomically append follow-ups (MULTI XACK XDEL XADD… EXEC)."""

    async def queue_depth(self, queue: str) -> int:
        """Entries pushed and not yet acknowledged (XLEN, since acknowledged entries are deleted)."""

    # One-time keys (Redis: SET key 1 NX EX ttl / DEL).

    async def claim_once(self, key: str, ttl_s: int) -> bool:
        """True the first time a key is claimed within `ttl_s`, False for a repeat (dedup)."""

    async def release_once(self, key: str) -> None:
        """Forget a claimed key, so that a retry of a request that failed is accepted."""

    # Sealed channel addresses (Redis: SET addr:<conversation> token EX ttl).

    async def put_address(self, conversation: str, sealed: str, ttl_s: int) -> None:
        """Keep the conversation's sealed address so an operator can reply later."""

    async def get_address(self, conversation: str) -> Optional[str]:
        """The sealed address, or None if unknown or expired."""

    async def delete_address(self, conversation: str) -> None:
        """Forget the address (the person opted out, or the conversation is erased)."""

    # Channel preferences and activity (Redis: HSET prefs:<conversation> field json + EXPIRE).

    async def get_prefs(self, conversation: str) -> dict[str, Any]:
        """Per-conversation channel preferences (discreet, code word, last activity …); {} if none."""

    async def update_prefs(self, conversation: str, changes: dict[str, Any], ttl_s: int) -> None:
        """Set the given fields (a None value deletes the field) and push the expiry out."""

    # Message traces for remote deletion (Redis: ZADD traces:<conversation> sent_at ref + EXPIRE).

    async def add_trace(self, conversation: str, ref: str, at: float, ttl_s: int) -> None:
        """Remember a channel message id (sent or received at `at`, epoch seconds) for erasure."""

    async def take_traces(self, conversation: str) -> list[tuple[str, float]]:
        """Remove and return the remembered message ids with their times, oldest first."""

    # Handoff records of the operator console (bot/handoffs.py). Redis: ho:<id> JSON + EX,
    # hoconv:<conversation> set of ids + EX, ho_index sorted set of ids + EX.

    async def handoff_put(self, record: dict[str, Any], ttl_s: int) -> None:
        """Create or replace a handoff (keyed by record["id"], linked to record["conversation"])."""

    async def handoff_get(self, handoff_id: str) -> Optional[dict[str, Any]]:
        """A handoff record, or None if unknown, deleted or expired."""

    async def handoff_list(self) -> list[dict[str, Any]]:
        """Every live handoff record, oldest first."""

    async def handoff_ids_of(self, conversation: str) -> list[str]:
        """Ids of the conversation's live handoff records."""

    async def handoff_delete(self, handoff_id: str) -> None:
        """Delete a handoff record and its link to the conversation."""

    # Web chat mailbox: operator messages waiting for the person's page (Redis: list mbox:<c> + EX).

    async def mailbox_push(self, conversation: str, message: dict[str, Any], ttl_s: int) -> None:
        """Queue a message for the conversation's web chat page."""

    async def mailbox_take(self, conversation: str) -> list[dict[str, Any]]:
        """Remove and return the queued messages, oldest first."""

    # Console sessions and rate limits (Redis: sess:<key> JSON + EX; hits:<key> INCR + EX).

    async def session_put(self, key: str, session: dict[str, Any], ttl_s: int) -> None:
        """Save a console session under a hashed key, pushing its expiry out."""

    async def session_get(self, key: str) -> Optional[dict[str, Any]]:
        """A live console session, or None."""

    async def session_delete(self, key: str) -> None:
        """End a console session."""

    async def hit(self, key: str, window_s: int) -> int:
        """Count one event in a fixed window that starts with the first; returns the count so far."""

    async def hits(self, key: str) -> int:
        """Events counted so far in the key's current window (0 if none)."""

    # Permanent records, deliberately without expiry: operator accounts (Redis hash perm:accounts),
    # the append-only audit log (list perm:audit) and anonymous statistics (hash perm:stats).

    async def account_get(self, username: str) -> Optional[dict[str, Any]]:
        """An operator or supervisor account, or None."""

    async def account_put(self, username: str, account: dict[str, Any]) -> None:
        """Create or update an account."""

    async def account_list(self) -> list[dict[str, Any]]:
        """Every account, by username."""

    async def audit_append(self, entry: dict[str, Any]) -> None:
        """Append an audit entry; there is no way to change or delete one."""

    async def audit_list(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest audit entries, newest first."""

    async def stats_add(self, counters: Sequence[str]) -> None:
        """Add one to each named counter (e.g. `outcome:referred`)."""

    async def stats_get(self) -> dict[str, int]:
        """Every counter."""

    async def export(self) -> dict[str, Any]:
        """Everything the store holds, for privacy tests (only served when explicitly enabled)."""

    async def close(self) -> None:
        """Release connections."""
