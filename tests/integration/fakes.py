"""Loopback stand-ins for the Telegram Bot API and Twilio's REST API, recording what Safeline sent.

Tests never reach the internet: Safeline is pointed at these with TELEGRAM_API_BASE_URL and
TWILIO_API_BASE_URL. Both can be switched into an outage (HTTP 502/503) to test retries.
"""
from __future__ import annotations

import base64
import http.server
import itertools
import json
import threading
import time
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl


def _decode(value: str) -> Any:
    """PTB sends form values with JSON-encoded objects and numbers; plain strings stay strings."""
    try:
        return json.loads(value)
    except ValueError:
        return value


class _Recorder:
    """Thread-safe list of calls with waiting helpers."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.outage = False

    def record(self, call: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append(call)

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.calls)

    def wait_until(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll until the recorded calls satisfy the predicate; returns them (fails on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.snapshot()
            if predicate(calls):
                return calls
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s; recorded: {self.snapshot()[-10:]}")


class _Server:
    """A threaded HTTP server around a request handler class."""

    def __init__(self, handler: type) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.fake = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> "_Server":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FakeTelegram(_Recorder):
    """A Bot API stand-in: every call is recorded as {"method", **params}; sends get message ids."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self._ids = itertools.count(5000)
        fake = self

        class Handler(_Handler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                raw = self._body()
                prefix = f"/bot{fake.token}/"
                if not self.path.startswith(prefix):
                    self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                    return
                method = self.path[len(prefix):]
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or b"{}")
                else:
                    params = {k: _decode(v) for k, v in parse_qsl(raw.decode(), keep_blank_values=True)}
                if fake.outage:
                    self._reply(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
                    return
                result = fake.result(method, params)
                sent = {"message_id": result["message_id"]} if method == "sendMessage" else {}
                fake.record({"method": method, **params, **sent})
                self._reply(200, {"ok": True, "result": result})

        self.server = _Server(Handler)

    def result(self, method: str, params: dict[str, Any]) -> Any:
        """A plausible Bot API result for the method."""
        if method == "getMe":
            return {"id": 1, "is_bot": True, "first_name": "Safeline", "username": "safeline_test_bot"}
        if method in ("sendMessage", "editMessageReplyMarkup"):
            message_id = next(self._ids) if method == "sendMessage" else params.get("message_id")
            return {"message_id": message_id, "date": int(time.time()),
                    "chat": {"id": params.get("chat_id"), "type": "private"}, "text": params.get("text", "")}
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> "FakeTelegram":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def sent(self, chat_id: int, method: str = "sendMessage") -> list[dict[str, Any]]:
        """What was sent to one chat with one method, in order."""
        return [c for c in self.snapshot() if c["method"] == method and str(c.get("chat_id")) == str(chat_id)]


class FakeTwilio(_Recorder):
    """Twilio's Messages REST endpoint: records {"To", "From", "Body"} after checking Basic auth."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid = account_sid
        expected = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._ids = itertools.count(1)
        fake = self

        class Handler(_Handler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self._body()
                if self.headers.get("Authorization") != expected:
                    self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return
                if self.path != f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json":
                    self._reply(404, {"code": 20404, "message": "Not found", "status": 404})
                    return
                if fake.outage:
                    self._reply(503, {"code": 20503, "message": "Service unavailable", "status": 503})
                    return
                params = dict(parse_qsl(raw.decode(), keep_blank_values=True))
                fake.record(params)
                self._reply(201, {"sid": f"SM{next(fake._ids):032x}", "status": "queued", **params})

        self.server = _Server(Handler)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> "FakeTwilio":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def sent(self, number: str) -> list[str]:
        """Bodies sent to one number, in order."""
        return [c["Body"] for c in self.snapshot() if c.get("To") == number]


def wait_for(predicate: Callable[[], Optional[Any]], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll a function until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
