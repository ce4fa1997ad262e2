"""Control messages: how custom actions ask Safeline's gateway for effects outside Rasa.

An action sends `dispatcher.utter_message(json_message=control(...))`; Rasa's REST channel returns
it as a `custom` message, which the gateway applies and never shows to the person.
"""
from __future__ import annotations

from typing import Any

CONTROL_KEY = "safeline"


def control(**effects: Any) -> dict[str, Any]:
    """A control message, e.g. `control(erase=True)` or `control(set_language="fr")`."""
    return {CONTROL_KEY: effects}
