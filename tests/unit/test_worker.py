"""The worker on an in-process store with a scripted gateway and channel: order, retries, notices, once."""
from __future__ import annotations

import asyncio
import time
from typing import Any, Optional

import pytest

import bot.worker as worker_module
from bot.address_vault import AddressVault
from bot.channels.base import Composition, DeliveryError, Step
from bot.config import Settings
from bot.gateway import Reply
from bot.locales import Catalog, load_locales
from bot.rasa_client import RasaUnavailable
from bot.stores.memory import MemoryStore
from bot.worker import DROP, HOLD, INBOUND, OUTBOX, SEND, Worker, delivery_decision, running

CATALOG = Catalog(load_locales(), "en", {"helpline_name": "Safeline", "emergency_number": "112"})


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(worker_module, "backoff", lambda attempt, cap: 0.02)


def settings(**env: str) -> Settings:
    return Settings.from_env({"SAFELINE_SECRET_KEY": "s" * 48, "SAFELINE_UNAVAILABLE_NOTICE_AFTER": "0", **env})


class ScriptedGateway:
    """Answers "re: <text>" after an optional delay; can be 'down' for a while."""

    def __init__(self, store: MemoryStore):
        self.store = store
        self.catalog = CATALOG
        self.erase_hooks: list = []
        self.down_until = 0.0
        self.turns: list[tuple[str, str]] = []
        self.delays: dict[str, float] = {}

    async def handle_text(self, channel: str, conversation: str, text: str,
                          language_hint: Optional[str] = None) -> Reply:
        if time.monotonic() < self.down_until:
            raise RasaUnavailable("Rasa unreachable: ClientConnectorError")
        await asyncio.sleep(self.delays.get(text, 0))
        self.turns.append((conversation, text))
        if text == "/affirm-delete":
            for hook in self.erase_hooks:
                await hook(conversation)
            await self.store.delete_conversation(conversation)
            return Reply(messages=[{"text": "deleted"}], language="en", erased=True)
        return Reply(messages=[{"text": f"re: {text}"}], language="en")


class RecordingChannel:
    """A channel that records deliveries and can fail a scripted number of times."""

    name = "fake"
    erased_notice = "utter_data_deleted"

    def __init__(self) -> None:
        self.delivered: list[tuple[str, str]] = []
        self.failures: list[DeliveryError] = []
        self.erased: list[tuple[str, list[str]]] = []
        self._ids = iter(range(1, 10_000))

    def routes(self) -> list:
        return []

    def interpret(self, entry: dict[str, Any], prefs: dict[str, Any]) -> Step:
        if entry["text"] == "discreet":
            return Step(respond="utter_ok", prefs={"discreet": True})
        return Step(rasa_text=entry["text"])

    def compose(self, messages, language, prefs, *, operator=False, continuation=False) -> Composition:
        prefix = f"{prefs['code_word']}: " if operator and prefs.get("code_word") else ""
        return Composition([{"text": prefix + m["text"]} for m in messages])

    async def deliver(self, address: str, payload: dict[str, Any], entry: dict[str, Any]) -> list[str]:
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append((address, payload["text"]))
        return [str(next(self._ids))]

    async def erase_traces(self, address: str, refs: list[str]) -> None:
        self.erased.append((address, refs))

    async def close(self) -> None:
        pass


def make(**env: str) -> tuple[Worker, MemoryStore, ScriptedGateway, RecordingChannel, AddressVault]:
    config = settings(**env)
    store = MemoryStore(3600)
    gateway = ScriptedGateway(store)
    channel = RecordingChannel()
    vault = AddressVault(config.secret_key, 3600)
    return Worker(config, gateway, {"fake": channel}, vault), store, gateway, channel, vault


def inbound(vault: AddressVault, address: str, text: str, received_at: Optional[float] = None) -> dict[str, Any]:
    return {"channel": "fake", "conversation": f"conv-{address}", "address": vault.seal("fake", address),
            "kind": "text", "text": text, "received_at": received_at or time.time()}


