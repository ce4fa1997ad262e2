"""Telegram: the `/telegram/webhook` endpoint and replies through the Bot API (python-telegram-bot).

The webhook checks Telegram's secret token in constant time, reads the update with
`telegram.Update.de_json`, drops repeats by `update_id`, and queues what the person sent keyed by
the pseudonym of the chat; the chat id itself travels only sealed. Groups are refused politely.
Replies are sent by the worker with PTB's `Bot` (inline keyboards for buttons); `/delete` and the
gateway's erase control also delete the chat's messages (both sides) that the Bot API still allows.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import hmac
import json
import logging
import re
import time
from typing import Any, Optional

from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter, TelegramError

from bot.address_vault import AddressVault
from bot.channels.base import Composition, DeliveryError, Step
from bot.channels.neutral import neutralize
from bot.config import Settings
from bot.pseudonym import pseudonym
from bot.stores.base import Store

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
MAX_TEXT = 4096  # Bot API limit per message
MAX_CALLBACK_DATA = 64  # bytes, Bot API limit
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids
GROUP_REFUSAL_TTL_S = 24 * 3600
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.DOTALL)
COMMANDS = ("start", "help", "language", "delete", "discreet", "codeword")
MAX_CODE_WORD = 32


def _json_error(message: str, status: int) -> web.Response:
    """A short JSON error that says what was wrong with the request, nothing about the server."""
    return web.json_response({"error": message}, status=status)


def _delivery_error(exc: Exception) -> DeliveryError:
    """Classify a Bot API failure: retry when waiting can help, give up when it cannot."""
    if isinstance(exc, RetryAfter):
        after = exc.retry_after
        seconds = after.total_seconds() if isinstance(after, dtm.timedelta) else float(after)
        return DeliveryError("rate limited", retry=True, after=seconds)
    if isinstance(exc, (Forbidden, BadRequest, ChatMigrated, InvalidToken)):
        return DeliveryError(type(exc).__name__, retry=False)
    return DeliveryError(type(exc).__name__, retry=True)


def _split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """A text as pieces within the Bot API limit, cut at line breaks or spaces where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return pieces + ([text] if text else [])


