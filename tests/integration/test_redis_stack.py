"""The production store mode end to end: REDIS_URL set, Rasa's tracker and lock stores on Redis.

A second stack, started against the test suite's real redis-server, holds conversations in Redis;
every key it writes must expire and carry a known prefix, and "delete my data" removes the
conversation's keys at once.
"""
from __future__ import annotations

import asyncio
import os
import secrets
from typing import Iterator

import httpx
import pytest
import redis

from bot.pseudonym import pseudonym
from bot.stack import Stack, latest_model
from conftest import free_port

KNOWN_KINDS = {"conv", "handoffs", "handoff_index", "addr", "prefs", "traces", "once", "q", "tracker", "lock",
               "ho", "hoconv", "ho_index", "mbox", "sess", "hits"}
# Kept on purpose without expiry: console accounts, the append-only audit log, anonymous statistics.
PERMANENT = {"safeline:perm:accounts", "safeline:perm:audit", "safeline:perm:stats"}


@pytest.fixture(scope="module")
def redis_stack(tmp_path_factory, redis_server) -> Iterator[Stack]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    env = {**os.environ, "REDIS_URL": redis_server.url,
           "SAFELINE_DATA_DIR": str(tmp_path_factory.mktemp("redis-mode")),
           "SAFELINE_PORT": str(free_port()), "SAFELINE_INTERNAL_PORT": str(free_port()),
           "RASA_PORT": str(free_port()), "ACTIONS_PORT": str(free_port()), "RASA_TELEMETRY_ENABLED": "false",
           "SAFELINE_START_TRANSLATOR": "false"}
    for name in ("TELEGRAM_BOT_TOKEN", "TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID"):
        env.pop(name, None)
    stack = Stack(env, model=latest_model())
    stack.start()
    yield stack
    stack.stop()


def say(stack: Stack, session: str, text: str) -> dict:
    response = httpx.post(f"http://127.0.0.1:{stack.settings.port}/webchat/messages",
                          json={"session": session, "text": text}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_conversations_live_in_redis_and_every_key_expires_under_a_known_prefix(redis_stack, redis_server):
    sessions = [secrets.token_hex(16) for _ in range(5)]
    for session, text in zip(sessions, ["hola necesito ayuda", "I need help, my boss keeps my passport",
                                        "สวัสดีค่ะ ช่วยด้วย", "bonjour j'ai besoin d'aide", "can I talk to a person"]):
        say(redis_stack, session, text)
        say(redis_stack, session, "ok")
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    keys = client.keys("*")
    assert any(k.startswith("safeline:tracker:") for k in keys), keys
    assert any(k.startswith("safeline:conv:") for k in keys), keys
    for key in keys:
        if key in PERMANENT:
            continue
        prefix, kind = key.split(":")[:2]
        assert prefix == "safeline" and kind in KNOWN_KINDS, key
        # -2: a short-lived lock released between KEYS and TTL; only -1 (no expiry) is a leak.
        assert client.ttl(key) != -1, f"{key} never expires"


def test_delete_my_data_removes_the_conversations_keys_from_redis(redis_stack, redis_server):
    session = secrets.token_hex(16)
    say(redis_stack, session, "my boss took my passport and I cannot leave")
    say(redis_stack, session, "please delete all my data")
    say(redis_stack, session, "/affirm")
    conversation = pseudonym(redis_stack.settings.secret_key, "webchat", session)
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    assert client.keys(f"safeline:conv:{conversation}") == []
    tracker = client.get(f"safeline:tracker:{conversation}")
    assert tracker is None or '"event": "user"' not in tracker and '"event":"user"' not in tracker
