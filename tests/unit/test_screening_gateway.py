"""The gateway stores a screening's handoff summary that an action sends as a control message."""
from __future__ import annotations

import asyncio
from typing import Any, Optional

from actions.control import control
from bot.config import Settings
from bot.gateway import Gateway
from bot.language import LanguagePolicy
from bot.locales import Catalog, load_locales
from bot.stores.memory import MemoryStore


class FakeRasa:
    """Answers every message with what a screening summary action sends."""

    generation = 0  # the real client counts restarts; this one never restarts

    def __init__(self, responses: list[dict[str, Any]]):
        self.responses = responses

    async def set_slots(self, conversation: str, slots: dict[str, Any]) -> None:
        pass

    async def send(self, conversation: str, text: str, metadata: Optional[dict] = None) -> list[dict]:
        return self.responses

    async def erase(self, conversation: str) -> None:
        pass


def test_a_handoff_summary_is_stored_with_the_gateways_own_identifiers(tmp_path):
    settings = Settings.from_env({"SAFELINE_DATA_DIR": str(tmp_path), "SAFELINE_SECRET_KEY": "k" * 40})
    store = MemoryStore(3600)
    summary = {"id": "s1", "urgency": "high", "conversation": "from-the-tracker", "channel": None,
               "interpreter_needed": False, "summary_text": "Urgency: high.", "status": "open"}
    rasa = FakeRasa([{"custom": control(handoff_summary=summary)}, {"text": "I've passed this to our team."}])
    gateway = Gateway(settings, store, rasa, Catalog(load_locales(), "en", {}),
                      LanguagePolicy(settings.languages, settings.default_language))
    reply = asyncio.run(gateway.handle_text("webchat", "pseudonym-1", "/affirm"))
    assert [m["text"] for m in reply.messages] == ["I've passed this to our team."]
    stored = asyncio.run(store.list_handoff_requests())
    assert len(stored) == 1
    assert stored[0]["id"] == "s1" and stored[0]["urgency"] == "high"
    assert stored[0]["conversation"] == "pseudonym-1" and stored[0]["channel"] == "webchat"
