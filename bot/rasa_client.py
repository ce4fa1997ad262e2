"""A small async client for the parts of Rasa's HTTP API Safeline uses, across Rasa replicas.

With several replicas (RASA_URLS) every conversation always goes to the same one, chosen by
rendezvous hashing of its pseudonym: Rasa's open-source RedisLockStore is not safe when two
Rasa instances race for one conversation (RasaHQ/rasa PR 11256), and adding a replica moves only
the conversations that the new one wins (about 1/N of them).
"""
from __future__ import annotations

import hashlib
import logging
from typing import Any, Optional, Sequence, Union
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer (down, starting, overloaded or returned an error)."""


def replica_for(conversation: str, replicas: Sequence[str]) -> str:
    """The replica a conversation belongs to: the highest hash of (replica, conversation)."""
    def score(replica: str) -> bytes:
        return hashlib.blake2b(f"{replica}\n{conversation}".encode(), digest_size=8).digest()

    return max(replicas, key=score)


class RasaClient:
    """Talks to Rasa: the REST channel for messages, the tracker API for slots, per conversation."""

    def __init__(self, base_url: Union[str, Sequence[str]], timeout_s: float):
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise ValueError("at least one Rasa URL is needed")
        self.replicas = [url.rstrip("/") for url in urls]
        self.base_url = self.replicas[0]
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: Optional[aiohttp.ClientSession] = None
        # Bumped on every failure: Rasa may come back restarted, with empty in-memory trackers.
        self.generation = 0

    def _http(self) -> aiohttp.ClientSession:
        """One pooled HTTP session, created lazily inside the running event loop."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    def url_for(self, conversation: str) -> str:
        """The base URL of the replica that holds the conversation."""
        return self.replicas[0] if len(self.replicas) == 1 else replica_for(conversation, self.replicas)

    async def _request(self, method: str, path: str, payload: Any, conversation: Optional[str] = None) -> Any:
        """Send one request (to the conversation's replica); failures become RasaUnavailable."""
        base = self.url_for(conversation) if conversation is not None else self.base_url
        try:
            async with self._http().request(method, base + path, json=payload) as response:
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
        result = await self._request("POST", "/webhooks/rest/webhook", body, conversation)
        return result if isinstance(result, list) else []

    async def set_slots(self, conversation: str, slots: dict[str, Any]) -> None:
        """Set slots on the conversation's tracker (e.g. the language chosen by Safeline)."""
        events = [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
        await self._request("POST", f"/conversations/{quote(conversation)}/tracker/events", events, conversation)

    async def erase(self, conversation: str) -> None:
        """Replace the conversation's tracker with an empty one: Rasa keeps nothing of it."""
        await self._request("PUT", f"/conversations/{quote(conversation)}/tracker/events", [], conversation)

    async def parse(self, text: str) -> dict:
        """Rasa's NLU result for a text (intent, entities), without touching any tracker."""
        return await self._request("POST", "/model/parse", {"text": text})

    async def is_ready(self) -> bool:
        """True when every replica has loaded a model and answers."""
        for base in self.replicas:
            if not await self._replica_ready(base):
                return False
        return True

    async def _replica_ready(self, base: str) -> bool:
        """True when one replica has loaded a model and answers."""
        try:
            async with self._http().get(base + "/status") as response:
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
