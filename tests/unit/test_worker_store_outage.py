"""The worker while its store is unreachable (Redis restarting): entries wait, none is dropped or stuck."""
from __future__ import annotations

import asyncio

import pytest
import redis.exceptions

import bot.worker as worker_module
from bot.worker import INBOUND, running
from test_worker import inbound, make, settle


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(worker_module, "backoff", lambda attempt, cap: 0.02)


def failing(store, method: str, times: int) -> None:
    """Make `store.method` raise a Redis connection error `times` times, then work again."""
    original = getattr(store, method)
    left = {"n": times}

    async def flaky(*args, **kwargs):
        if left["n"] > 0:
            left["n"] -= 1
            raise redis.exceptions.ConnectionError("Connection refused")
        return await original(*args, **kwargs)

    setattr(store, method, flaky)


@pytest.mark.parametrize("method", ["queue_ack", "get_prefs", "update_prefs", "queue_touch"])
def test_a_store_outage_longer_than_the_retries_loses_no_message_and_keeps_the_order(method):
    async def scenario():
        worker, store, gateway, channel, vault = make()
        gateway.down_until = 0.0
        failing(store, method, 8)  # more failures than an ordinary error is retried
        async with running(worker):
            for text in ("one", "two", "three"):
                await store.queue_push(INBOUND, inbound(vault, "A", text))
            await settle(store)
        return channel.delivered

    delivered = [t for _, t in asyncio.run(scenario())]
    assert delivered[-3:] == ["re: one", "re: two", "re: three"]
    assert sorted(set(delivered)) == sorted(delivered)  # nothing twice
