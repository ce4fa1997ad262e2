"""Rasa's NLG client (bot/rasa_nlg_client.py) validates Safeline's responses as Rasa's own does."""
from __future__ import annotations

import pytest
import yaml
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot.config import PROJECT_ROOT
from bot.rasa_nlg_client import SafelineNLG

GOOD = [{"text": "hola"}, {"text": "elige", "buttons": [{"title": "Sí", "payload": "/affirm"}]}, None, "",
        {"text": "", "custom": {"safeline": {"set_language": "es"}}}]
BAD = [{"text": 5}, {"text": "x", "buttons": "not a list"}, {"text": "x", "image": 3}]


@pytest.mark.parametrize("content", GOOD)
def test_a_response_rasa_accepts_is_accepted(content):
    assert CallbackNaturalLanguageGenerator.validate_response(content)
    assert SafelineNLG.validate_response(content)


@pytest.mark.parametrize("content", BAD)
def test_a_response_rasa_refuses_is_refused(content):
    with pytest.raises(RasaException):
        CallbackNaturalLanguageGenerator.validate_response(content)
    with pytest.raises(RasaException):
        SafelineNLG.validate_response(content)


@pytest.mark.parametrize("path", ["endpoints.yml", "deploy/endpoints.production.yml"])
def test_rasa_builds_our_generator_from_the_endpoint_files(path, monkeypatch):
    monkeypatch.setenv("ACTIONS_PORT", "1")
    monkeypatch.setenv("SAFELINE_INTERNAL_PORT", "2")
    monkeypatch.setenv("REDIS_PASSWORD", "x")
    monkeypatch.setenv("SAFELINE_CONVERSATION_TTL", "60")
    config = read_endpoint_config(str(PROJECT_ROOT / path), "nlg")
    assert isinstance(NaturalLanguageGenerator.create(config, Domain.empty()), SafelineNLG)
    assert yaml.safe_load((PROJECT_ROOT / path).read_text())["nlg"]["type"] == "bot.rasa_nlg_client.SafelineNLG"


def test_the_redis_endpoints_written_by_the_stack_use_it_too(tmp_path):
    from bot.config import Settings
    from bot.stack import write_redis_endpoints

    settings = Settings.from_env({"SAFELINE_DATA_DIR": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:6379/0"})
    written = yaml.safe_load(write_redis_endpoints(settings).read_text())
    assert written["nlg"]["type"] == "bot.rasa_nlg_client.SafelineNLG"
    assert isinstance(NaturalLanguageGenerator.create(EndpointConfig.from_dict(written["nlg"]), Domain.empty()), SafelineNLG)
