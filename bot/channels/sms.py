"""SMS through Twilio: the `/twilio/sms` webhook, carrier keywords, and replies sized for SMS.

The webhook validates `X-Twilio-Signature` with twilio's `RequestValidator` against
SAFELINE_PUBLIC_URL + path, reads only the fields it needs (From, To, Body, MessageSid, NumMedia:
FromCity, FromZip … are never read, let alone kept), drops repeats by MessageSid and queues the
message under the pseudonym of the number, which itself travels only sealed.

Replies are plain text: buttons become numbered options that a reply of "1", "2" … selects, and a
reply is cut between sentences into at most SAFELINE_SMS_MAX_PARTS single-segment texts (the rest
is kept for a reply of "0"). A reply that is ready within SAFELINE_SMS_TWIML_WAIT_MS goes back in
the webhook's TwiML; a later one (Rasa slow or down) goes through the REST API.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.address_vault import AddressVault
from bot.channels.base import Composition, DeliveryError, Step
from bot.channels.neutral import neutralize
from bot.channels.sms_segments import Piece, chunks, fit, gsm_friendly, sentences
from bot.config import Settings
from bot.locales import Catalog
from bot.pseudonym import pseudonym
from bot.stores.base import Store

log = logging.getLogger(__name__)

CHANNEL = "sms"
SIGNATURE_HEADER = "X-Twilio-Signature"
# Carrier keywords (Twilio's defaults); the whole message must be the keyword.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP"})
RESUME_WORDS = START_WORDS | {"YES"}  # "YES" opts back in only when opted out; otherwise it is an answer
HELP_WORDS = frozenset({"HELP", "INFO"})
MORE = "0"
MAX_CODE_WORD = 32
_TRAILING = re.compile(r"[\s.!]+$")
_CODE = re.compile(r"^CODE(?:\s+(.+))?$", re.IGNORECASE | re.DOTALL)
# Priorities for fitting a reply into few segments (lower survives first): the "0 for more" hint,
# the reply's first sentence (an emergency line comes first), each message's first sentence, the
# numbered options, then the rest.
HINT, FIRST, LEAD, OPTION, BACKGROUND = -1, 0, 1, 2, 3


def twiml(bodies: list[str]) -> web.Response:
    """A TwiML <Response> with one <Message> per body (empty: nothing sent now)."""
    response = MessagingResponse()
    for body in bodies:
        response.message(body)
    return web.Response(text=str(response), content_type="application/xml")


def _json_error(message: str, status: int) -> web.Response:
    """A short JSON error; Twilio only looks at the status."""
    return web.json_response({"error": message}, status=status)


@dataclass
class _Waiter:
    """A webhook waiting briefly to return the reply in its TwiML."""

    bodies: list[str] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class InlineReplies:
    """Hands reply parts to a webhook still waiting for them, in the order the worker sends them."""

    def __init__(self) -> None:
        self._waiting: dict[str, _Waiter] = {}

    def expect(self, ref: str) -> None:
        """A webhook will wait for the replies to the message with this ref."""
        self._waiting[ref] = _Waiter()

    def cancel(self, ref: str) -> None:
        """Nobody will wait after all (the message could not be queued)."""
        self._waiting.pop(ref, None)

    def offer(self, ref: Optional[str], payload: dict[str, Any]) -> bool:
        """Give a part to the waiting webhook; False when none waits (send it by REST instead)."""
        waiter = self._waiting.get(ref or "")
        if waiter is None or waiter.done.is_set():
            return False
        waiter.bodies.append(payload["body"])
        if payload.get("index", 0) + 1 >= payload.get("count", 1):
            waiter.done.set()
        return True

    async def collect(self, ref: str, timeout_s: float) -> list[str]:
        """The parts offered before the reply was complete or the time ran out; stops waiting."""
        waiter = self._waiting[ref]
        try:
            await asyncio.wait_for(waiter.done.wait(), timeout_s)
        except asyncio.TimeoutError:
            pass
        finally:
            waiter.done.set()
            self._waiting.pop(ref, None)
        return waiter.bodies


class SmsChannel:
    """The SMS channel: Twilio webhook intake, keywords, SMS-sized replies, REST delivery."""

    name = CHANNEL
    erased_notice = "utter_sms_deleted"

    def __init__(self, settings: Settings, store: Store, vault: AddressVault, catalog: Catalog):
        assert settings.twilio_account_sid and settings.twilio_auth_token
        self.settings = settings
        self.store = store
        self.vault = vault
        self.catalog = catalog
        self.validator = RequestValidator(settings.twilio_auth_token)
        self.inline = InlineReplies()
        self._session: Optional[aiohttp.ClientSession] = None

    def routes(self) -> list[web.RouteDef]:
        """`POST /twilio/sms`."""
        return [web.post("/twilio/sms", self.webhook)]

    # Intake.

    async def webhook(self, request: web.Request) -> web.Response:
        """Validate, de-duplicate and queue one SMS; answer with TwiML (the reply, if quick)."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return _json_error("missing Twilio signature", 403)
        if request.content_length is not None and request.content_length > self.settings.max_body_bytes:
            return _json_error("request body too large", 413)
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            return _json_error("request body too large", 413)
        except Exception:  # noqa: BLE001 - any unreadable form is the sender's problem
            return _json_error("body must be form data", 400)
        if not all(isinstance(value, str) for value in form.values()):
            return _json_error("body must be form fields, not files", 400)
        url = self.settings.public_url + request.path_qs
        if not self.validator.validate(url, form, signature):
            return _json_error("invalid Twilio signature", 403)
        account = form.get("AccountSid")
        if account is not None and not hmac.compare_digest(str(account).encode(),
                                                           str(self.settings.twilio_account_sid).encode()):
            return _json_error("message for another account", 403)
        sender = str(form.get("From", "")).strip()
        if not sender:
            return _json_error("From is required", 400)

        # Twilio always sends a MessageSid, so a captured request replayed is always recognised.
        message_sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
        seen_key = "seen:" + pseudonym(self.settings.secret_key, "sms-message", message_sid) if message_sid else None
        entry = self._entry(form, sender)
        # Only a worker in this process can hand the reply to this request; else it goes by REST.
        wait_s = self.settings.sms_twiml_wait_ms / 1000 if self.settings.embedded_worker else 0
        if wait_s > 0:
            self.inline.expect(entry["ref"])
        try:
            # De-duplication and queueing in one atomic step: had the store died between the two, a
            # retry after our error would have been taken for a repeat and the message dropped.
            if seen_key:
                queued = await self.store.queue_push_once("inbound", entry, seen_key, self.settings.dedup_ttl_s)
            else:
                queued = await self.store.queue_push("inbound", entry)
        except Exception:
            self.inline.cancel(entry["ref"])
            raise
        if queued is None:
            self.inline.cancel(entry["ref"])
            return twiml([])  # a retry: the first delivery answers
        return twiml(await self.inline.collect(entry["ref"], wait_s) if wait_s > 0 else [])

    def _entry(self, form: Any, sender: str) -> dict[str, Any]:
        """The queue entry: pseudonym, sealed number, our number (for REST replies), the text."""
        body = str(form.get("Body", ""))[: self.settings.max_message_chars]
        return {
            "channel": CHANNEL,
            "conversation": pseudonym(self.settings.secret_key, CHANNEL, sender),
            "address": self.vault.seal(CHANNEL, sender),
            "via": str(form.get("To", "")).strip() or None,
            "kind": "text" if body.strip() else "unsupported",  # an MMS photo, or nothing at all
            "text": body,
            "received_at": time.time(),
            "ref": uuid.uuid4().hex,
        }

    # Meaning.

    def interpret(self, entry: dict[str, Any], prefs: dict[str, Any]) -> Step:
        """Carrier keywords, Safeline keywords, numbered options, "0" for more, else Rasa."""
        text = str(entry.get("text") or "").strip()
        word = _TRAILING.sub("", text).upper()
        if prefs.get("opted_out"):
            if word in RESUME_WORDS:
                return Step(prefs={"opted_out": None}, silent=True)  # Twilio confirms the opt-in
            return Step(silent=True)
        if word in STOP_WORDS:  # Twilio confirms and blocks further texts; keep no way to write
            return Step(prefs={"opted_out": True, "sms_options": None, "sms_more": None},
                        forget_address=True, silent=True)
        if word in START_WORDS:
            return Step(silent=True)
        if entry.get("kind") != "text" or not text:
            return Step(respond="utter_only_text")
        if word in HELP_WORDS:
            return Step(respond="utter_sms_help")
        if word == "DISCREET":
            return Step(respond="utter_discreet_on", prefs={"discreet": True},
                        values={"off_command": "DISCREET OFF"})
        if word == "DISCREET OFF":
            return Step(respond="utter_discreet_off", prefs={"discreet": None})
        code = _CODE.match(text)
        if code:
            value = (code.group(1) or "").strip()
            if not value:
                return Step(respond="utter_code_word_how", values={"command": "CODE"})
            if value.upper() == "OFF":
                return Step(respond="utter_code_word_cleared", prefs={"code_word": None})
            return Step(respond="utter_code_word_set", prefs={"code_word": value[:MAX_CODE_WORD]})
        if text == MORE and prefs.get("sms_more"):
            return Step(messages=[{"text": prefs["sms_more"]}], continuation=True)
        options = prefs.get("sms_options") or {}
        if text in options:
            return Step(rasa_text=options[text])
        return Step(rasa_text=text)

    # Replies.

    def compose(self, messages: list[dict[str, Any]], language: str, prefs: dict[str, Any], *,
                operator: bool = False, continuation: bool = False) -> Composition:
        """Messages as at most SAFELINE_SMS_MAX_PARTS single-segment texts, cut between sentences."""
        neutral = (self.settings.sms_neutral or prefs.get("discreet")) and not prefs.get("said_trafficking")
        pieces, options = self._pieces(messages, language, bool(neutral), in_order=continuation)
        if operator and prefs.get("code_word"):
            pieces.insert(0, Piece(f"{prefs['code_word']}:", sep="", priority=FIRST))
        if not pieces:
            return Composition([])
        parts, left = fit(pieces, self.settings.sms_max_parts)
        if left:
            hint = Piece((self.catalog.render("utter_sms_more", language) or {"text": MORE})["text"], "\n", HINT)
            parts, left = fit(pieces + [hint], self.settings.sms_max_parts)
            left = [p for p in left if p is not hint]
        more = "".join((p.sep if i else "") + p.text for i, p in enumerate(left))
        changes: dict[str, Any] = {"sms_more": more or None}
        if not continuation:  # options left out are in the "0 for more" text, with their numbers
            changes["sms_options"] = {n: payload for n, (_, payload) in options.items()} or None
        payloads = [{"body": part, "index": i, "count": len(parts)} for i, part in enumerate(parts)]
        return Composition(payloads, changes)

    @staticmethod
    def _pieces(messages: list[dict[str, Any]], language: str, neutral: bool,
                in_order: bool = False) -> tuple[list[Piece], dict[str, tuple[str, str]]]:
        """Sentence pieces of the messages, and the numbered options of the last one with buttons.

        `in_order` (a "0 for more" continuation) keeps a plain prefix, so the text reads on.
        """
        with_buttons = max((i for i, m in enumerate(messages) if m.get("buttons")), default=None)
        pieces: list[Piece] = []
        options: dict[str, tuple[str, str]] = {}
        for index, message in enumerate(messages):
            text = gsm_friendly(str(message.get("text") or ""))
            if neutral:
                text = neutralize(text, language)
            lines = [line for line in text.split("\n") if line.strip()]
            for l_index, line in enumerate(lines):
                for s_index, sentence in enumerate(sentences(line)):
                    lead = l_index == 0 and s_index == 0
                    priority = FIRST if not pieces else LEAD if lead and not in_order else BACKGROUND
                    for c_index, chunk in enumerate(chunks(sentence)):
                        sep = "\n" if s_index == 0 and c_index == 0 else " "
                        pieces.append(Piece(chunk, sep=sep, priority=priority))
            if index == with_buttons:
                for number, button in enumerate(message["buttons"], start=1):
                    title = gsm_friendly(button["title"])
                    title = neutralize(title, language) if neutral else title
                    line = chunks(f"{number}) {title}")[0]
                    options[str(number)] = (line, button["payload"])
                    pieces.append(Piece(line, sep="\n", priority=BACKGROUND if in_order else OPTION))
        return pieces, options

    def _http(self) -> aiohttp.ClientSession:
        """One pooled HTTP session for the REST API, created inside the running loop."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=15),
                auth=aiohttp.BasicAuth(str(self.settings.twilio_account_sid), str(self.settings.twilio_auth_token)),
            )
        return self._session

    async def deliver(self, address: str, payload: dict[str, Any], entry: dict[str, Any]) -> list[str]:
        """Hand the part to a waiting webhook (TwiML), or send it with the REST API."""
        if self.inline.offer(entry.get("ref"), payload):
            return []
        sender = self.settings.twilio_from_number or entry.get("via")
        if not sender:
            raise DeliveryError("no sender number (set TWILIO_FROM_NUMBER)", retry=False)
        url = (f"{self.settings.twilio_api_base_url}/2010-04-01/Accounts/"
               f"{self.settings.twilio_account_sid}/Messages.json")
        try:
            async with self._http().post(url, data={"To": address, "From": sender, "Body": payload["body"]}) as response:
                if response.status < 300:
                    return []
                code = await self._error_code(response)
                if response.status == 429 or response.status >= 500:
                    after = response.headers.get("Retry-After", "")
                    raise DeliveryError(f"Twilio {response.status}", retry=True,
                                        after=float(after) if after.isdigit() else None)
                raise DeliveryError(f"Twilio {response.status} error {code}", retry=False)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise DeliveryError(type(exc).__name__, retry=True) from None

    @staticmethod
    async def _error_code(response: aiohttp.ClientResponse) -> str:
        """Twilio's numeric error code (its message may quote the number, so it is not used)."""
        try:
            body = await response.json(content_type=None)
        except (ValueError, aiohttp.ClientError):
            return "?"
        return str(body.get("code", "?")) if isinstance(body, dict) else "?"

    async def erase_traces(self, address: str, refs: list[str]) -> None:
        """Texts on a phone cannot be deleted remotely; the erasure notice says how to do it."""

    async def close(self) -> None:
        """Close the REST connections."""
        if self._session is not None:
            await self._session.close()
