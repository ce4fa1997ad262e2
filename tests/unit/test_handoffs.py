"""Handoffs: created from the gateway's controls, queued by urgency, relayed, replied to, closed cleanly."""
from __future__ import annotations

import asyncio

import pytest

from bot.handoffs import SUMMARY_FIELDS, HandoffError, queue_order, shared_summary
from console_harness import Harness, settings, spanish


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def harness(tmp_path):
    return Harness(settings(tmp_path))


def test_a_chosen_consent_level_queues_a_full_summary_and_starts_relay_with_next_steps(harness):
    async def scenario():
        messages = await harness.handoffs.after_turn("webchat", "c1", spanish(), [{"handoff": {
            "consent": "share", "summary": {"urgency": "medium", "needs": ["shelter"],
                                            "transcript": [{"from": "person", "text": "mi jefe me quitó el pasaporte"}]}}}])
        await harness.handoffs.settle()
        record = await harness.handoffs.active_for("c1")
        assert set(SUMMARY_FIELDS) <= set(record)
        assert record["status"] == "open" and record["relay"] is True
        assert record["consent"] == "share" and record["consent_to_share"] is True
        assert record["language"] == "es" and record["channel"] == "webchat" and record["conversation"] == "c1"
        assert record["summary_text"].startswith("Asked to talk to a person")
        assert record["summary_text"].endswith("Needs mentioned: safe place to stay.")
        # Translated for the operator in the background, original kept and marked.
        line = record["transcript"][0]
        assert line["text"] == "mi jefe me quitó el pasaporte"
        assert line["text_translated"] == "my boss took my passport" and line["machine_translated"] is True
        assert [m["text"] for m in messages] == [harness.catalog.render("utter_handoff_next_open", "es",
                                                                         {"wait": 30})["text"]]
    run(scenario())


def test_outside_opening_hours_the_person_is_told_when_the_team_is_back(tmp_path):
    closed = Harness(settings(tmp_path, SAFELINE_OPENING_HOURS="mon 00:00-00:01", SAFELINE_EMERGENCY_NUMBER="112"))

    async def scenario():
        messages = await closed.handoffs.after_turn("webchat", "c1", spanish(), [{"handoff": {"consent": "anonymous"}}])
        assert "112" in messages[0]["text"] and "(UTC)" in messages[0]["text"]
        assert messages[0]["text"].startswith("Nuestro equipo atiende lun")
    if closed.handoffs.hours.is_open():
        pytest.skip("it is Monday 00:00 UTC")
    run(scenario())


def test_a_request_waiting_for_consent_does_not_relay_yet_and_a_screening_summary_is_merged(harness):
    async def scenario():
        screening = {"urgency": "high", "forms": ["forced_labour"], "reporter": "self", "minor": False,
                     "indicators": [{"id": "documents_confiscated", "strength": "strong",
                                     "evidence": "mi jefe me quitó el pasaporte"}],
                     "summary_text": "Urgency: high.", "needs": ["legal"]}
        out = await harness.handoffs.after_turn("webchat", "c1", spanish(),
                                                [{"handoff_summary": screening}, {"handoff_requested": True}])
        assert out == []
        record = await harness.handoffs.active_for("c1")
        assert record["relay"] is False and record["consent"] == "confidential"
        await harness.handoffs.after_turn("webchat", "c1", spanish(), [{"handoff": {
            "consent": "share", "summary": {"urgency": "medium", "needs": ["shelter"]}}}])
        await harness.handoffs.settle()
        merged = await harness.handoffs.active_for("c1")
        assert merged["id"] == record["id"] and merged["relay"] is True and merged["consent"] == "share"
        assert merged["urgency"] == "high" and merged["forms"] == ["forced_labour"]
        assert merged["needs"] == ["legal", "shelter"]
        assert merged["indicators"][0]["evidence_translated"] == "my boss took my passport"
    run(scenario())


def test_queue_order_is_urgency_then_longest_waiting():
    records = [{"id": "a", "urgency": "medium", "created_ts": 1}, {"id": "b", "urgency": "emergency", "created_ts": 5},
               {"id": "c", "urgency": "medium", "created_ts": 0}, {"id": "d", "urgency": "low", "created_ts": -1},
               {"id": "e", "urgency": "high", "created_ts": 9}]
    assert [r["id"] for r in queue_order(records)] == ["b", "e", "c", "a", "d"]


