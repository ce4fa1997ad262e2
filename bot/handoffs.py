"""Handoffs to the helpline team: the queue, relay mode, operator replies, and a clean close.

A handoff record is the CONTRACTS §6 summary plus what the console needs (consent level, who
claimed it, notes, relay flag). It is created when the person chose a consent level after asking
for a person (`handoff` control of action_handoff) or when a screening passed its summary on
(`handoff_summary` control). From then on the conversation is in relay mode: what the person types
goes to the operator's transcript instead of Rasa, translated for the operator in the background,
until the operator hands the conversation back to the bot or closes the case. Operator replies are
translated into the person's language and delivered through the person's channel (web chat:
mailbox polled by the page; Telegram/SMS: the worker's outbox).

On close, anonymous counts are added to the statistics and, after SAFELINE_CLOSED_CASE_RETENTION
seconds (default: at once), the record, the transcript (Safeline's and Rasa's) and the sealed reply
address are deleted.
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Optional

from bot.audit import AuditLog
from bot.config import Settings
from bot.language import LanguageState
from bot.locales import Catalog
from bot.opening_hours import OpeningHours
from bot.stores.base import Store
from bot.translation import Translation

log = logging.getLogger(__name__)

URGENCIES = ("emergency", "high", "medium", "low")
URGENCY_RANK = {name: rank for rank, name in enumerate(URGENCIES)}
CONSENT_LEVELS = ("share", "confidential", "anonymous")
DEFAULT_CONSENT = "confidential"  # what a screening's own consent ("only to our team") amounts to
OUTCOMES = ("referred", "advice_given", "emergency_services", "no_further_contact", "not_trafficking",
            "duplicate_or_test", "other")
ACTIVE = ("open", "claimed")
STATUSES = ("open", "claimed", "closed")
# CONTRACTS §6, in its order.
SUMMARY_FIELDS = ("id", "created_at", "channel", "conversation", "language", "interpreter_needed", "urgency",
                  "reporter", "minor", "forms", "indicators", "needs", "safe_contact", "consent_to_share",
                  "location_hint", "summary_text", "transcript", "status")
TRANSCRIPT_FIELDS = ("from", "text", "text_translated", "machine_translated", "at")
# In relay mode typed words go to the team; these buttons and commands still reach the bot
# (erasure and its confirmation, a language choice), and these are answered with a note.
RELAY_TO_BOT = re.compile(r"^/(delete_my_data|affirm|deny|change_language)(\{.*\})?$", re.DOTALL)
RELAY_ALREADY = re.compile(r"^/(talk_to_human|handoff_consent|start_screening)(\{.*\})?$", re.DOTALL)
PAYLOAD = re.compile(r"^/[a-z_]+(\{.*\})?$", re.DOTALL)
CLOSED_MARGIN_S = 24 * 3600  # closed records outlive their purge time only as a safety net
MAX_NOTE_CHARS = 4000
LOCK_TTL_S = 10  # a record lock left by a stopped process frees itself after this
LOCK_WAIT_S = 5.0

Deliver = Callable[[str, str], Awaitable[bool]]


class HandoffError(Exception):
    """An operator action that the case's state does not allow (the message says why)."""


def _now() -> str:
    """Current time, ISO 8601 UTC."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def queue_order(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most urgent first, then the longest waiting first."""
    return sorted(records, key=lambda r: (URGENCY_RANK.get(str(r.get("urgency")), 2), float(r.get("created_ts") or 0)))


def shared_summary(record: dict[str, Any]) -> dict[str, Any]:
    """The §6 summary as it may leave the console (API, export), within the person's consent.

    `share` and `confidential` give it in full (the API serves the helpline's own case management;
    `consent_to_share` tells integrations whether it may go further). `anonymous` gives no pseudonym,
    location, code word, nor the person's own words (transcript and evidence).
    """
    summary = {name: copy.deepcopy(record.get(name)) for name in SUMMARY_FIELDS}
    summary["transcript"] = [{k: line[k] for k in TRANSCRIPT_FIELDS if k in line}
                             for line in record.get("transcript") or []]
    summary["consent"] = record.get("consent")
    summary["consent_to_share"] = record.get("consent") == "share"
    if record.get("screening"):
        summary["screening"] = copy.deepcopy(record["screening"])
    if record.get("status") == "closed":
        summary["outcome"] = record.get("outcome")
        summary["closed_at"] = record.get("closed_at")
    if record.get("consent") == "anonymous":
        summary["conversation"] = None
        summary["location_hint"] = None
        summary["transcript"] = []
        summary["indicators"] = [{**i, "evidence": None} for i in summary.get("indicators") or []]
        summary["safe_contact"] = {**(summary.get("safe_contact") or {}), "code_word": None}
    return summary


