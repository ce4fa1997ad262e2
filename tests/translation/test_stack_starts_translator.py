"""`make run` (bot.stack) starts the translator from .venv-translate with the installed Argos packages,
and the console's translations come from it: a Spanish handoff reaches the operator translated."""
from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from bot.stack import Stack, latest_model
from translator_harness import free_port, http_json

API_TOKEN = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def stack(packages_dir: Path, argos_home: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A local stack as `make run` starts it, but on free ports and with the test's Argos packages."""
    import os

    env = {**os.environ, **argos_home,
           "SAFELINE_DATA_DIR": str(tmp_path_factory.mktemp("stack-data")),
           "SAFELINE_PORT": str(free_port()), "SAFELINE_INTERNAL_PORT": str(free_port()),
           "RASA_PORT": str(free_port()), "ACTIONS_PORT": str(free_port()), "TRANSLATOR_PORT": str(free_port()),
           "ARGOS_PACKAGES_DIR": str(packages_dir), "SAFELINE_API_TOKEN": API_TOKEN,
           "SAFELINE_ADMIN_PASSWORD": secrets.token_urlsafe(16), "RASA_TELEMETRY_ENABLED": "false"}
    for name in ("TRANSLATOR_URL", "SAFELINE_START_TRANSLATOR", "REDIS_URL"):
        env.pop(name, None)
    running = Stack(env, model=latest_model())
    running.start()
    yield running
    running.stop()


def say(base_url: str, session: str, text: str) -> dict:
    response = httpx.post(f"{base_url}/webchat/messages", json={"session": session, "text": text}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_stack_starts_the_translator_with_the_installed_packages(stack: Stack):
    assert "translator" in stack.processes and not stack.warnings
    status, health = http_json(stack.settings.translator_url + "/health")
    assert status == 200 and health["packages"] == 3  # es→en, en→fr, pt→en from the fixture


def test_a_spanish_handoff_reaches_the_operator_machine_translated(stack: Stack):
    base_url = f"http://127.0.0.1:{stack.settings.port}"
    session = secrets.token_hex(16)
    say(base_url, session, "hola, mi jefe me quitó el pasaporte")
    say(base_url, session, "quiero hablar con una persona")
    say(base_url, session, '/handoff_consent{"consent":"confidential"}')
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    deadline = time.monotonic() + 30
    while True:  # translations are made in the background, after the person has had their answer
        (case,) = httpx.get(f"{base_url}/api/handoffs", headers=headers, timeout=30).json()
        said = [line for line in case["transcript"] if line["from"] == "person"]
        if all(line.get("machine_translated") for line in said) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert said and all(line["machine_translated"] and line["text_translated"] for line in said), said
    assert "hola, mi jefe me quitó el pasaporte" in [line["text"] for line in said]  # the original is kept
