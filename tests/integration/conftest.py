"""Starts the real local stack (Rasa with the trained model, action server, Safeline) on free ports."""
from __future__ import annotations

import http.server
import os
import socket
import threading
from pathlib import Path
from typing import Iterator

import pytest

from bot.stack import Stack, latest_model
from fake_translator import FakeTranslator
from fakes import FakeTelegram, FakeTwilio
from people import (PUBLIC_URL, TELEGRAM_SECRET, TELEGRAM_TOKEN, TWILIO_NUMBER, TWILIO_SID,
                    TWILIO_TOKEN)


CONSOLE_ADMIN_PASSWORD = "integration admin passphrase"
CONSOLE_ADMIN_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CONSOLE_API_TOKEN = "integration-api-token-0123456789"


def free_port() -> int:
    """A currently free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NeutralPage(http.server.BaseHTTPRequestHandler):
    """Stands in for the neutral site the quick exit goes to (the real one is on the internet)."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<!doctype html><title>Weather</title><h1>Weather today</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def neutral_site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NeutralPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/weather"
    server.shutdown()


@pytest.fixture(scope="session")
def fake_telegram() -> Iterator[FakeTelegram]:
    """The Bot API stand-in the test stack's Telegram channel talks to."""
    fake = FakeTelegram(TELEGRAM_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def fake_twilio() -> Iterator[FakeTwilio]:
    """The Twilio REST stand-in the test stack's SMS channel talks to."""
    fake = FakeTwilio(TWILIO_SID, TWILIO_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def fake_translator() -> Iterator[FakeTranslator]:
    """The translator service stand-in (es↔en phrase book) the console's translations come from."""
    fake = FakeTranslator().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, neutral_site: str, fake_telegram: FakeTelegram,
          fake_twilio: FakeTwilio, fake_translator: FakeTranslator) -> Iterator[Stack]:
    """One running stack for the whole integration session, with its own data dir and ports."""
    data_dir: Path = tmp_path_factory.mktemp("safeline-data")
    env = {
        "SAFELINE_QUICK_EXIT_URL": neutral_site,
        # The operator console: the first supervisor and the integration API token.
        "SAFELINE_ADMIN_PASSWORD": CONSOLE_ADMIN_PASSWORD,
        "SAFELINE_ADMIN_TOTP_SECRET": CONSOLE_ADMIN_TOTP_SECRET,
        "SAFELINE_API_TOKEN": CONSOLE_API_TOKEN,
        **os.environ,
        "SAFELINE_DATA_DIR": str(data_dir),
        "SAFELINE_PORT": str(free_port()),
        "SAFELINE_INTERNAL_PORT": str(free_port()),
        "RASA_PORT": str(free_port()),
        "ACTIONS_PORT": str(free_port()),
        "SAFELINE_EMERGENCY_NUMBER": "112",
        "RASA_TELEMETRY_ENABLED": "false",
        "SAFELINE_PUBLIC_URL": PUBLIC_URL,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": fake_telegram.url,
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": TWILIO_NUMBER,
        "TWILIO_API_BASE_URL": fake_twilio.url,
        # Faster recovery than production defaults, so outage tests stay short.
        "SAFELINE_RETRY_MAX_DELAY": "1",
        "SAFELINE_UNAVAILABLE_NOTICE_AFTER": "2",
        "SAFELINE_DEBUG_STORE_DUMP": "true",
        "TRANSLATOR_URL": fake_translator.url,
    }
    env.pop("REDIS_URL", None)
    running = Stack(env, model=latest_model())
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def base_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.settings.port}"


@pytest.fixture(scope="session")
def rasa_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.settings.rasa_port}"
