"""Rasa's side of Safeline's NLG endpoint: Rasa's callback generator, with the response schema checked once.

Loaded inside the Rasa process (endpoints.yml `nlg.type`). Rasa 3.6's CallbackNaturalLanguageGenerator
calls `jsonschema.validate` for every bot message, which validates the schema itself against its
metaschema each time before the response: profiled under load (bench/load.py, py-spy), that was about
5 % of Rasa's CPU, the bottleneck of the message path. Responses are still validated, exactly as before.
"""
from __future__ import annotations

from typing import Any, Optional

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator, nlg_response_format_spec
from rasa.shared.exceptions import RasaException
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

_SPEC = nlg_response_format_spec()
_VALIDATOR_CLASS = validator_for(_SPEC)
_VALIDATOR_CLASS.check_schema(_SPEC)  # once, at import: a broken spec fails Rasa's start, not a message
_VALIDATOR = _VALIDATOR_CLASS(_SPEC)


class SafelineNLG(CallbackNaturalLanguageGenerator):
    """Rasa's callback NLG (POST to Safeline's /nlg) with a validator built once."""

    def __init__(self, endpoint_config: EndpointConfig, domain: Optional[Domain] = None) -> None:
        super().__init__(endpoint_config=endpoint_config)

    @staticmethod
    def validate_response(content: Optional[dict[str, Any]]) -> bool:
        """Rasa's check of an NLG response, without re-checking the schema every time."""
        if content is None or content == "":
            return True  # the endpoint chose to say nothing
        try:
            _VALIDATOR.validate(content)
        except ValidationError as exc:
            raise RasaException(f"{exc.message}. Failed to validate NLG response from Safeline's /nlg.") from exc
        return True
