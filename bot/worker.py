"""The worker: queued inbound messages → Rasa (through the gateway) → queued replies → channels.

Webhooks only authenticate, de-duplicate and queue (`inbound`), then answer at once. The worker
claims entries, runs them one conversation lane at a time (so replies keep their order), and
acknowledges an inbound entry in the same step as it queues the replies (`outbox`), so a turn is
never fed to Rasa twice nor lost. Several workers may share the queues (Redis consumer group): an
entry starts only when no earlier entry of its conversation is unfinished, wherever it is held.
Both stages retry with capped, jittered backoff while Rasa or a channel API is down; a person whose
message waits for Rasa longer than a few seconds gets a short "saved, I'll answer soon" notice
with the emergency number. Nothing is logged of the message text, and errors are logged by type
only (exception messages of HTTP libraries can carry addresses).
"""
from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import random
import time
import uuid
from typing import Any, AsyncIterator, Awaitable, Callable, Optional

from aiohttp import web

from bot.address_vault import AddressVault
from bot.channels.base import TRACE_TTL_S, Channel, Composition, DeliveryError, Step
from bot.channels.neutral import mentions_trafficking
from bot.config import Settings
from bot.gateway import Gateway, Reply
from bot.language import LanguageState
from bot.rasa_client import RasaUnavailable
from bot.stores import STORE_OUTAGES

log = logging.getLogger(__name__)

INBOUND = "inbound"
OUTBOX = "outbox"
STALE_AFTER_S = 60.0  # a claim not renewed for this long belongs to a stopped worker
HEARTBEAT_S = 20.0  # claims held (running or waiting in a lane) are renewed this often
EARLIER_WAIT_S = 0.2  # how often an entry waiting for an earlier one of its conversation looks again
CLAIM_BATCH = 100
SEND, DROP, HOLD = "send", "drop", "hold"

Handler = Callable[[str, dict[str, Any]], Awaitable[None]]


def backoff(attempt: int, cap_s: float) -> float:
    """Delay before retry number `attempt` (0-based): 0.5 s doubling, capped, ±20 % jitter."""
    return min(cap_s, 0.5 * 2 ** min(attempt, 10)) * random.uniform(0.8, 1.2)


def delivery_decision(entry: dict[str, Any], prefs: dict[str, Any], now: float, silence_s: float) -> str:
    """Send, drop or hold an outbound entry, by the person's wishes and the silence window.

    Replies and notices go out only while the person was active within the window. An operator's
    message also goes out after it, unless the person asked for discreet mode ("never write
    first"): then it is held until they write again. Nothing goes to someone who opted out.
    """
    if prefs.get("opted_out"):
        return DROP
    if entry.get("kind") == "operator":
        if now - float(prefs.get("last_inbound_at", 0.0)) <= silence_s:
            return SEND
        return HOLD if prefs.get("discreet") else SEND
    return SEND if now - float(entry.get("prompted_at", 0.0)) <= silence_s else DROP


def _order(entry_id: str) -> tuple[int, ...]:
    """Queue order of an entry id (Redis stream ids "ms-seq", or the in-process store's numbers)."""
    return tuple(int(part) for part in entry_id.split("-"))