class TelegramChannel:
    """The Telegram channel: webhook intake, command meaning, reply shaping and delivery."""

    name = CHANNEL
    erased_notice = "utter_telegram_deleted"

    def __init__(self, settings: Settings, store: Store, vault: AddressVault, bot: Optional[Bot] = None):
        assert settings.telegram_bot_token and settings.telegram_webhook_secret
        self.settings = settings
        self.store = store
        self.vault = vault
        base = (settings.telegram_api_base_url or "https://api.telegram.org").rstrip("/")
        self.bot = bot or Bot(settings.telegram_bot_token, base_url=f"{base}/bot")
        self._secret = settings.telegram_webhook_secret.encode("utf-8")
        self._tasks: set[asyncio.Task] = set()

    def routes(self) -> list[web.RouteDef]:
        """`POST /telegram/webhook`."""
        return [web.post("/telegram/webhook", self.webhook)]

    # Intake.

    async def webhook(self, request: web.Request) -> web.Response:
        """Authenticate, de-duplicate and queue one update; answer within milliseconds."""
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return _json_error("missing secret token", 401)
        if not hmac.compare_digest(given.encode("utf-8"), self._secret):
            return _json_error("wrong secret token", 403)
        if request.content_length is not None and request.content_length > self.settings.max_body_bytes:
            return _json_error("request body too large", 413)
        try:
            data = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            return _json_error("request body too large", 413)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            return _json_error("body must be a JSON Telegram update", 400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int) \
                or isinstance(data.get("update_id"), bool):
            return _json_error("body must be a JSON Telegram update with an integer update_id", 400)

        try:
            entry = self._entry(data)
        except Exception as exc:  # noqa: BLE001 - a shape we cannot read is acknowledged and ignored
            log.warning("unreadable Telegram update ignored (%s)", type(exc).__name__)
            entry = None
        if entry is not None and entry["kind"] == "group":  # refuse a group once a day, not per message
            refused = await self.store.claim_once("refused:" + entry["conversation"], GROUP_REFUSAL_TTL_S)
            entry = entry if refused else None
        if entry is not None:
            # De-duplication and queueing in one atomic step: had the store died between the two, the
            # retry Telegram sends after our error would have been taken for a repeat and dropped.
            seen_key = "seen:" + pseudonym(self.settings.secret_key, "telegram-update", str(data["update_id"]))
            await self.store.queue_push_once("inbound", entry, seen_key, self.settings.dedup_ttl_s)
        return web.json_response({"ok": True})  # a repeat gets the same answer as the first delivery

    def _entry(self, data: dict[str, Any]) -> Optional[dict[str, Any]]:
        """The queue entry for an update, or None for updates Safeline does not act on."""
        update = Update.de_json(data, self.bot)
        if update.callback_query is not None:
            return self._callback_entry(update)
        if update.my_chat_member is not None:
            member = update.my_chat_member
            added = member.new_chat_member.status in ("member", "administrator")
            if member.chat.type != "private" and added:
                return self._group_entry(member.chat.id, member.from_user)
            return None
        message = update.message or update.edited_message
        if message is None or message.chat is None:
            return None  # channel posts, polls, reactions …: nothing a person asked us
        if message.chat.type != "private":
            return self._group_entry(message.chat.id, message.from_user)
        if message.from_user is None or message.from_user.is_bot:
            return None
        entry = self._base_entry(message.chat.id, message.from_user)
        entry["trace"] = str(message.message_id)
        if update.edited_message is not None:
            entry["kind"] = "edited"
            return entry
        text = message.text if message.text is not None else message.caption
        if not isinstance(text, str):
            entry["kind"] = "unsupported"  # sticker, photo, voice, location, contact …
            return entry
        text = text[: self.settings.max_message_chars]
        command = _COMMAND.match(text.strip()) if message.text is not None else None
        if command:
            entry.update(kind="command", command=command.group(1).lower(), argument=(command.group(2) or "").strip())
        else:
            entry.update(kind="text", text=text)
        return entry

    def _base_entry(self, chat_id: int, user: Any) -> dict[str, Any]:
        """Fields every entry carries: pseudonym, sealed chat id, time, language hint."""
        language = (getattr(user, "language_code", None) or "")[:2].lower() or None
        return {
            "channel": CHANNEL,
            "conversation": pseudonym(self.settings.secret_key, CHANNEL, str(chat_id)),
            "address": self.vault.seal(CHANNEL, str(chat_id)),
            "received_at": time.time(),
            "hint": language,
        }

    def _callback_entry(self, update: Update) -> Optional[dict[str, Any]]:
        """A button tap: its payload goes to Rasa; the tap is acknowledged at once."""
        query = update.callback_query
        message = query.message
        chat = message.chat if message is not None else None
        if chat is None or chat.type != "private" or not isinstance(query.data, str):
            self._background(self._answer_tap(query.id, None, None))
            return None
        self._background(self._answer_tap(query.id, chat.id, message.message_id))
        entry = self._base_entry(chat.id, query.from_user)
        entry.update(kind="callback", text=query.data[: self.settings.max_message_chars])
        return entry

    def _group_entry(self, chat_id: int, user: Any) -> dict[str, Any]:
        """A group chat: to be refused (once a day per group), keeping nothing about it."""
        entry = self._base_entry(chat_id, user)
        entry.update(kind="group", conversation=pseudonym(self.settings.secret_key, "telegram-group", str(chat_id)),
                     stateless=True)
        return entry

    def _background(self, coroutine: Any) -> None:
        """Run a best-effort Bot API call without delaying the webhook's answer."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_tap(self, query_id: str, chat_id: Optional[int], message_id: Optional[int]) -> None:
        """Stop the button's spinner and remove the keyboard, so a tap cannot be sent twice."""
        with contextlib.suppress(TelegramError):
            await self.bot.answer_callback_query(query_id)
        if chat_id is not None and message_id is not None:
            with contextlib.suppress(TelegramError):
                await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)

    # Meaning.

    def interpret(self, entry: dict[str, Any], prefs: dict[str, Any]) -> Step:
        """What an entry asks for: Rasa for texts and taps, local answers for commands and the rest."""
        kind = entry.get("kind")
        if kind in ("text", "callback"):
            text = (entry.get("text") or "").strip()
            return Step(rasa_text=text) if text else Step(respond="utter_only_text")
        if kind == "command":
            return self._command(entry.get("command", ""), entry.get("argument", ""))
        if kind == "edited":
            return Step(respond="utter_edits_not_read")
        if kind == "group":
            return Step(respond="utter_private_only")
        return Step(respond="utter_only_text")

    @staticmethod
    def _command(command: str, argument: str) -> Step:
        """The bot's commands; anything unknown shows the help."""
        if command == "start":
            return Step(rasa_text="/greet")
        if command == "language":
            return Step(rasa_text="/change_language")
        if command == "delete":
            return Step(rasa_text="/delete_my_data")
        if command == "discreet":
            if argument.lower() == "off":
                return Step(respond="utter_discreet_off", prefs={"discreet": None})
            return Step(respond="utter_discreet_on", prefs={"discreet": True},
                        values={"off_command": "/discreet off"})
        if command == "codeword":
            if not argument:
                return Step(respond="utter_code_word_how", values={"command": "/codeword"})
            if argument.lower() == "off":
                return Step(respond="utter_code_word_cleared", prefs={"code_word": None})
            return Step(respond="utter_code_word_set", prefs={"code_word": argument[:MAX_CODE_WORD]})
        return Step(respond="utter_telegram_help")

    # Replies.

    def compose(self, messages: list[dict[str, Any]], language: str, prefs: dict[str, Any], *,
                operator: bool = False, continuation: bool = False) -> Composition:
        """Messages as Bot API payloads: neutral wording in discreet mode, buttons as a keyboard."""
        discreet = bool(prefs.get("discreet"))
        neutral = discreet and not prefs.get("said_trafficking")
        code_word = prefs.get("code_word") if operator else None
        payloads: list[dict[str, Any]] = []
        for message in messages:
            text = str(message.get("text") or "")
            if neutral:
                text = neutralize(text, language)
            if code_word:
                text = f"{code_word}: {text}"
            buttons = [
                {"title": neutralize(b["title"], language) if neutral else b["title"], "payload": b["payload"]}
                for b in message.get("buttons") or []
                if 0 < len(str(b.get("payload", "")).encode("utf-8")) <= MAX_CALLBACK_DATA
            ]
            pieces = _split_text(text)
            for index, piece in enumerate(pieces):
                payload: dict[str, Any] = {"text": piece, "quiet": discreet}
                if buttons and index == len(pieces) - 1:
                    payload["buttons"] = buttons
                payloads.append(payload)
        return Composition(payloads)

    @staticmethod
    def _keyboard(buttons: list[dict[str, str]]) -> InlineKeyboardMarkup:
        """One button per row; two per row for long lists such as the language picker."""
        width = 2 if len(buttons) > 6 else 1
        keys = [InlineKeyboardButton(b["title"], callback_data=b["payload"]) for b in buttons]
        return InlineKeyboardMarkup([keys[i:i + width] for i in range(0, len(keys), width)])

    async def deliver(self, address: str, payload: dict[str, Any], entry: dict[str, Any]) -> list[str]:
        """Send one message (then leave, for a refused group); returns its message id."""
        chat_id = int(address)
        markup = self._keyboard(payload["buttons"]) if payload.get("buttons") else None
        try:
            sent: Message = await self.bot.send_message(
                chat_id, payload["text"], reply_markup=markup, disable_notification=bool(payload.get("quiet")))
            if entry.get("origin") == "group":
                with contextlib.suppress(TelegramError):
                    await self.bot.leave_chat(chat_id)
        except TelegramError as exc:
            raise _delivery_error(exc) from None
        return [str(sent.message_id)]

    async def erase_traces(self, address: str, refs: list[str]) -> None:
        """Delete the chat's messages, both sides, in batches (the Bot API skips those it cannot)."""
        chat_id = int(address)
        ids = sorted({int(r) for r in refs if str(r).isdigit()})
        for start in range(0, len(ids), DELETE_BATCH):
            try:
                await self.bot.delete_messages(chat_id, ids[start:start + DELETE_BATCH])
            except TelegramError as exc:
                raise _delivery_error(exc) from None

    async def close(self) -> None:
        """Finish background calls and close the Bot API connections."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.bot.request.shutdown()  # sends were made without `initialize` (no getMe needed)
