"""Starts the real local stack (Rasa with the trained model, action server, Safeline) on free ports."""
from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Iterator

import pytest

from bot.stack import Stack, latest_model


def free_port() -> int:
    """A currently free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One running stack for the whole integration session, with its own data dir and ports."""
    data_dir: Path = tmp_path_factory.mktemp("safeline-data")
    env = {
        **os.environ,
        "SAFELINE_DATA_DIR": str(data_dir),
        "SAFELINE_PORT": str(free_port()),
        "SAFELINE_INTERNAL_PORT": str(free_port()),
        "RASA_PORT": str(free_port()),
        "ACTIONS_PORT": str(free_port()),
        "SAFELINE_EMERGENCY_NUMBER": "112",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    for name in ("REDIS_URL", "TELEGRAM_BOT_TOKEN", "TWILIO_AUTH_TOKEN"):
        env.pop(name, None)
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