async def settle(store: MemoryStore, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await store.queue_depth(INBOUND) == 0 and await store.queue_depth(OUTBOX) == 0:
            await asyncio.sleep(0.05)
            if await store.queue_depth(INBOUND) == 0 and await store.queue_depth(OUTBOX) == 0:
                return
        await asyncio.sleep(0.01)
    raise AssertionError("worker did not settle")


def test_each_conversation_is_answered_in_order_while_conversations_run_in_parallel():
    async def scenario():
        worker, store, gateway, channel, vault = make()
        gateway.delays = {"a0": 0.2, "b1": 0.1}
        async with running(worker):
            for i in range(4):
                await store.queue_push(INBOUND, inbound(vault, "A", f"a{i}"))
                await store.queue_push(INBOUND, inbound(vault, "B", f"b{i}"))
            await settle(store)
        return channel.delivered

    delivered = asyncio.run(scenario())
    assert [t for a, t in delivered if a == "A"] == [f"re: a{i}" for i in range(4)]
    assert [t for a, t in delivered if a == "B"] == [f"re: b{i}" for i in range(4)]
    assert delivered.index(("B", "re: b0")) < delivered.index(("A", "re: a0"))  # B did not wait for A


def test_while_rasa_is_down_the_person_gets_one_notice_then_every_answer_once_in_order():
    async def scenario():
        worker, store, gateway, channel, vault = make()
        gateway.down_until = time.monotonic() + 0.5
        async with running(worker):
            for text in ("first", "second", "third"):
                await store.queue_push(INBOUND, inbound(vault, "A", text))
            await settle(store)
        return channel.delivered, gateway.turns

    delivered, turns = asyncio.run(scenario())
    notice = CATALOG.render("utter_service_unavailable", "en")["text"]
    assert [t for _, t in delivered] == [notice, "re: first", "re: second", "re: third"]
    assert [t for _, t in turns] == ["first", "second", "third"]


def test_a_channel_outage_is_retried_and_a_refusal_is_not():
    async def scenario():
        worker, store, gateway, channel, vault = make()
        channel.failures = [DeliveryError("down", retry=True), DeliveryError("down", retry=True),
                            DeliveryError("blocked", retry=False)]
        async with running(worker):
            for text in ("one", "two", "three"):
                await store.queue_push(INBOUND, inbound(vault, "A", text))
            await settle(store)
        return channel.delivered

    assert [t for _, t in asyncio.run(scenario())] == ["re: two", "re: three"]  # "one" refused after retries


def test_a_reply_is_not_sent_after_the_silence_window():
    async def scenario():
        worker, store, gateway, channel, vault = make(SAFELINE_SILENCE_WINDOW="60")
        async with running(worker):
            await store.queue_push(INBOUND, inbound(vault, "A", "old", received_at=time.time() - 120))
            await store.queue_push(INBOUND, inbound(vault, "A", "new"))
            await settle(store)
        return channel.delivered, gateway.turns

    delivered, turns = asyncio.run(scenario())
    assert [t for _, t in turns] == ["old", "new"]  # still processed …
    assert [t for _, t in delivered] == ["re: new"]  # … but not answered after the silence


def test_an_entry_left_by_a_stopped_worker_is_processed_once_by_another():
    async def scenario():
        worker, store, gateway, channel, vault = make()
        await store.queue_push(INBOUND, inbound(vault, "A", "hello"))
        await store.queue_claim(INBOUND, "dead-worker", 10, stale_after_s=60)
        original = worker_module.STALE_AFTER_S
        worker_module.STALE_AFTER_S = 0.2
        try:
            async with running(worker):
                await settle(store)
        finally:
            worker_module.STALE_AFTER_S = original
        return channel.delivered

    assert [t for _, t in asyncio.run(scenario())] == ["re: hello"]


def test_an_entry_that_keeps_failing_is_dropped_and_does_not_block_its_conversation():
    async def scenario():
        worker, store, gateway, channel, vault = make()
        bad = inbound(vault, "A", "boom")
        del bad["received_at"]  # a malformed entry makes the handler raise
        await store.queue_push(INBOUND, bad)
        await store.queue_push(INBOUND, inbound(vault, "A", "fine"))
        async with running(worker):
            await settle(store)
        return channel.delivered

    assert [t for _, t in asyncio.run(scenario())] == ["re: fine"]


def test_erasure_deletes_remote_traces_and_every_record():
    async def scenario():
        worker, store, gateway, channel, vault = make()
        async with running(worker):
            await store.queue_push(INBOUND, {**inbound(vault, "A", "hello"), "trace": "77"})
            await settle(store)
            await store.queue_push(INBOUND, inbound(vault, "A", "/affirm-delete"))
            await settle(store)
        dump = await store.export()
        return channel, dump

    channel, dump = asyncio.run(scenario())
    (address, refs), = channel.erased
    assert address == "A" and "77" in refs and "1" in refs  # the person's message and the bot's reply
    assert channel.delivered[-1][1] == CATALOG.render("utter_data_deleted", "en")["text"]
    for section in ("prefs", "addresses", "traces", "conversations"):
        assert "conv-A" not in dump[section], section


def test_operator_messages_respect_discreet_mode_and_start_with_the_code_word():
    async def scenario():
        worker, store, gateway, channel, vault = make(SAFELINE_SILENCE_WINDOW="60")
        async with running(worker):
            await store.queue_push(INBOUND, inbound(vault, "A", "discreet", received_at=time.time() - 120))
            await settle(store)
            await store.update_prefs("conv-A", {"code_word": "tulip"}, 3600)
            assert await worker.send_operator_message("conv-A", "We are here.")
            await settle(store)
            held = list(channel.delivered)
            await store.queue_push(INBOUND, inbound(vault, "A", "hi again"))
            await settle(store)
        return held, channel.delivered

    held, delivered = asyncio.run(scenario())
    assert held == []  # "never write first": nothing, not even the confirmation, after the silence
    assert [t for _, t in delivered] == ["tulip: We are here.", "re: hi again"]


@pytest.mark.parametrize("kind,prefs,age,expected", [
    ("reply", {}, 10, SEND),
    ("reply", {}, 1000, DROP),
    ("notice", {"opted_out": True}, 1, DROP),
    ("operator", {"last_inbound_at": 0}, 0, SEND),
    ("operator", {"last_inbound_at": 0, "discreet": True}, 0, HOLD),
])
def test_delivery_decision(kind, prefs, age, expected):
    now = 10_000.0
    prefs = {**prefs, "last_inbound_at": now - 1000} if "last_inbound_at" in prefs else prefs
    entry = {"kind": kind, "prompted_at": now - age}
    assert delivery_decision(entry, prefs, now, silence_s=900) == expected


def test_the_memory_store_forgets_expired_one_time_keys_nobody_asks_for_again():
    now = [0.0]
    store = MemoryStore(3600, clock=lambda: now[0])

    async def scenario():
        for i in range(10):
            await store.claim_once(f"seen:{i}", ttl_s=10)
        now[0] = 100.0
        for i in range(2000):
            await store.claim_once(f"later:{i}", ttl_s=1000)
        return await store.export()

    assert not any(key.startswith("seen:") for key in asyncio.run(scenario())["once"])