def stats_counters(record: dict[str, Any], outcome: str) -> list[str]:
    """The anonymous counters a closed case adds to: nothing that could point to a person."""
    counters = ["cases", f"outcome:{outcome}", f"urgency:{record.get('urgency') or 'unknown'}",
                f"language:{record.get('language') or 'unknown'}", f"channel:{record.get('channel') or 'unknown'}",
                f"consent:{record.get('consent') or 'unknown'}"]
    forms = [f for f in record.get("forms") or [] if isinstance(f, str)]
    counters += [f"form:{form}" for form in forms] or ["form:none"]
    return counters


@dataclass
class Events:
    """Live notifications for the console (server-sent events): kinds and case ids only, no content."""

    def __post_init__(self) -> None:
        self._queues: set[asyncio.Queue] = set()

    def subscribe(self) -> asyncio.Queue:
        """A queue that receives every event from now on."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=100)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        """Stop receiving events."""
        self._queues.discard(queue)

    def publish(self, kind: str, case: Optional[str] = None) -> None:
        """Tell every listener that something changed (a slow listener just misses an update)."""
        for queue in list(self._queues):
            try:
                queue.put_nowait({"kind": kind, "case": case})
            except asyncio.QueueFull:
                pass


class HandoffService:
    """Creates handoffs from the gateway's control messages, relays, and carries out operator actions."""

    def __init__(self, settings: Settings, store: Store, catalog: Catalog, translator: Any, audit: AuditLog,
                 erase_tracker: Optional[Callable[[str], Awaitable[None]]] = None,
                 deliver_to_channel: Optional[Deliver] = None):
        self.settings = settings
        self.store = store
        self.catalog = catalog
        self.translator = translator
        self.audit = audit
        self.erase_tracker = erase_tracker
        self.deliver_to_channel = deliver_to_channel
        self.hours = OpeningHours.parse(settings.opening_hours, settings.timezone)
        self.events = Events()
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._pairs: Optional[tuple[float, Optional[list[dict]]]] = None

    @property
    def operator_language(self) -> str:
        """The language operators read and write (SAFELINE_OPERATOR_LANGUAGE)."""
        return self.settings.operator_language

    # Reading.

    async def get(self, handoff_id: str) -> Optional[dict[str, Any]]:
        """One record, or None."""
        return await self.store.handoff_get(handoff_id)

    async def all(self) -> list[dict[str, Any]]:
        """Every live record, in queue order."""
        return queue_order(await self.store.handoff_list())

    async def active_for(self, conversation: str) -> Optional[dict[str, Any]]:
        """The conversation's open or claimed handoff, if any."""
        for handoff_id in await self.store.handoff_ids_of(conversation):
            record = await self.store.handoff_get(handoff_id)
            if record and record.get("status") in ACTIVE:
                return record
        return None

    @contextlib.asynccontextmanager
    async def _locked(self, key: str) -> AsyncIterator[None]:
        """One writer at a time per record, across processes too (the app and a separate worker)."""
        async with self._lock:
            name = f"holock:{key}"
            deadline = time.monotonic() + LOCK_WAIT_S
            while not await self.store.claim_once(name, LOCK_TTL_S):
                if time.monotonic() > deadline:  # its holder stopped mid-write: go on, as it expires anyway
                    break
                await asyncio.sleep(0.02)
            try:
                yield
            finally:
                await self.store.release_once(name)

    async def _save(self, record: dict[str, Any]) -> None:
        """Write a record with the expiry its status calls for."""
        record["updated_at"] = _now()
        if record.get("status") == "closed":
            ttl = self.settings.closed_retention_s + CLOSED_MARGIN_S
        else:
            ttl = self.settings.conversation_ttl_s
        await self.store.handoff_put(record, ttl)

    # The gateway's hooks.

    async def intercept(self, channel: str, conversation: str, text: str,
                        state: LanguageState) -> Optional[list[dict[str, Any]]]:
        """In relay mode, take the person's message for the operator (None: let Rasa answer)."""
        record = await self.active_for(conversation)
        if record is None or not record.get("relay"):
            return None
        if RELAY_TO_BOT.match(text):
            return None
        language = record.get("language") or state.language
        if RELAY_ALREADY.match(text):
            return self._render("utter_handoff_already", language)
        line: dict[str, Any] = {"from": "person", "text": text, "at": _now()}
        if PAYLOAD.match(text):
            line["choice"] = True
        async with self._locked(record["id"]):
            record = await self.store.handoff_get(record["id"]) or record
            record.setdefault("transcript", []).append(line)
            index = len(record["transcript"]) - 1
            first = not record.get("relay_noted")
            record["relay_noted"] = True
            record["last_person_at"] = line["at"]
            await self._save(record)
        self.events.publish("case", record["id"])
        self.events.publish("queue")
        if not line.get("choice"):
            self._spawn(self._translate_lines(record["id"], [index]))
        return self._render("utter_handoff_relayed", language) if first else []

    async def after_turn(self, channel: str, conversation: str, state: LanguageState,
                         controls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply the turn's handoff controls; returns messages to add to the bot's reply."""
        requested = any(c.get("handoff_requested") for c in controls)
        screening = [c["handoff_summary"] for c in controls if isinstance(c.get("handoff_summary"), dict)]
        chosen = [c["handoff"] for c in controls if isinstance(c.get("handoff"), dict)]
        if not screening and not chosen:
            return []
        record: Optional[dict[str, Any]] = None
        for summary in screening:
            record = await self._upsert(channel, conversation, state, summary, consent=None)
        for handoff in chosen:
            consent = handoff.get("consent") if handoff.get("consent") in CONSENT_LEVELS else DEFAULT_CONSENT
            summary = handoff.get("summary") if isinstance(handoff.get("summary"), dict) else {}
            record = await self._upsert(channel, conversation, state, summary, consent=consent)
        assert record is not None
        if requested and not chosen:
            return []  # the person is being asked for consent first: relay starts with their answer
        async with self._locked(record["id"]):
            record = await self.store.handoff_get(record["id"]) or record
            was_relaying = record.get("relay")
            record["relay"] = True
            await self._save(record)
        self.events.publish("queue")
        self.events.publish("case", record["id"])
        if was_relaying:
            return []
        return self._render_next_steps(record.get("language") or state.language)

    async def _upsert(self, channel: str, conversation: str, state: LanguageState, summary: dict[str, Any],
                      consent: Optional[str]) -> dict[str, Any]:
        """Create the conversation's handoff, or bring an existing one up to date."""
        async with self._locked(conversation):
            existing = await self.active_for(conversation)
            if existing is None:
                record = await self._new_record(channel, conversation, state, summary, consent or DEFAULT_CONSENT)
                created = True
            else:
                record = _merge(existing, summary)
                if consent:
                    record["consent"] = consent
                    record["consent_to_share"] = consent == "share"
                created = False
            await self._save(record)
        if created:
            log.info("handoff %s queued (%s, urgency %s)", record["id"], channel, record.get("urgency"))
        self._spawn(self._translate_lines(record["id"], None))
        return record

    async def _new_record(self, channel: str, conversation: str, state: LanguageState, summary: dict[str, Any],
                          consent: str) -> dict[str, Any]:
        """A record from the action's or screening's summary, with what only Safeline knows."""
        prefs = await self.store.get_prefs(conversation)
        language = state.language
        needs = [n for n in summary.get("needs") or [] if isinstance(n, str)]
        if state.interpreter_needed and "interpreter" not in needs:
            needs.append("interpreter")
        urgency = summary.get("urgency") if summary.get("urgency") in URGENCY_RANK else "medium"
        record: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "created_at": _now(),
            "created_ts": time.time(),
            "channel": channel,
            "conversation": conversation,
            "language": language,
            "detected_language": state.detected if state.interpreter_needed else None,
            "interpreter_needed": bool(summary.get("interpreter_needed")) or state.interpreter_needed,
            "urgency": urgency,
            "reporter": summary.get("reporter"),
            "minor": summary.get("minor"),
            "forms": [f for f in summary.get("forms") or [] if isinstance(f, str)],
            "indicators": [dict(i) for i in summary.get("indicators") or [] if isinstance(i, dict)],
            "needs": needs,
            "safe_contact": self._safe_contact(channel, prefs, summary.get("safe_contact")),
            "consent": consent,
            "consent_to_share": consent == "share",
            "location_hint": summary.get("location_hint"),
            "summary_text": summary.get("summary_text") or self._summary_text(needs),
            "transcript": [dict(line) for line in summary.get("transcript") or [] if isinstance(line, dict)],
            "status": "open",
            "claimed_by": None,
            "relay": False,
            "notes": [],
        }
        if isinstance(summary.get("screening"), dict):
            record["screening"] = summary["screening"]
        return record

    def _safe_contact(self, channel: str, prefs: dict[str, Any], given: Any) -> dict[str, Any]:
        """How the team may write to the person safely, from their channel choices."""
        contact = {"ok_to_message": True, "times": None, "code_word": None, "notes": None}
        if isinstance(given, dict):
            contact.update({k: v for k, v in given.items() if k in contact and v is not None})
        notes = []
        if prefs.get("discreet"):
            contact["ok_to_message"] = False
            notes.append("Discreet mode: never write first; replies are held until the person writes.")
        if prefs.get("code_word"):
            contact["code_word"] = prefs["code_word"]
            notes.append("Replies start with the person's code word automatically.")
        if channel == "sms":
            notes.append("SMS: keep replies short and neutral; the person may share the phone.")
        elif channel == "webchat":
            notes.append("Web chat: the person sees replies only while their chat page is open.")
        if notes:
            contact["notes"] = " ".join(([contact["notes"]] if contact["notes"] else []) + notes)
        return contact

    def _summary_text(self, needs: list[str]) -> str:
        """The operator's short text for a handoff without screening."""
        labels = [self._text(f"utter_screening_need_{n}", self.operator_language) for n in needs]
        listed = ", ".join(label for label in labels if label) or self._text("utter_screening_none", self.operator_language)
        return self._text("utter_handoff_summary_text", self.operator_language, needs=listed)

    # Translation for the operator (in the background: a slow translator never delays the person).

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        """Run a background task, keeping a reference until it is done."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for background translations (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def shutdown(self) -> None:
        """Cancel background work."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if hasattr(self.translator, "close"):
            await self.translator.close()

    async def _translate_lines(self, handoff_id: str, indexes: Optional[list[int]]) -> None:
        """Add the operator-language translation to transcript lines (and evidence) that lack one."""
        record = await self.store.handoff_get(handoff_id)
        if record is None:
            return
        source = record.get("detected_language") or record.get("language") or ""
        target = self.operator_language
        lines = record.get("transcript") or []
        wanted = [i for i in (indexes if indexes is not None else range(len(lines)))
                  if i < len(lines) and lines[i].get("from") in ("person", "bot")
                  and "machine_translated" not in lines[i] and not lines[i].get("choice")]
        evidence = [n for n, i in enumerate(record.get("indicators") or [])
                    if i.get("evidence") and "evidence_machine_translated" not in i]
        if not wanted and not evidence:
            return
        done: dict[int, Translation] = {}
        for i in wanted:
            done[i] = await self.translator.translate(str(lines[i].get("text", "")), source, target)
        found: dict[int, Translation] = {}
        for n in evidence:
            found[n] = await self.translator.translate(str(record["indicators"][n]["evidence"]), source, target)
        async with self._locked(handoff_id):
            record = await self.store.handoff_get(handoff_id)
            if record is None:
                return
            for i, translation in done.items():
                line = record["transcript"][i]
                if line.get("text") == translation.original:
                    line.update(translation.transcript_fields())
            for n, translation in found.items():
                indicator = record["indicators"][n]
                if indicator.get("evidence") == translation.original:
                    indicator["evidence_machine_translated"] = translation.machine_translated
                    if translation.machine_translated:
                        indicator["evidence_translated"] = translation.text
            await self._save(record)
        self.events.publish("case", handoff_id)

    async def translation_status(self, source: str, target: str) -> str:
        """`same`, `ok`, `no_package` or `unavailable` for a language pair (cached for a minute)."""
        if source == target:
            return "same"
        now = time.monotonic()
        if self._pairs is None or now - self._pairs[0] > 60:
            self._pairs = (now, await self.translator.languages())
        pairs = self._pairs[1]
        if pairs is None:
            return "unavailable"
        return "ok" if any(p.get("source") == source and p.get("target") == target for p in pairs) else "no_package"

    # Operator actions (the console checks who may do them; these check the case's state).

    async def _change(self, handoff_id: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Read, change and save a record under the lock."""
        async with self._locked(handoff_id):
            record = await self.store.handoff_get(handoff_id)
            if record is None:
                raise HandoffError("this case no longer exists (closed and deleted, or erased by the person)")
            change(record)
            await self._save(record)
        self.events.publish("queue")
        self.events.publish("case", handoff_id)
        return record

    async def claim(self, handoff_id: str, username: str) -> dict[str, Any]:
        """Take an open case."""
        def change(record: dict[str, Any]) -> None:
            if record.get("status") != "open":
                raise HandoffError("only an open case can be claimed")
            record.update(status="claimed", claimed_by=username, claimed_at=_now())
        return await self._change(handoff_id, change)

    async def release(self, handoff_id: str, username: str) -> dict[str, Any]:
        """Put a claimed case back in the queue."""
        def change(record: dict[str, Any]) -> None:
            if record.get("status") != "claimed":
                raise HandoffError("only a claimed case can be released")
            record.update(status="open", claimed_by=None, released_by=username)
        return await self._change(handoff_id, change)

    async def add_note(self, handoff_id: str, username: str, text: str) -> dict[str, Any]:
        """Add an internal note (never sent to the person)."""
        text = text.strip()[:MAX_NOTE_CHARS]
        if not text:
            raise HandoffError("a note cannot be empty")

        def change(record: dict[str, Any]) -> None:
            record.setdefault("notes", []).append({"by": username, "at": _now(), "text": text})
        return await self._change(handoff_id, change)

    async def reply(self, handoff_id: str, username: str, text: str) -> dict[str, Any]:
        """Translate the operator's reply into the person's language and deliver it; returns the line."""
        text = text.strip()[:self.settings.max_message_chars]
        if not text:
            raise HandoffError("a reply cannot be empty")
        record = await self.store.handoff_get(handoff_id)
        if record is None or record.get("status") not in ACTIVE:
            raise HandoffError("replies are possible only on an open or claimed case")
        target = record.get("detected_language") or record.get("language") or self.settings.default_language
        translation = await self.translator.translate(text, self.operator_language, target)
        delivered = await self._deliver(record, translation.text, translation.machine_translated)
        line = {"from": "operator", "by": username, "at": _now(), "delivered": delivered,
                **translation.transcript_fields()}
        if not translation.machine_translated and translation.reason:
            line["untranslated_reason"] = translation.reason

        def change(current: dict[str, Any]) -> None:
            current.setdefault("transcript", []).append(line)
            current["last_operator_at"] = line["at"]
        await self._change(handoff_id, change)
        return line

    async def _deliver(self, record: dict[str, Any], text: str, machine_translated: bool) -> bool:
        """Send a message from the team to the person through their channel."""
        conversation = str(record["conversation"])
        if record.get("channel") == "webchat":
            label = "utter_handoff_operator_label_translated" if machine_translated else "utter_handoff_operator_label"
            message = {"text": text, "from": "operator",
                       "label": self._text(label, record.get("language"))}
            await self.store.mailbox_push(conversation, message, self.settings.conversation_ttl_s)
            return True
        if self.deliver_to_channel is None:
            return False
        return await self.deliver_to_channel(conversation, text)

    async def _notify_person(self, record: dict[str, Any], name: str, **values: Any) -> bool:
        """Tell the person something from the locale texts, in their language."""
        message = self.catalog.render(name, record.get("language"), values)
        if not message:
            return False
        return await self._deliver(record, message["text"], machine_translated=False)

    async def hand_back(self, handoff_id: str, username: str) -> dict[str, Any]:
        """End relay mode: the person talks with the bot again (the case stays with the operator)."""
        def change(record: dict[str, Any]) -> None:
            if record.get("status") not in ACTIVE or not record.get("relay"):
                raise HandoffError("only a case in relay mode can be handed back to the bot")
            record.update(relay=False, relay_noted=False, handed_back_by=username, handed_back_at=_now())
        record = await self._change(handoff_id, change)
        await self._notify_person(record, "utter_handoff_back_to_bot")
        return record

    async def close(self, handoff_id: str, username: str, outcome: str) -> dict[str, Any]:
        """Close with an outcome: count it, tell the person, and purge now or after the retention."""
        if outcome not in OUTCOMES:
            raise HandoffError(f"the outcome must be one of: {', '.join(OUTCOMES)}")

        def change(record: dict[str, Any]) -> None:
            if record.get("status") not in ACTIVE:
                raise HandoffError("this case is closed already")
            record.update(status="closed", relay=False, outcome=outcome, closed_by=username, closed_at=_now(),
                          purge_at=time.time() + self.settings.closed_retention_s)
        record = await self._change(handoff_id, change)
        await self.store.stats_add(stats_counters(record, outcome))
        await self._notify_person(record, "utter_handoff_closed")  # before the purge: it needs the address
        if self.settings.closed_retention_s <= 0:
            await self.purge(record)
        return record

    async def purge(self, record: dict[str, Any]) -> None:
        """Delete a closed case's record, transcripts (ours and Rasa's) and the sealed reply address.

        Messages already on their way to the person (web chat mailbox, channel outbox) still go out.
        """
        conversation = str(record["conversation"])
        others = [i for i in await self.store.handoff_ids_of(conversation) if i != record["id"]]
        active_elsewhere = False
        for other in others:
            found = await self.store.handoff_get(other)
            active_elsewhere = active_elsewhere or bool(found and found.get("status") in ACTIVE)
        await self.store.handoff_delete(record["id"])
        if active_elsewhere:  # the person came back with a new request: keep what that one needs
            return
        in_transit = await self.store.mailbox_take(conversation)
        await self.store.delete_conversation(conversation)
        for message in in_transit:
            await self.store.mailbox_push(conversation, message, self.settings.conversation_ttl_s)
        if self.erase_tracker is not None:
            try:
                await self.erase_tracker(conversation)
            except Exception as exc:  # noqa: BLE001 - Rasa's in-memory tracker dies with Rasa anyway
                log.warning("tracker of a closed case not erased (%s)", type(exc).__name__)
        self.events.publish("queue")
        log.info("closed case %s purged", record["id"])

    async def purge_due(self) -> int:
        """Purge closed cases whose retention has passed; returns how many."""
        now = time.time()
        due = [r for r in await self.store.handoff_list()
               if r.get("status") == "closed" and float(r.get("purge_at") or 0) <= now]
        for record in due:
            await self.purge(record)
        return len(due)

    async def running(self, _: Any) -> Any:
        """aiohttp cleanup context: purge closed cases after their retention, every half minute."""
        async def loop() -> None:
            while True:
                try:
                    await self.purge_due()
                except Exception as exc:  # noqa: BLE001 - retry at the next round
                    log.error("purging closed cases failed (%s)", type(exc).__name__)
                await asyncio.sleep(30)
        task = asyncio.create_task(loop())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await self.shutdown()

    async def before_erase(self, conversation: str) -> None:
        """Gateway erase hook: the person erased the conversation; count open cases, tell the console."""
        for handoff_id in await self.store.handoff_ids_of(conversation):
            record = await self.store.handoff_get(handoff_id)
            if record and record.get("status") in ACTIVE:
                await self.store.stats_add(stats_counters(record, "erased_by_person"))
                await self.audit.record("person", "person", "erase", case=handoff_id)
            self.events.publish("case", handoff_id)
        self.events.publish("queue")

    # Texts for the person.

    def _text(self, name: str, language: Optional[str], **values: Any) -> str:
        """One locale text ('' if unknown)."""
        message = self.catalog.render(name, language, values)
        return message["text"] if message else ""

    def _render(self, name: str, language: Optional[str], **values: Any) -> list[dict[str, Any]]:
        """A locale response as a message list."""
        message = self.catalog.render(name, language, values)
        return [message] if message else []

    def _render_next_steps(self, language: str) -> list[dict[str, Any]]:
        """What happens next and how long it may take: the expected wait, or the opening hours."""
        if self.hours.is_open():
            return self._render("utter_handoff_next_open", language, wait=self.settings.expected_wait_minutes)
        return self._render("utter_handoff_next_closed", language, open_hours=self.hours.describe(language),
                            opens_in=self.hours.hours_until_open())


def _merge(record: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """An existing handoff brought up to date with a (screening) summary: the assessment is the newest."""
    if summary.get("urgency") in URGENCY_RANK:
        current = record.get("urgency") if record.get("urgency") in URGENCY_RANK else "low"
        record["urgency"] = min(current, summary["urgency"], key=URGENCY_RANK.__getitem__)
    for name in ("forms", "indicators", "summary_text", "screening", "reporter", "location_hint"):
        if summary.get(name):
            record[name] = copy.deepcopy(summary[name])
    if summary.get("minor") is not None:
        record["minor"] = summary["minor"]
    needs = list(record.get("needs") or [])
    needs += [n for n in summary.get("needs") or [] if isinstance(n, str) and n not in needs]
    record["needs"] = needs
    if not record.get("transcript") and summary.get("transcript"):
        record["transcript"] = copy.deepcopy(summary["transcript"])
    return record
