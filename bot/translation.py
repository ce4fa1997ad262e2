"""Client for the translator service (`python -m translator`, its own process and virtualenv).

The operator console shows each message's original with a machine translation beside it. A
translation is a help, never a condition for relaying: every failure (service down, slow, no package
for the pair, text too long) comes back as the original text marked untranslated, with the reason,
and nothing here raises into the relay.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Optional

import aiohttp

log = logging.getLogger(__name__)

# Why a text was not translated (`Translation.reason`).
SAME_LANGUAGE = "same_language"
NO_PACKAGE = "no_package"
TOO_LONG = "too_long"
UNAVAILABLE = "unavailable"
FAILED = "failed"
EMPTY = "empty"


@dataclass(frozen=True)
class Translation:
    """A text for display: the original always, the machine translation when there is one."""

    original: str
    text: str
    source: str
    target: str
    machine_translated: bool
    via: tuple[str, ...] = ()
    reason: Optional[str] = None
    detail: Optional[str] = field(default=None, compare=False)

    @property
    def translated(self) -> Optional[str]:
        """The machine translation, or None when `text` is just the original."""
        return self.text if self.machine_translated else None

    def transcript_fields(self) -> dict:
        """`{"text", "text_translated"?, "machine_translated", ...}` for a transcript entry (CONTRACTS §6)."""
        fields: dict = {"text": self.original, "machine_translated": self.machine_translated}
        if self.machine_translated:
            fields["text_translated"] = self.text
            fields["translation_via"] = list(self.via)
        elif self.reason not in (None, SAME_LANGUAGE, EMPTY):
            fields["untranslated_reason"] = self.reason
        return fields


def untranslated(text: str, source: str, target: str, reason: str, detail: Optional[str] = None) -> Translation:
    """The original text, marked as not translated and why."""
    return Translation(text, text, source, target, False, (source,), reason, detail)


class TranslationClient:
    """Asks the translator service over loopback HTTP; never raises on the service's account."""

    def __init__(self, base_url: str, timeout_s: float):
        self.base_url = base_url.rstrip("/")
        # Connecting to loopback is instant or refused; only translation itself may take a while.
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(1.0, timeout_s))
        self._session: Optional[aiohttp.ClientSession] = None

    def _http(self) -> aiohttp.ClientSession:
        """One pooled HTTP session, created lazily inside the running event loop."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def translate(self, text: str, source: str, target: str) -> Translation:
        """`text` translated from `source` into `target`, or the original marked untranslated."""
        if source == target:
            return untranslated(text, source, target, SAME_LANGUAGE)
        if not text.strip():
            return untranslated(text, source, target, EMPTY)
        if not source or not target:
            return untranslated(text, source, target, NO_PACKAGE, "language unknown")
        body = {"text": text, "source": source, "target": target}
        try:
            async with self._http().post(self.base_url + "/translate", json=body) as response:
                answer = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, TimeoutError, ValueError, OSError) as exc:
            log.warning("translator unreachable for %s→%s: %s", source, target, type(exc).__name__)
            return untranslated(text, source, target, UNAVAILABLE, "the translation service is not answering")
        except Exception as exc:  # noqa: BLE001 - a translation problem must never stop a message
            log.error("translator call %s→%s failed: %s", source, target, type(exc).__name__)
            return untranslated(text, source, target, FAILED, "translation failed")
        return _from_answer(text, source, target, status, answer)

    async def languages(self) -> Optional[list[dict]]:
        """The pairs the service can translate (`[{"source","target","via"}]`), or None if it is down."""
        try:
            async with self._http().get(self.base_url + "/languages") as response:
                if response.status != 200:
                    return None
                answer = await response.json(content_type=None)
                return list(answer.get("pairs", []))
        except Exception:  # noqa: BLE001 - "unknown" is the honest answer when it is down
            return None

    async def close(self) -> None:
        """Close the pooled connections."""
        if self._session is not None:
            await self._session.close()


def _from_answer(text: str, source: str, target: str, status: int, answer: object) -> Translation:
    """Turn the service's JSON answer into a Translation; anything unexpected is 'failed'."""
    if not isinstance(answer, dict):
        return untranslated(text, source, target, FAILED, "translation failed")
    if status == 200 and isinstance(answer.get("text"), str):
        if not answer.get("machine_translated"):
            return untranslated(text, source, target, SAME_LANGUAGE)
        via = tuple(code for code in answer.get("via", []) if isinstance(code, str))
        return Translation(text, answer["text"], source, target, True, via)
    error = answer.get("error") if isinstance(answer.get("error"), str) else None
    if status == 422:
        return untranslated(text, source, target, NO_PACKAGE, error or f"no translation package for {source}→{target}")
    if status == 413:
        return untranslated(text, source, target, TOO_LONG, error)
    log.warning("translator answered %s for %s→%s", status, source, target)
    return untranslated(text, source, target, FAILED, error or "translation failed")
