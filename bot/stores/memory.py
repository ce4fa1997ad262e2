"""In-process store: the embedded default of `make run`, with expiry but no server and no disk."""
from __future__ import annotations

import asyncio
import copy
import time
from typing import Any, Callable, Optional


class MemoryStore:
    """Dict-backed `Store`; state is lost when the process stops, by design for local use."""

    def __init__(self, conversation_ttl_s: int, clock: Callable[[], float] = time.monotonic):
        self.conversation_ttl_s = conversation_ttl_s
        self.clock = clock
        self._conversations: dict[str, tuple[float, dict[str, Any]]] = {}
        self._handoffs: dict[str, list[dict[str, Any]]] = {}
        self._lock = asyncio.Lock()

    def _expired(self, expires_at: float) -> bool:
        """Has a record passed its expiry time?"""
        return expires_at <= self.clock()

    async def get_conversation(self, conversation: str) -> Optional[dict[str, Any]]:
        """The conversation's state, or None if unknown or expired."""
        entry = self._conversations.get(conversation)
        if entry is None:
            return None
        if self._expired(entry[0]):
            await self.delete_conversation(conversation)
            return None
        return copy.deepcopy(entry[1])

    async def put_conversation(self, conversation: str, state: dict[str, Any]) -> None:
        """Save state and push its expiry out by the idle TTL."""
        self._conversations[conversation] = (self.clock() + self.conversation_ttl_s, copy.deepcopy(state))

    async def add_handoff_request(self, conversation: str, request: dict[str, Any]) -> None:
        """Append a handoff request under the conversation."""
        async with self._lock:
            self._handoffs.setdefault(conversation, []).append(copy.deepcopy(request))

    async def list_handoff_requests(self) -> list[dict[str, Any]]:
        """Every recorded request, oldest first."""
        requests = [r for rs in self._handoffs.values() for r in rs]
        return sorted(copy.deepcopy(requests), key=lambda r: r.get("created_at", ""))

    async def delete_conversation(self, conversation: str) -> None:
        """Forget the conversation and its handoff requests."""
        async with self._lock:
            self._conversations.pop(conversation, None)
            self._handoffs.pop(conversation, None)

    async def close(self) -> None:
        """Nothing to release."""
