"""The storage interface every Safeline store implements (embedded in-process, or Redis)."""
from __future__ import annotations

from typing import Any, Optional, Protocol


class Store(Protocol):
    """Conversation state and handoff requests, keyed by the conversation pseudonym only."""

    async def get_conversation(self, conversation: str) -> Optional[dict[str, Any]]:
        """The conversation's state (language, flags), or None if unknown or expired."""

    async def put_conversation(self, conversation: str, state: dict[str, Any]) -> None:
        """Save the conversation's state; it expires after the configured idle time."""

    async def add_handoff_request(self, conversation: str, request: dict[str, Any]) -> None:
        """Record that the person asked for a human, so the request is never lost."""

    async def list_handoff_requests(self) -> list[dict[str, Any]]:
        """All recorded handoff requests, oldest first."""

    async def delete_conversation(self, conversation: str) -> None:
        """Erase everything kept under this pseudonym."""

    async def close(self) -> None:
        """Release connections."""
