"""The gateway's relay hook: a chosen consent level starts relay mode; then Rasa hears nothing but erasure."""
from __future__ import annotations

import asyncio
from typing import Any, Optional

from actions.control import control
from bot.gateway import Gateway
from bot.language import LanguagePolicy
from console_harness import Harness, settings


class RecordingRasa:
    """Answers with scripted responses and remembers what it was sent."""

    generation = 0

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.script: list[list[dict[str, Any]]] = []

    async def set_slots(self, conversation: str, slots: dict[str, Any]) -> None:
        pass

    async def send(self, conversation: str, text: str, metadata: Optional[dict] = None) -> list[dict]:
        self.sent.append(text)
        return self.script.pop(0) if self.script else []

    async def erase(self, conversation: str) -> None:
        pass


def test_relay_mode_begins_with_the_consent_choice_and_keeps_typed_words_from_rasa(tmp_path):
    harness = Harness(settings(tmp_path))
    rasa = RecordingRasa()
    gateway = Gateway(harness.settings, harness.store, rasa, harness.catalog,
                      LanguagePolicy(harness.settings.languages, harness.settings.default_language))
    gateway.relay = harness.handoffs

    async def scenario():
        rasa.script = [[{"custom": control(handoff_requested=True)}, {"text": "consent question"}],
                       [{"custom": control(handoff={"consent": "share", "summary": {"urgency": "medium"}})},
                        {"text": "Gracias."}],
                       [{"text": "¿Borrar todo?"}]]
        asked = await gateway.handle_text("webchat", "c1", "quiero hablar con una persona, por favor")
        assert [m["text"] for m in asked.messages] == ["consent question"]
        assert await harness.handoffs.active_for("c1") is None
        handed = await gateway.handle_text("webchat", "c1", '/handoff_consent{"consent":"share"}')
        assert [m["text"] for m in handed.messages] == [
            "Gracias.", harness.catalog.render("utter_handoff_next_open", "es", {"wait": 30})["text"]]
        relayed = await gateway.handle_text("webchat", "c1", "mi jefe me quitó el pasaporte")
        assert relayed.language == "es"
        assert [m["text"] for m in relayed.messages] == [harness.catalog.render("utter_handoff_relayed", "es")["text"]]
        assert (await gateway.handle_text("webchat", "c1", "¿sigue ahí alguien?")).messages == []
        assert rasa.sent == ["quiero hablar con una persona, por favor", '/handoff_consent{"consent":"share"}']
        erase = await gateway.handle_text("webchat", "c1", "/delete_my_data")  # erasure still reaches the bot
        assert [m["text"] for m in erase.messages] == ["¿Borrar todo?"] and rasa.sent[-1] == "/delete_my_data"
        await harness.handoffs.settle()
        record = await harness.handoffs.active_for("c1")
        assert [l["text"] for l in record["transcript"]] == ["mi jefe me quitó el pasaporte", "¿sigue ahí alguien?"]
        assert record["transcript"][0]["text_translated"] == "my boss took my passport"
    asyncio.run(scenario())