def test_relay_takes_typed_words_for_the_operator_but_lets_erasure_reach_the_bot(harness):
    async def scenario():
        record = await harness.handoff("c1")
        first = await harness.handoffs.intercept("webchat", "c1", "quiero hablar con una persona", spanish())
        again = await harness.handoffs.intercept("webchat", "c1", "¿hola?", spanish())
        assert first == [harness.catalog.render("utter_handoff_relayed", "es")] and again == []
        assert await harness.handoffs.intercept("webchat", "c1", "/delete_my_data", spanish()) is None
        note = await harness.handoffs.intercept("webchat", "c1", "/talk_to_human", spanish())
        assert note == [harness.catalog.render("utter_handoff_already", "es")]
        assert await harness.handoffs.intercept("webchat", "other", "hola", spanish()) is None
        await harness.handoffs.settle()
        lines = (await harness.handoffs.get(record["id"]))["transcript"]
        assert [l["text"] for l in lines if l["from"] == "person"][-2:] == ["quiero hablar con una persona", "¿hola?"]
        assert lines[-2]["text_translated"] == "I want to talk to a person"
    run(scenario())


def test_an_operator_reply_is_translated_for_the_person_and_delivered_to_their_page(harness):
    async def scenario():
        record = await harness.handoff("c1")
        line = await harness.handoffs.reply(record["id"], "olga", "We can help you. Are you safe now?")
        assert line["text"] == "We can help you. Are you safe now?"
        assert line["text_translated"] == "Podemos ayudarte. ¿Estás a salvo ahora?" and line["delivered"]
        (message,) = await harness.store.mailbox_take("c1")
        assert message == {"text": "Podemos ayudarte. ¿Estás a salvo ahora?", "from": "operator",
                           "label": "Equipo de Testline (traducción automática)"}
    run(scenario())


def test_without_a_package_the_reply_goes_as_written_and_is_marked(harness):
    async def scenario():
        await harness.handoffs.after_turn("telegram", "c2", spanish(interpreter=True), [{"handoff": {"consent": "share"}}])
        record = await harness.handoffs.active_for("c2")
        assert record["interpreter_needed"] and "interpreter" in record["needs"]
        assert await harness.handoffs.translation_status("en", "de") == "no_package"
        line = await harness.handoffs.reply(record["id"], "olga", "Hello")
        assert line["machine_translated"] is False and line["untranslated_reason"] == "no_package"
        assert harness.delivered == [("c2", "Hello")]
    run(scenario())


def test_claim_release_handback_and_state_rules(harness):
    async def scenario():
        record = await harness.handoff("c1")
        await harness.handoffs.claim(record["id"], "olga")
        with pytest.raises(HandoffError):
            await harness.handoffs.claim(record["id"], "ivan")
        await harness.handoffs.release(record["id"], "olga")
        assert (await harness.handoffs.get(record["id"]))["status"] == "open"
        await harness.handoffs.claim(record["id"], "ivan")
        await harness.handoffs.hand_back(record["id"], "ivan")
        back = await harness.handoffs.get(record["id"])
        assert back["relay"] is False and back["status"] == "claimed"
        assert await harness.handoffs.intercept("webchat", "c1", "hola", spanish()) is None  # Rasa again
        texts = [m["text"] for m in await harness.store.mailbox_take("c1")]
        assert texts == [harness.catalog.render("utter_handoff_back_to_bot", "es")["text"]]
        with pytest.raises(HandoffError):
            await harness.handoffs.close(record["id"], "ivan", "made_up_outcome")
    run(scenario())


