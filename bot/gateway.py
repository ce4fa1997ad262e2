"""The gateway: one inbound text from any channel in, the bot's reply out.

It owns what Rasa should not: the conversation's language (detected here, sticky, passed to Rasa
as the `language` slot that the NLG endpoint renders by), and the effects that custom actions ask
for through control messages (a language chosen on purpose, a handoff request, an erasure).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable, Optional, Protocol

from actions.control import CONTROL_KEY
from bot.config import Settings
from bot.language import LanguagePolicy, LanguageState
from bot.locales import Catalog
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.stores.base import Store

log = logging.getLogger(__name__)

_PAYLOAD = re.compile(r"^/[a-z_]+(\{.*\})?$", re.DOTALL)
_CHANGE_LANGUAGE_PAYLOAD = re.compile(r"^/change_language(\{.*\})$", re.DOTALL)


@dataclass
class Reply:
    """What the bot answers to one inbound message."""

    messages: list[dict[str, Any]]
    language: str
    erased: bool = False
    controls: list[dict[str, Any]] = field(default_factory=list)


def clean_text(text: str, max_chars: int) -> str:
    """Normalise Unicode, drop control characters, trim and cap the length Rasa will see."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return text.strip()[:max_chars]


def _requested_language(payload: str) -> Optional[str]:
    """The language code in a `/change_language{"language": "xx"}` button payload, if any."""
    match = _CHANGE_LANGUAGE_PAYLOAD.match(payload)
    if not match:
        return None
    try:
        value = json.loads(match.group(1)).get("language")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _now() -> str:
    """Current time, ISO 8601 UTC."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _screening_summary(summary: dict[str, Any], conversation: str, channel: str,
                       state: LanguageState) -> dict[str, Any]:
    """A screening's handoff summary (CONTRACTS §6), with what only the gateway knows for sure.

    The action built it from the tracker; the conversation's pseudonym, channel and language
    state are the gateway's, so they overwrite whatever the tracker had.
    """
    return {**summary, "conversation": conversation, "channel": channel,
            "interpreter_needed": bool(summary.get("interpreter_needed")) or state.interpreter_needed,
            "status": summary.get("status") or "open", "created_at": summary.get("created_at") or _now()}


class Relay(Protocol):
    """The operator console's side of a turn (bot/handoffs.py: HandoffService)."""

    async def intercept(self, channel: str, conversation: str, text: str,
                        state: LanguageState) -> Optional[list[dict[str, Any]]]:
        """In relay mode, take the message for the operator and return the reply (None: Rasa answers)."""

    async def after_turn(self, channel: str, conversation: str, state: LanguageState,
                         controls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply the turn's handoff controls; returns messages to add to the reply."""


class _ConversationLocks:
    """One lock per active conversation, so its turns run in order; idle ones are forgotten."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, conversation: str) -> AsyncIterator[None]:
        """Wait for the conversation's previous turn, run this one, then release."""
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        self._users[conversation] = self._users.get(conversation, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[conversation] -= 1
            if not self._users[conversation]:
                del self._users[conversation], self._locks[conversation]


class Gateway:
    """Carries messages between channels and Rasa for every conversation, one at a time each."""

    def __init__(self, settings: Settings, store: Store, rasa: RasaClient, catalog: Catalog,
                 policy: LanguagePolicy):
        self.settings = settings
        self.store = store
        self.rasa = rasa
        self.catalog = catalog
        self.policy = policy
        self._turns = _ConversationLocks()
        # Called with the pseudonym before an erasure, e.g. so channels can delete remote messages.
        self.erase_hooks: list[Callable[[str], Awaitable[None]]] = []
        # Handoffs to the team: in relay mode the person's messages go to the operator, not Rasa.
        self.relay: Optional[Relay] = None

    async def handle_text(self, channel: str, conversation: str, text: str,
                          language_hint: Optional[str] = None) -> Reply:
        """Process one inbound text and return the reply (raises RasaUnavailable if Rasa is down).

        `language_hint` (e.g. the language of a Telegram app) is used for a new conversation until
        the person writes something that shows their language.
        """
        async with self._turns.hold(conversation):
            return await self._turn(channel, conversation, text, language_hint)

    async def _turn(self, channel: str, conversation: str, text: str, language_hint: Optional[str] = None) -> Reply:
        """One turn: language, Rasa, control messages, saved state."""
        record = await self.store.get_conversation(conversation) or {"channel": channel, "created_at": _now()}
        before = LanguageState.from_dict(record["language"]) if "language" in record else self.policy.initial()
        text = clean_text(text, self.settings.max_message_chars)
        state = self._observe_language(before, text)
        if "language" not in record and not state.locked and language_hint in self.policy.supported:
            state = replace(state, language=language_hint)

        prefix: list[dict[str, Any]] = []
        if state.interpreter_needed and not before.interpreter_needed:
            note = self.catalog.render("utter_interpreter_available", state.language)
            if note:
                prefix.append(note)

        if self.relay is not None:
            relayed = await self.relay.intercept(channel, conversation, text, state)
            if relayed is not None:
                record["language"] = state.to_dict()
                record["updated_at"] = _now()
                await self.store.put_conversation(conversation, record)
                return Reply(messages=prefix + relayed, language=state.language)

        slots: dict[str, Any] = {}
        # After Rasa was unreachable it may have restarted with empty trackers: set the slots again.
        fresh = record.get("rasa_generation") != self.rasa.generation
        if fresh or record.get("rasa_language") != state.language:
            slots["language"] = state.language
        if state.interpreter_needed and (fresh or not record.get("rasa_interpreter_needed")):
            slots["interpreter_needed"] = True
            slots["detected_language"] = state.detected
        if fresh or "rasa_channel" not in record:
            slots["channel"] = channel
        if slots:
            await self.rasa.set_slots(conversation, slots)
            record["rasa_language"] = state.language
            record["rasa_interpreter_needed"] = state.interpreter_needed
            record["rasa_channel"] = channel
            record["rasa_generation"] = self.rasa.generation

        responses = await self.rasa.send(conversation, text, metadata={"channel": channel})
        messages, controls = self._split(responses)
        reply = Reply(messages=prefix + messages, language=state.language, controls=controls)

        for control in controls:
            if control.get("set_language"):
                state = self.policy.explicit(state, str(control["set_language"]))
                record["rasa_language"] = state.language
                reply.language = state.language
            if control.get("handoff_requested"):
                await self.store.add_handoff_request(conversation, {
                    "conversation": conversation, "channel": channel, "language": state.language,
                    "interpreter_needed": state.interpreter_needed, "created_at": _now(),
                    "status": "open",
                })
            if isinstance(control.get("handoff_summary"), dict):
                await self.store.add_handoff_request(conversation, _screening_summary(
                    control["handoff_summary"], conversation, channel, state))
        if self.relay is not None and not any(c.get("erase") for c in controls):
            reply.messages += await self.relay.after_turn(channel, conversation, state, controls)
        if any(c.get("erase") for c in controls):
            await self.erase(conversation)
            reply.erased = True
            return reply

        record["language"] = state.to_dict()
        record["updated_at"] = _now()
        await self.store.put_conversation(conversation, record)
        return reply

    def _observe_language(self, state: LanguageState, text: str) -> LanguageState:
        """Apply a language button, or detect from what the person wrote."""
        if _PAYLOAD.match(text):
            requested = _requested_language(text)
            return self.policy.explicit(state, requested) if requested else state
        return self.policy.observe(state, text)

    @staticmethod
    def _split(responses: list[dict]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Separate what the person should see from Safeline control messages."""
        messages: list[dict[str, Any]] = []
        controls: list[dict[str, Any]] = []
        for response in responses:
            custom = response.get("custom")
            if isinstance(custom, dict) and isinstance(custom.get(CONTROL_KEY), dict):
                controls.append(custom[CONTROL_KEY])
                continue
            if response.get("text"):
                message: dict[str, Any] = {"text": response["text"]}
                buttons = [
                    {"title": b.get("title", ""), "payload": b.get("payload", "")}
                    for b in response.get("buttons") or [] if isinstance(b, dict)
                ]
                if buttons:
                    message["buttons"] = buttons
                messages.append(message)
        return messages, controls

    async def language_of(self, conversation: str) -> str:
        """The reply language of a conversation (the default for unknown ones)."""
        record = await self.store.get_conversation(conversation)
        if record and "language" in record:
            return LanguageState.from_dict(record["language"]).language
        return self.settings.default_language

    async def erase(self, conversation: str) -> None:
        """Delete everything kept under the pseudonym: Rasa's tracker and Safeline's records."""
        for hook in self.erase_hooks:
            try:
                await hook(conversation)
            except Exception as exc:  # noqa: BLE001 - a channel's clean-up must never block the erasure
                log.error("erase hook failed (%s); erasing anyway", type(exc).__name__)
        await self.store.delete_conversation(conversation)
        try:
            await self.rasa.erase(conversation)
        except RasaUnavailable:
            # Safeline's own records are gone already; the tracker is retried by the caller's
            # retry policy, and an in-memory tracker dies with the Rasa process in any case.
            log.warning("tracker erasure deferred: Rasa unavailable")
            raise

    def unavailable_reply(self, language: str) -> Reply:
        """What the person sees when Rasa cannot answer: kept short, with the emergency number."""
        message = self.catalog.render("utter_service_unavailable", language)
        return Reply(messages=[message] if message else [], language=language)
