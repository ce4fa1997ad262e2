"""A small async client for the parts of Rasa's HTTP API Safeline uses."""
from __future__ import annotations

import logging
from typing import Any, Optional
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer (down, starting, overloaded or returned an error)."""


class RasaClient:
    """Talks to one Rasa server: the REST channel for messages, the tracker API for slots."""

    def __init__(self, base_url: str, timeout_s: float):
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: Optional[aiohttp.ClientSession] = None
        # Bumped on every failure: Rasa may come back restarted, with empty in-memory trackers.
        self.generation = 0

    def _http(self) -> aiohttp.ClientSession:
        """One pooled HTTP session, created lazily inside the running event loop."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def _request(self, method: str, path: str, payload: Any) -> Any:
        """Send one request; any failure becomes RasaUnavailable without echoing content."""
        try:
            async with self._http().request(method, self.base_url + path, json=payload) as response:
                if response.status >= 400:
                    self.generation += 1
                    raise RasaUnavailable(f"Rasa answered {response.status} to {method} {path.split('/')[1]}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            self.generation += 1
            raise RasaUnavailable(f"Rasa unreachable: {type(exc).__name__}") from None

    async def send(self, conversation: str, text: str, metadata: Optional[dict] = None) -> list[dict]:
        """Send a user message through Rasa's REST channel; returns the bot's messages."""
        body = {"sender": conversation, "message": text, "metadata": metadata or {}}
        result = await self._request("POST", "/webhooks/rest/webhook", body)
        return result if isinstance(result, list) else []

    async def set_slots(self, conversation: str, slots: dict[str, Any]) -> None:
        """Set slots on the conversation's tracker (e.g. the language chosen by Safeline)."""
        events = [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
        await self._request("POST", f"/conversations/{quote(conversation)}/tracker/events", events)

    async def erase(self, conversation: str) -> None:
        """Replace the conversation's tracker with an empty one: Rasa keeps nothing of it."""
        await self._request("PUT", f"/conversations/{quote(conversation)}/tracker/events", [])

    async def parse(self, text: str) -> dict:
        """Rasa's NLU result for a text (intent, entities), without touching any tracker."""
        return await self._request("POST", "/model/parse", {"text": text})

    async def is_ready(self) -> bool:
        """True when Rasa has loaded a model and answers."""
        try:
            async with self._http().get(self.base_url + "/status") as response:
                if response.status != 200:
                    return False
                body = await response.json(content_type=None)
                return bool(body.get("model_file"))
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return False

    async def close(self) -> None:
        """Close the pooled connections."""
        if self._session is not None:
            await self._session.close()