def test_close_counts_anonymously_tells_the_person_and_deletes_transcript_address_and_tracker(harness):
    async def scenario():
        await harness.store.put_address("c1", "sealed-token", 600)
        await harness.store.put_conversation("c1", {"language": {"language": "es"}})
        record = await harness.handoff("c1", summary={"forms": ["forced_labour"], "urgency": "high"})
        await harness.handoffs.close(record["id"], "olga", "referred")
        assert await harness.handoffs.get(record["id"]) is None
        assert await harness.store.get_address("c1") is None
        assert await harness.store.get_conversation("c1") is None
        assert harness.erased_trackers == ["c1"]
        # The closing notice still reaches the person's page; nothing else is left.
        assert [m["text"] for m in await harness.store.mailbox_take("c1")] == [
            harness.catalog.render("utter_handoff_closed", "es", {"emergency_number": "112"})["text"]]
        stats = await harness.store.stats_get()
        assert stats == {"cases": 1, "outcome:referred": 1, "urgency:high": 1, "language:es": 1,
                         "channel:webchat": 1, "consent:confidential": 1, "form:forced_labour": 1}
        dump = str(await harness.store.export())
        assert "pasaporte" not in dump and "sealed-token" not in dump
    run(scenario())


def test_with_a_retention_a_closed_case_stays_readable_until_it_is_purged(tmp_path):
    kept = Harness(settings(tmp_path, SAFELINE_CLOSED_CASE_RETENTION="3600"))

    async def scenario():
        record = await kept.handoff("c1")
        await kept.handoffs.close(record["id"], "olga", "advice_given")
        closed = await kept.handoffs.get(record["id"])
        assert closed["status"] == "closed" and closed["transcript"]
        assert await kept.handoffs.purge_due() == 0
        closed["purge_at"] = 0
        await kept.store.handoff_put(closed, 60)
        assert await kept.handoffs.purge_due() == 1
        assert await kept.handoffs.get(record["id"]) is None
    run(scenario())


def test_the_person_erasing_the_conversation_removes_the_case_and_counts_it(harness):
    async def scenario():
        record = await harness.handoff("c1")
        await harness.handoffs.before_erase("c1")
        await harness.store.delete_conversation("c1")
        assert await harness.handoffs.get(record["id"]) is None
        assert (await harness.store.stats_get())["outcome:erased_by_person"] == 1
    run(scenario())


def test_shared_summary_keeps_to_the_consent_level(harness):
    async def scenario():
        summary = {"indicators": [{"id": "documents_confiscated", "strength": "strong", "evidence": "mi pasaporte"}],
                   "location_hint": "ES"}
        shared = shared_summary(await harness.handoff("c1", consent="share", summary=summary))
        assert set(SUMMARY_FIELDS) <= set(shared) and shared["consent_to_share"] is True
        assert shared["conversation"] == "c1" and shared["transcript"] and shared["location_hint"] == "ES"
        confidential = shared_summary(await harness.handoff("c2", consent="confidential", summary=summary))
        assert confidential["consent_to_share"] is False and confidential["transcript"]
        anonymous = shared_summary(await harness.handoff("c3", consent="anonymous", summary=summary))
        assert anonymous["consent_to_share"] is False and anonymous["consent"] == "anonymous"
        assert anonymous["conversation"] is None and anonymous["transcript"] == []
        assert anonymous["location_hint"] is None and anonymous["indicators"][0]["evidence"] is None
        assert anonymous["indicators"][0]["id"] == "documents_confiscated"
    run(scenario())


def test_two_processes_writing_one_case_at_once_lose_nothing(tmp_path, redis_server):
    """The app (operator notes) and a separate worker process (relayed messages) share the record."""
    import secrets as _secrets

    from bot.stores.redis_store import RedisStore

    prefix = f"t{_secrets.token_hex(4)}"
    app, worker = Harness(settings(tmp_path)), Harness(settings(tmp_path))
    for harness in (app, worker):
        harness.store = RedisStore.from_url(redis_server.url, conversation_ttl_s=3600, prefix=prefix)
        harness.handoffs.store = harness.store

    async def scenario():
        try:
            record = await app.handoff("c1")
            await asyncio.gather(*[worker.handoffs.intercept("telegram", "c1", f"mensaje {n}", spanish())
                                   for n in range(10)],
                                 *[app.handoffs.add_note(record["id"], "olga", f"note {n}") for n in range(10)])
            await worker.handoffs.settle()
            final = await app.handoffs.get(record["id"])
            assert sorted(l["text"] for l in final["transcript"] if l["text"].startswith("mensaje")) == \
                sorted(f"mensaje {n}" for n in range(10))
            assert len(final["notes"]) == 10
        finally:
            await app.store.close()
            await worker.store.close()
    run(scenario())