class _Lanes:
    """One sequential lane per conversation: its entries run one after another, lanes in parallel.

    With several workers on one queue, an entry starts only when `ready` says no earlier entry of
    its conversation is unfinished anywhere (another worker may hold it); pending entries are kept
    in queue order, so an older one this worker reclaims later still goes first.
    """

    def __init__(self, handler: Handler, ready: Optional[Callable[[str, dict[str, Any]], Awaitable[bool]]] = None):
        self.handler = handler
        self.ready = ready
        self.in_flight: set[str] = set()
        self._pending: dict[str, list[tuple[tuple[int, ...], str, dict[str, Any]]]] = {}
        self._tasks: dict[str, asyncio.Task] = {}

    def submit(self, lane: str, entry_id: str, entry: dict[str, Any]) -> None:
        """Queue an entry on its lane in queue order (ignoring one already there); start the lane if idle."""
        if entry_id in self.in_flight:
            return
        self.in_flight.add(entry_id)
        bisect.insort(self._pending.setdefault(lane, []), (_order(entry_id), entry_id, entry), key=lambda p: p[0])
        if lane not in self._tasks:
            self._tasks[lane] = asyncio.create_task(self._drain(lane))

    async def _drain(self, lane: str) -> None:
        """Run the lane's entries in order until it is empty."""
        pending = self._pending[lane]
        try:
            while pending:
                _, entry_id, entry = pending[0]
                if not await self._ready(entry_id, entry):
                    await asyncio.sleep(EARLIER_WAIT_S)  # another worker is on this conversation
                    continue
                pending.pop(0)
                await self.handler(entry_id, entry)
                self.in_flight.discard(entry_id)
        finally:
            self._tasks.pop(lane, None)
            if not pending:
                self._pending.pop(lane, None)

    async def _ready(self, entry_id: str, entry: dict[str, Any]) -> bool:
        """Whether the entry may start; while the store is unreachable, not yet."""
        if self.ready is None:
            return True
        try:
            return await self.ready(entry_id, entry)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - checked again shortly; the entry stays claimed
            log.warning("could not check the order of an entry (%s); waiting", type(exc).__name__)
            return False

    async def stop(self) -> None:
        """Cancel every lane (their entries stay queued in the store, to be claimed again)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Worker:
    """Runs the inbound and outbox queues of every channel against the gateway and channel APIs."""

    def __init__(self, settings: Settings, gateway: Gateway, channels: dict[str, Channel], vault: AddressVault):
        self.settings = settings
        self.gateway = gateway
        self.store = gateway.store
        self.catalog = gateway.catalog
        self.channels = channels
        self.vault = vault
        self.consumer = f"worker-{uuid.uuid4().hex[:12]}"
        self._inbound = _Lanes(lambda i, e: self._guarded(INBOUND, i, e, self._process_inbound),
                               lambda i, e: self._first_of_conversation(INBOUND, i, e))
        self._outbox = _Lanes(lambda i, e: self._guarded(OUTBOX, i, e, self._process_outbound),
                              lambda i, e: self._first_of_conversation(OUTBOX, i, e))
        self._loops: list[asyncio.Task] = []
        self.handled = {INBOUND: 0, OUTBOX: 0}  # entries this process finished (status, tests)
        gateway.erase_hooks.append(self.before_erase)

    # Running.

    async def start(self) -> None:
        """Start claiming both queues."""
        self._loops = [asyncio.create_task(self._claim_loop(INBOUND, self._inbound)),
                       asyncio.create_task(self._claim_loop(OUTBOX, self._outbox)),
                       asyncio.create_task(self._heartbeat())]
        log.info("worker started (%s)", ", ".join(sorted(self.channels)) or "no channels")

    async def stop(self) -> None:
        """Stop claiming and cancel running lanes; unfinished entries stay queued."""
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        await self._inbound.stop()
        await self._outbox.stop()
        for channel in self.channels.values():
            await channel.close()

    async def running(self, _: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: the worker runs embedded for as long as the app does."""
        await self.start()
        yield
        await self.stop()

    async def _claim_loop(self, queue: str, lanes: _Lanes) -> None:
        """Claim entries as they arrive (and stale ones of stopped workers) onto conversation lanes."""
        while True:
            try:
                claimed = await self.store.queue_claim(queue, self.consumer, CLAIM_BATCH, STALE_AFTER_S, block_s=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a store hiccup must not stop the worker
                log.warning("claiming %s failed (%s); retrying", queue, type(exc).__name__)
                await asyncio.sleep(1.0)
                continue
            for entry_id, entry in claimed:
                lanes.submit(str(entry.get("conversation") or entry_id), entry_id, entry)

    async def _first_of_conversation(self, queue: str, entry_id: str, entry: dict[str, Any]) -> bool:
        """No earlier entry of the same conversation is unfinished (in this worker or another)."""
        conversation = entry.get("conversation")
        return not conversation or await self.store.queue_earlier(queue, entry_id, str(conversation)) is None

    async def _heartbeat(self) -> None:
        """Renew every claim this worker holds, so no live worker's entries are taken as stale."""
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            for queue, lanes in ((INBOUND, self._inbound), (OUTBOX, self._outbox)):
                try:
                    await self.store.queue_touch(queue, self.consumer, sorted(lanes.in_flight))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the next beat tries again
                    log.warning("renewing claims failed (%s)", type(exc).__name__)

    async def _guarded(self, queue: str, entry_id: str, entry: dict[str, Any], handler: Handler) -> None:
        """Run a handler; an unexpected error is retried twice, then the entry is dropped, not looped.

        While the store is unreachable (e.g. Redis restarting) the entry is retried for as long as
        that takes: nothing is wrong with it, and dropping or forgetting it would lose a message.
        """
        failures = outages = 0
        while True:
            try:
                if failures == 3:
                    await self.store.queue_ack(queue, entry_id)
                else:
                    await handler(entry_id, entry)
                self.handled[queue] += 1
                return
            except asyncio.CancelledError:
                raise
            except STORE_OUTAGES as exc:
                if outages == 0:
                    log.warning("store unavailable during a %s entry (%s); retrying", queue, type(exc).__name__)
                await asyncio.sleep(backoff(outages, self.settings.retry_max_delay_s))
                outages += 1
            except Exception as exc:  # noqa: BLE001 - one bad entry must not block its conversation
                failures += 1
                log.error("%s entry failed (%s), attempt %d of 3", queue, type(exc).__name__, failures)
                if failures < 3:
                    await asyncio.sleep(backoff(failures - 1, self.settings.retry_max_delay_s))

    async def _pause(self, queue: str, entry_id: str, delay: float) -> None:
        """Keep the claim alive and wait before the next attempt."""
        await self.store.queue_touch(queue, self.consumer, [entry_id])
        await asyncio.sleep(delay)

    async def status(self) -> dict[str, Any]:
        """Queue depths and what this process handled, for health checks and tests (no content)."""
        return {"inbound": await self.store.queue_depth(INBOUND), "outbox": await self.store.queue_depth(OUTBOX),
                "handled_here": dict(self.handled)}

    # Inbound: one entry is one message a person sent.

    async def _process_inbound(self, entry_id: str, entry: dict[str, Any]) -> None:
        """Interpret, answer (through Rasa or locally), and queue the replies as the entry is acked."""
        channel = self.channels.get(entry.get("channel", ""))
        if channel is None:
            log.warning("inbound entry for a channel that is off; dropped")
            await self.store.queue_ack(INBOUND, entry_id)
            return
        conversation = entry["conversation"]
        prefs = await self.store.get_prefs(conversation)
        step = channel.interpret(entry, prefs)
        follow_ups: list[dict[str, Any]] = []
        if not entry.get("stateless"):
            prefs = await self._remember(conversation, entry, step, prefs)
            follow_ups += await self._release_held(conversation, entry, prefs)
        if step.silent:
            await self.store.queue_ack(INBOUND, entry_id, [(OUTBOX, e) for e in follow_ups])
            return

        erased = False
        if step.rasa_text is not None:
            reply = await self._turn(entry_id, entry, channel, step.rasa_text)
            erased, language = reply.erased, reply.language
            messages = reply.messages
            if erased:  # the channel says what erasure did there (e.g. deleted chat messages)
                messages = self._render(channel.erased_notice, language, {})
                prefs = {}
        else:
            language = await self._language(conversation, entry.get("hint"))
            messages = step.messages or self._render(step.respond, language, step.values)
        composition = channel.compose(messages, language, prefs, continuation=step.continuation)
        if composition.prefs and not erased and not entry.get("stateless"):
            await self.store.update_prefs(conversation, composition.prefs, self.settings.conversation_ttl_s)
        follow_ups += self._outbound_entries(entry, composition, "reply", untraced=erased)
        await self.store.queue_ack(INBOUND, entry_id, [(OUTBOX, e) for e in follow_ups])

    async def _remember(self, conversation: str, entry: dict[str, Any], step: Step,
                        prefs: dict[str, Any]) -> dict[str, Any]:
        """Save activity, preferences, the sealed address and the message trace; return new prefs."""
        ttl = self.settings.conversation_ttl_s
        changes: dict[str, Any] = {"channel": entry["channel"], **step.prefs}
        changes["last_inbound_at"] = max(float(prefs.get("last_inbound_at", 0.0)), float(entry["received_at"]))
        if entry.get("kind") == "text" and mentions_trafficking(str(entry.get("text", ""))):  # typed, not tapped
            changes["said_trafficking"] = True
        if step.forget_address:
            await self.store.delete_address(conversation)
        elif entry.get("address"):
            await self.store.put_address(conversation, entry["address"], self.settings.address_ttl_s)
        if entry.get("trace"):
            await self.store.add_trace(conversation, str(entry["trace"]), float(entry["received_at"]), TRACE_TTL_S)
        await self.store.update_prefs(conversation, changes, ttl)
        merged = {**prefs, **changes}
        return {k: v for k, v in merged.items() if v is not None}

    async def _release_held(self, conversation: str, entry: dict[str, Any],
                            prefs: dict[str, Any]) -> list[dict[str, Any]]:
        """Operator messages held in discreet mode go out now that the person wrote again."""
        held = prefs.pop("held", None)
        if not held:
            return []
        await self.store.update_prefs(conversation, {"held": None}, self.settings.conversation_ttl_s)
        now = time.time()
        return [{"channel": entry["channel"], "conversation": conversation, "address": entry.get("address"),
                 "kind": "operator", "prompted_at": now, "payload": payload} for payload in held]

    async def _turn(self, entry_id: str, entry: dict[str, Any], channel: Channel, text: str) -> Reply:
        """One gateway turn, retried until Rasa answers; a notice goes out if that takes a while."""
        started = time.monotonic()
        noticed = False
        attempt = 0
        while True:
            try:
                return await self.gateway.handle_text(channel.name, entry["conversation"], text,
                                                      language_hint=entry.get("hint"))
            except RasaUnavailable as exc:
                if attempt == 0:
                    log.warning("Rasa unavailable (%s); the message stays queued", exc)
            waited = time.monotonic() - started
            if not noticed and waited >= self.settings.unavailable_notice_s:
                noticed = True
                await self._notify_unavailable(entry, channel)
            await self._pause(INBOUND, entry_id, backoff(attempt, self.settings.retry_max_delay_s))
            attempt += 1

    async def _notify_unavailable(self, entry: dict[str, Any], channel: Channel) -> None:
        """Queue the short 'saved, I will answer soon' message, with the emergency number."""
        conversation = entry["conversation"]
        language = await self._language(conversation, entry.get("hint"))
        prefs = await self.store.get_prefs(conversation)
        messages = self._render("utter_service_unavailable", language, {})
        composition = channel.compose(messages, language, prefs, continuation=True)
        for outbound in self._outbound_entries(entry, composition, "notice"):
            await self.store.queue_push(OUTBOX, outbound)

    def _render(self, name: Optional[str], language: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        """A locale response as a message list (empty if the name is unknown)."""
        message = self.catalog.render(name, language, values) if name else None
        return [message] if message else []

    async def _language(self, conversation: str, hint: Optional[str]) -> str:
        """The conversation's language; for a new one, the channel's hint if we speak it."""
        record = await self.store.get_conversation(conversation)
        if record and "language" in record:
            return LanguageState.from_dict(record["language"]).language
        return hint if hint in self.settings.languages else self.settings.default_language

    @staticmethod
    def _outbound_entries(entry: dict[str, Any], composition: Composition, kind: str,
                          untraced: bool = False) -> list[dict[str, Any]]:
        """Outbox entries for composed payloads, carrying what delivery needs (never the address in clear)."""
        return [{
            "channel": entry["channel"], "conversation": entry["conversation"], "address": entry.get("address"),
            "kind": kind, "prompted_at": float(entry["received_at"]), "origin": entry.get("kind"),
            "ref": entry.get("ref"), "via": entry.get("via"), "untraced": untraced or bool(entry.get("stateless")),
            "payload": payload,
        } for payload in composition.payloads]

    # Outbox: one entry is one message to send.

    async def _process_outbound(self, entry_id: str, entry: dict[str, Any]) -> None:
        """Deliver one message when the person's wishes allow, retrying while the channel is down."""
        channel = self.channels.get(entry.get("channel", ""))
        if channel is None:
            await self.store.queue_ack(OUTBOX, entry_id)
            return
        if entry.get("kind") == "erase":
            await self._erase_remote(entry_id, entry, channel)
            return
        conversation = entry["conversation"]
        attempt = 0
        while True:
            prefs = {} if entry.get("untraced") else await self.store.get_prefs(conversation)
            decision = delivery_decision(entry, prefs, time.time(), self.settings.silence_window_s)
            if decision == HOLD:
                held = list(prefs.get("held") or []) + [entry["payload"]]
                await self.store.update_prefs(conversation, {"held": held}, self.settings.conversation_ttl_s)
            if decision != SEND:
                log.info("%s message %s (%s)", channel.name, "held" if decision == HOLD else "not sent",
                         "opted out" if prefs.get("opted_out") else "silence window")
                break
            address = self.vault.open(channel.name, entry.get("address"))
            if address is None:
                log.info("%s message not sent: the sealed address expired", channel.name)
                break
            try:
                refs = await channel.deliver(address, entry["payload"], entry)
            except DeliveryError as exc:
                if not exc.retry:
                    log.warning("%s refused a message (%s); not retried", channel.name, exc)
                    break
                if attempt == 0:
                    log.warning("%s unavailable (%s); retrying", channel.name, exc)
                await self._pause(OUTBOX, entry_id, exc.after or backoff(attempt, self.settings.retry_max_delay_s))
                attempt += 1
                continue
            if not entry.get("untraced"):
                for ref in refs:
                    await self.store.add_trace(conversation, ref, time.time(), TRACE_TTL_S)
            break
        await self.store.queue_ack(OUTBOX, entry_id)

    async def _erase_remote(self, entry_id: str, entry: dict[str, Any], channel: Channel) -> None:
        """Delete the conversation's messages on the channel, retrying while it is unreachable."""
        address = self.vault.open(channel.name, entry.get("address"))
        refs = [str(r) for r in entry.get("refs", [])]
        deadline = time.monotonic() + self.settings.silence_window_s
        attempt = 0
        while address and refs:
            try:
                await channel.erase_traces(address, refs)
                break
            except DeliveryError as exc:
                if not exc.retry or time.monotonic() > deadline:
                    log.warning("%s message deletion incomplete (%s)", channel.name, exc)
                    break
                await self._pause(OUTBOX, entry_id, exc.after or backoff(attempt, self.settings.retry_max_delay_s))
                attempt += 1
        await self.store.queue_ack(OUTBOX, entry_id)

    # Erasure and operators.

    async def before_erase(self, conversation: str) -> None:
        """Gateway hook: queue deletion of the chat's messages before the records (and address) go."""
        prefs = await self.store.get_prefs(conversation)
        sealed = await self.store.get_address(conversation)
        traces = await self.store.take_traces(conversation)
        oldest = time.time() - TRACE_TTL_S + 60  # a minute's margin for the queue and the API
        refs = [ref for ref, at in traces if at >= oldest]
        if prefs.get("channel") in self.channels and sealed and refs:
            await self.store.queue_push(OUTBOX, {"channel": prefs["channel"], "conversation": conversation,
                                                 "address": sealed, "kind": "erase", "refs": refs})

    async def send_operator_message(self, conversation: str, text: str) -> bool:
        """Queue an operator's message to the person (False if there is no way to reach them).

        It starts with the person's code word if they chose one, and follows `delivery_decision`.
        """
        prefs = await self.store.get_prefs(conversation)
        channel = self.channels.get(prefs.get("channel", ""))
        sealed = await self.store.get_address(conversation)
        if channel is None or not sealed:
            return False
        language = await self._language(conversation, None)
        composition = channel.compose([{"text": text}], language, prefs, operator=True, continuation=True)
        origin = {"channel": channel.name, "conversation": conversation, "address": sealed,
                  "received_at": time.time()}
        for outbound in self._outbound_entries(origin, composition, "operator"):
            await self.store.queue_push(OUTBOX, outbound)
        return True


@contextlib.asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[Worker]:
    """Run a worker for the duration of a block (tests, scripts)."""
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
