"""Helpers for stacks in production mode (REDIS_URL set, channels on the loopback fakes), and a
recording reverse proxy that shows which Rasa replica each conversation reached."""
from __future__ import annotations

import http.server
import json
import os
import re
import socket
import threading
from pathlib import Path
from typing import Any, Optional
from urllib.parse import unquote

import httpx

from conftest import free_port
from fakes import FakeTelegram, FakeTwilio
from people import (PUBLIC_URL, TELEGRAM_SECRET, TELEGRAM_TOKEN, TWILIO_NUMBER, TWILIO_SID,
                    TWILIO_TOKEN)

_CONVERSATION_PATH = re.compile(r"^/conversations/([^/]+)/")


def free_port_run(length: int) -> int:
    """The first of `length` consecutive free loopback ports (Rasa replicas use RASA_PORT + i)."""
    for _ in range(50):
        first = free_port()
        sockets = []
        try:
            for port in range(first, first + length):
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                sockets.append(sock)
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no run of free ports")


def redis_db_url(server_url: str, db: int) -> str:
    """The test redis-server's URL with another database (kept apart from FLUSHDB of other tests)."""
    return server_url.rsplit("/", 1)[0] + f"/{db}"


def production_env(data_dir: Path, redis_url: str, fake_telegram: FakeTelegram, fake_twilio: FakeTwilio,
                   **extra: str) -> dict[str, str]:
    """The environment of a Redis-mode stack with Telegram and SMS on the fakes, on free ports."""
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "SAFELINE_DATA_DIR": str(data_dir),
        "SAFELINE_PORT": str(free_port()),
        "SAFELINE_INTERNAL_PORT": str(free_port()),
        "RASA_PORT": str(free_port()),
        "ACTIONS_PORT": str(free_port()),
        "RASA_TELEMETRY_ENABLED": "false",
        "SAFELINE_PUBLIC_URL": PUBLIC_URL,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": fake_telegram.url,
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": TWILIO_NUMBER,
        "TWILIO_API_BASE_URL": fake_twilio.url,
        "SAFELINE_SMS_TWIML_WAIT_MS": "0",  # every reply through the (recorded) REST API
        "SAFELINE_RETRY_MAX_DELAY": "1",
        "SAFELINE_UNAVAILABLE_NOTICE_AFTER": "2",
        "SAFELINE_START_TRANSLATOR": "false",  # the relay's translations are tested elsewhere
        **extra,
    }
    env.pop("RASA_URLS", None)
    return env


def tracker_user_texts(rasa_url: str, conversation: str) -> list[str]:
    """The texts of the user events in a conversation's Rasa tracker, in order."""
    tracker = httpx.get(f"{rasa_url}/conversations/{conversation}/tracker", timeout=30).json()
    return [event.get("text") for event in tracker.get("events", []) if event.get("event") == "user"]


class RecordingProxy:
    """A loopback reverse proxy in front of one Rasa replica that records the conversations it carried."""

    def __init__(self, target: str):
        self.target = target.rstrip("/")
        self.conversations: set[str] = set()
        self.requests = 0
        self.lock = threading.Lock()
        self.client = httpx.Client(timeout=60)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.record(self.path, body)
                try:
                    upstream = proxy.client.request(self.command, proxy.target + self.path, content=body,
                                                    headers={"Content-Type": "application/json"})
                    status, content = upstream.status_code, upstream.content
                except httpx.HTTPError:
                    status, content = 502, b'{"error": "replica unreachable"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = _forward  # noqa: N815 - http.server naming

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def record(self, path: str, body: bytes) -> None:
        """Remember the conversation a request was about (REST channel sender or tracker path)."""
        conversation: Optional[str] = None
        match = _CONVERSATION_PATH.match(path)
        if match:
            conversation = unquote(match.group(1))
        elif path.startswith("/webhooks/rest/webhook"):
            try:
                conversation = json.loads(body).get("sender")
            except (ValueError, AttributeError):
                conversation = None
        with self.lock:
            self.requests += 1
            if conversation:
                self.conversations.add(conversation)

    def start(self) -> "RecordingProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.client.close()
