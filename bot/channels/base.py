"""What every messaging channel gives the worker: read an inbound entry, shape replies, deliver them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Protocol

from aiohttp import web

# Bot API and carriers refuse to touch messages older than this; traces are kept no longer.
TRACE_TTL_S = 48 * 3600


@dataclass
class Step:
    """What to do with one inbound entry, decided by its channel before anything is sent."""

    rasa_text: Optional[str] = None  # give this text to Rasa (through the gateway) …
    respond: Optional[str] = None  # … or answer with this locale response …
    messages: Optional[list[dict[str, Any]]] = None  # … or with these ready messages
    values: dict[str, Any] = field(default_factory=dict)  # placeholders for `respond`
    prefs: dict[str, Any] = field(default_factory=dict)  # preference changes to save first
    continuation: bool = False  # the messages continue an earlier reply (keep its options)
    forget_address: bool = False  # the person opted out: keep no way to reach them
    silent: bool = False  # nothing is sent back


@dataclass
class Composition:
    """Replies shaped for a channel: one payload per message to send, and preference changes."""

    payloads: list[dict[str, Any]]
    prefs: dict[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """A send failed; `retry` says whether trying again can help, `after` how long to wait."""

    def __init__(self, reason: str, retry: bool, after: Optional[float] = None):
        super().__init__(reason)
        self.retry = retry
        self.after = after


class Channel(Protocol):
    """A messaging channel (Telegram, SMS) as the worker uses it."""

    name: str
    erased_notice: str  # locale response telling the person what erasure did on this channel

    def routes(self) -> list[web.RouteDef]:
        """The channel's webhook route(s) on the public site."""

    def interpret(self, entry: dict[str, Any], prefs: dict[str, Any]) -> Step:
        """Decide what an inbound entry means (a text for Rasa, a command, a keyword …)."""

    def compose(self, messages: list[dict[str, Any]], language: str, prefs: dict[str, Any], *,
                operator: bool = False, continuation: bool = False) -> Composition:
        """Shape bot messages for the channel (neutral wording, buttons, size limits)."""

    async def deliver(self, address: str, payload: dict[str, Any], entry: dict[str, Any]) -> list[str]:
        """Send one payload; returns the channel's ids of what was sent (for later erasure)."""

    async def erase_traces(self, address: str, refs: list[str]) -> None:
        """Delete sent and received messages remotely, where the channel allows it."""

    async def close(self) -> None:
        """Release connections."""
