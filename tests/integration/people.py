"""People writing to the test stack over Telegram and SMS, as the platforms' webhooks would carry them."""
from __future__ import annotations

import itertools
import random
import time
import xml.etree.ElementTree as ET
from typing import Any, Optional

import httpx
from twilio.request_validator import RequestValidator

from fakes import FakeTelegram, FakeTwilio

# Channel credentials of the test stack: the channels are on, their APIs are loopback stand-ins.
TELEGRAM_TOKEN = "123456:TEST-token-for-the-fake-bot-api"
TELEGRAM_SECRET = "test-webhook-secret-0123456789"
TWILIO_SID = "AC" + "0" * 30 + "01"
TWILIO_TOKEN = "test-twilio-auth-token-0123456789"
TWILIO_NUMBER = "+15005550006"
PUBLIC_URL = "https://helpline.example.test"

_update_ids = itertools.count(random.randint(10_000_000, 90_000_000))
_message_ids = itertools.count(100)
_sms_ids = itertools.count(random.randint(1, 1 << 40))


def wait_idle(stack: Any, timeout: float = 60.0, settle: float = 0.3) -> None:
    """Wait until Safeline's worker has processed and delivered everything queued."""
    url = f"http://127.0.0.1:{stack.settings.internal_port}/worker/status"
    deadline = time.monotonic() + timeout
    quiet_since: Optional[float] = None
    while time.monotonic() < deadline:
        status = httpx.get(url, timeout=5).json()
        if status["inbound"] == 0 and status["outbox"] == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle:
                return
        else:
            quiet_since = None
        time.sleep(0.05)
    raise AssertionError(f"worker still busy after {timeout}s: {status}")


class TelegramUser:
    """One person in a private chat with the bot."""

    def __init__(self, base_url: str, fake: FakeTelegram, stack: Any, chat_id: Optional[int] = None,
                 language_code: str = "en"):
        self.base_url = base_url
        self.fake = fake
        self.stack = stack
        self.chat_id = chat_id or random.randint(100_000_000, 999_999_999)
        self.language_code = language_code
        self.latencies: list[float] = []

    def _user(self) -> dict[str, Any]:
        return {"id": self.chat_id, "is_bot": False, "first_name": "Test", "language_code": self.language_code}

    def _chat(self) -> dict[str, Any]:
        return {"id": self.chat_id, "type": "private", "first_name": "Test"}

    def message_update(self, text: Optional[str] = None, **fields: Any) -> dict[str, Any]:
        """An update carrying a new message (text, or other fields such as a sticker)."""
        message = {"message_id": next(_message_ids), "date": int(time.time()), "chat": self._chat(),
                   "from": self._user(), **fields}
        if text is not None:
            message["text"] = text
        return {"update_id": next(_update_ids), "message": message}

    def post(self, update: Any, secret: Optional[str] = TELEGRAM_SECRET, content: Optional[bytes] = None) -> httpx.Response:
        """Deliver an update to the webhook as Telegram would (with the secret header)."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        started = time.monotonic()
        if content is not None:
            response = httpx.post(f"{self.base_url}/telegram/webhook", content=content,
                                  headers={**headers, "Content-Type": "application/json"}, timeout=10)
        else:
            response = httpx.post(f"{self.base_url}/telegram/webhook", json=update, headers=headers, timeout=10)
        self.latencies.append(time.monotonic() - started)
        return response

    def sent(self) -> list[dict[str, Any]]:
        """Every sendMessage the bot made to this chat so far."""
        return self.fake.sent(self.chat_id)

    def say(self, text: str, **fields: Any) -> list[dict[str, Any]]:
        """Send a message and return the bot's new messages once the worker is idle."""
        before = len(self.sent())
        response = self.post(self.message_update(text, **fields))
        assert response.status_code == 200, response.text
        wait_idle(self.stack)
        return self.sent()[before:]

    def tap(self, payload: str, message_id: int) -> list[dict[str, Any]]:
        """Tap an inline button of one of the bot's messages."""
        before = len(self.sent())
        update = {"update_id": next(_update_ids), "callback_query": {
            "id": str(random.randint(1, 1 << 62)), "from": self._user(), "chat_instance": "1", "data": payload,
            "message": {"message_id": message_id, "date": int(time.time()), "chat": self._chat(),
                        "from": {"id": 1, "is_bot": True, "first_name": "Safeline"}, "text": "…"}}}
        response = self.post(update)
        assert response.status_code == 200, response.text
        wait_idle(self.stack)
        return self.sent()[before:]


def texts(messages: list[dict[str, Any]]) -> list[str]:
    """The texts of sendMessage calls."""
    return [m["text"] for m in messages]


def buttons(message: dict[str, Any]) -> list[dict[str, str]]:
    """The inline keyboard of a sendMessage call as [{"text", "callback_data"}]."""
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def sign(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send for a form POST to `url`."""
    return RequestValidator(token).compute_signature(url, params)


class SmsPerson:
    """One phone number texting the helpline through Twilio."""

    def __init__(self, base_url: str, fake: FakeTwilio, stack: Any, number: Optional[str] = None):
        self.base_url = base_url
        self.fake = fake
        self.stack = stack
        self.number = number or f"+1555{random.randint(1_000_000, 9_999_999)}"
        self.twiml: list[str] = []
        self.latencies: list[float] = []

    def form(self, body: str, **extra: str) -> dict[str, str]:
        """The form fields Twilio posts for an inbound SMS (with the location fields it adds)."""
        return {"MessageSid": f"SM{next(_sms_ids):032x}", "SmsSid": "", "AccountSid": TWILIO_SID,
                "From": self.number, "To": TWILIO_NUMBER, "Body": body, "NumMedia": "0",
                "FromCity": "SPRINGFIELD", "FromState": "IL", "FromZip": "62701", "FromCountry": "US",
                "ToCity": "", "ToState": "CA", "ToZip": "", "ToCountry": "US", **extra}

    def post(self, form: dict[str, str], signature: Optional[str] = None, path: str = "/twilio/sms") -> httpx.Response:
        """POST a form to the webhook, signed for SAFELINE_PUBLIC_URL + path unless told otherwise."""
        headers = {}
        signature = sign(PUBLIC_URL + path, form) if signature is None else signature
        if signature:
            headers["X-Twilio-Signature"] = signature
        started = time.monotonic()
        response = httpx.post(f"{self.base_url}{path}", data=form, headers=headers, timeout=10)
        self.latencies.append(time.monotonic() - started)
        return response

    def all_received(self) -> list[str]:
        """Everything the person got: bodies from TwiML answers, then from the REST API."""
        return self.twiml + self.fake.sent(self.number)

    def say(self, body: str, **extra: str) -> list[str]:
        """Text the helpline; returns the texts that came back (TwiML first, then REST), once idle."""
        before_rest = len(self.fake.sent(self.number))
        response = self.post(self.form(body, **extra))
        assert response.status_code == 200, response.text
        inline = twiml_bodies(response.text)
        self.twiml += inline
        wait_idle(self.stack)
        return inline + self.fake.sent(self.number)[before_rest:]


def twiml_bodies(xml: str) -> list[str]:
    """The <Message> bodies of a TwiML response."""
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    return [(m.text or "") for m in root.iter("Message")]
