"""Several workers on the same queues (as several worker processes on one Redis): each conversation's
messages still run one at a time, in order, once; an older entry reclaimed late still goes first."""
from __future__ import annotations

import asyncio
import random
import time
from typing import Any, Optional

import pytest

import bot.worker as worker_module
from bot.address_vault import AddressVault
from bot.gateway import Reply
from bot.stores.memory import MemoryStore
from bot.worker import INBOUND, Worker, running
from test_worker import CATALOG, RecordingChannel, inbound, settings, settle


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(worker_module, "backoff", lambda attempt, cap: 0.02)
    monkeypatch.setattr(worker_module, "EARLIER_WAIT_S", 0.01)


class SharedRecord:
    """What every worker's gateway did: turns in order, who ran them, and any overlap per conversation."""

    def __init__(self) -> None:
        self.turns: list[tuple[str, str, str]] = []
        self.active: set[str] = set()
        self.overlaps: list[str] = []
        self.delays: dict[str, float] = {}


class Gateway:
    """A gateway stand-in for one worker, writing to the shared record."""

    def __init__(self, name: str, store: MemoryStore, record: SharedRecord):
        self.name, self.store, self.record = name, store, record
        self.catalog = CATALOG
        self.erase_hooks: list = []

    async def handle_text(self, channel: str, conversation: str, text: str,
                          language_hint: Optional[str] = None) -> Reply:
        if conversation in self.record.active:
            self.record.overlaps.append(conversation)
        self.record.active.add(conversation)
        try:
            await asyncio.sleep(self.record.delays.get(text, random.uniform(0.005, 0.03)))
            self.record.turns.append((self.name, conversation, text))
        finally:
            self.record.active.discard(conversation)
        return Reply(messages=[{"text": f"re: {text}"}], language="en")


def workers(store: MemoryStore, record: SharedRecord, count: int = 2) -> tuple[list[Worker], RecordingChannel, AddressVault]:
    claim = store.queue_claim

    async def claim_over_the_network(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.001)  # as with Redis: each claim waits, so the workers take turns
        return await claim(*args, **kwargs)

    store.queue_claim = claim_over_the_network
    config = settings()
    channel = RecordingChannel()
    vault = AddressVault(config.secret_key, 3600)
    return [Worker(config, Gateway(f"w{i}", store, record), {"fake": channel}, vault) for i in range(count)], channel, vault


def test_two_workers_keep_each_conversation_in_order_one_turn_at_a_time(monkeypatch):
    monkeypatch.setattr(worker_module, "CLAIM_BATCH", 4)  # so both workers get a share

    async def scenario():
        store, record = MemoryStore(3600), SharedRecord()
        (first, second), channel, vault = workers(store, record)
        people = [f"P{i}" for i in range(6)]
        async with running(first), running(second):
            rng = random.Random(3)
            for n in range(15):
                for person in rng.sample(people, len(people)):  # so a conversation's entries go to both
                    await store.queue_push(INBOUND, inbound(vault, person, f"{person}-{n}"))
                await asyncio.sleep(0.005)
            await settle(store, timeout=30)
        return record, channel, people

    record, channel, people = asyncio.run(scenario())
    assert record.overlaps == []
    for person in people:
        expected = [f"{person}-{n}" for n in range(15)]
        assert [text for _, c, text in record.turns if c == f"conv-{person}"] == expected
        assert [text for address, text in channel.delivered if address == person] == [f"re: {t}" for t in expected]
    assert {name for name, _, _ in record.turns} == {"w0", "w1"}  # both did work


def test_an_older_entry_reclaimed_from_a_dead_worker_goes_before_the_newer_one(monkeypatch):
    monkeypatch.setattr(worker_module, "STALE_AFTER_S", 0.3)

    async def scenario():
        store, record = MemoryStore(3600), SharedRecord()
        (worker,), channel, vault = workers(store, record, count=1)
        await store.queue_push(INBOUND, inbound(vault, "A", "first"))
        await store.queue_claim(INBOUND, "dead-worker", 10, stale_after_s=60)  # held by a worker that died
        await store.queue_push(INBOUND, inbound(vault, "A", "second"))
        async with running(worker):
            await settle(store, timeout=10)
        return record

    assert [text for _, _, text in asyncio.run(scenario()).turns] == ["first", "second"]


def test_a_long_turn_is_not_taken_for_stale_by_the_other_worker(monkeypatch):
    monkeypatch.setattr(worker_module, "STALE_AFTER_S", 0.3)
    monkeypatch.setattr(worker_module, "HEARTBEAT_S", 0.05)

    async def scenario():
        store, record = MemoryStore(3600), SharedRecord()
        record.delays = {"slow": 1.0}
        (first, second), channel, vault = workers(store, record)
        async with running(first), running(second):
            for text in ("slow", "next", "last"):
                await store.queue_push(INBOUND, inbound(vault, "A", text))
            await settle(store, timeout=10)
        return record

    record = asyncio.run(scenario())
    assert [text for _, _, text in record.turns] == ["slow", "next", "last"]
    assert record.overlaps == []
