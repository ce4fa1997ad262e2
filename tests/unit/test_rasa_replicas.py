"""Rasa replicas: every conversation always goes to the same replica, and adding one moves few."""
from __future__ import annotations

import asyncio
import secrets
from collections import Counter

import pytest
from aiohttp import web

from bot.config import ConfigError, Settings
from bot.rasa_client import RasaClient, replica_for

TWO = ["http://rasa-a:5005", "http://rasa-b:5005"]
THREE = TWO + ["http://rasa-c:5005"]


def pseudonyms(n: int) -> list[str]:
    return [secrets.token_hex(32) for _ in range(n)]


def test_a_conversation_always_maps_to_the_same_replica_whatever_the_order_of_the_list():
    for conversation in pseudonyms(200):
        assert replica_for(conversation, TWO) == replica_for(conversation, list(reversed(TWO)))


def test_conversations_spread_evenly_over_the_replicas():
    counts = Counter(replica_for(c, THREE) for c in pseudonyms(3000))
    assert set(counts) == set(THREE)
    assert all(800 < n < 1200 for n in counts.values()), counts


def test_adding_a_replica_moves_only_the_conversations_the_new_one_takes():
    conversations = pseudonyms(3000)
    moved = [c for c in conversations if replica_for(c, TWO) != replica_for(c, THREE)]
    assert all(replica_for(c, THREE) == THREE[2] for c in moved)
    assert 0.25 < len(moved) / len(conversations) < 0.42  # about 1/3, not a reshuffle


def test_rasa_urls_setting_defaults_to_the_single_rasa(tmp_path):
    base = {"SAFELINE_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).rasa_urls == ("http://127.0.0.1:5005",)
    assert Settings.from_env({**base, "RASA_URL": "http://rasa:5005/"}).rasa_urls == ("http://rasa:5005",)
    both = Settings.from_env({**base, "RASA_URLS": "http://r1:5005, http://r2:5005/"})
    assert both.rasa_urls == ("http://r1:5005", "http://r2:5005")
    with pytest.raises(ConfigError, match="RASA_URLS"):
        Settings.from_env({**base, "RASA_URLS": "r1:5005"})


def test_the_client_sends_every_request_of_a_conversation_to_its_replica():
    async def scenario() -> None:
        seen: dict[str, list[str]] = {}
        runners, urls = [], []
        for name in ("a", "b"):
            async def webhook(request: web.Request, name: str = name) -> web.Response:
                body = await request.json()
                seen.setdefault(name, []).append(body["sender"])
                return web.json_response([{"text": "ok"}])

            async def events(request: web.Request, name: str = name) -> web.Response:
                seen.setdefault(name, []).append(request.match_info["conversation"])
                return web.json_response({})

            app = web.Application()
            app.router.add_post("/webhooks/rest/webhook", webhook)
            app.router.add_route("*", "/conversations/{conversation}/tracker/events", events)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            runners.append(runner)
            urls.append(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}")
        client = RasaClient(urls, timeout_s=5)
        conversations = pseudonyms(20)
        try:
            for conversation in conversations:
                await client.set_slots(conversation, {"language": "en"})
                assert await client.send(conversation, "hello") == [{"text": "ok"}]
                await client.erase(conversation)
        finally:
            await client.close()
            for runner in runners:
                await runner.cleanup()
        assert set(seen) == {"a", "b"}  # both replicas got conversations …
        for conversation in conversations:  # … and each conversation went to one replica only
            where = {name for name, senders in seen.items() if conversation in senders}
            assert len(where) == 1
            assert sum(senders.count(conversation) for senders in seen.values()) == 3

    asyncio.run(scenario())


def test_a_separate_worker_needs_the_shared_redis(tmp_path):
    base = {"SAFELINE_DATA_DIR": str(tmp_path), "SAFELINE_EMBEDDED_WORKER": "false"}
    with pytest.raises(ConfigError, match="REDIS_URL"):
        Settings.from_env(base)
    assert Settings.from_env({**base, "REDIS_URL": "redis://127.0.0.1:6379/0"}).embedded_worker is False
