"""docker-compose.yml: valid for Docker Compose v2 (`config`, from the tools venv), and what production
needs: every service health-checked and restarted, secrets only from .env, one published port."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))
import compose_check  # noqa: E402

SERVICES = {"safeline", "worker", "rasa", "actions", "translator", "redis"}
SECRET_NAME = re.compile(r"(SECRET|TOKEN|PASSWORD|AUTH|_KEY)")
RAW = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

needs_compose = pytest.mark.skipif(compose_check.compose_binary() is None,
                                   reason="Docker Compose not installed: `make tools` (make test does it)")


@pytest.fixture(scope="module", params=[(), ("scale",)], ids=["default", "scale"])
def model(request) -> dict:
    if compose_check.compose_binary() is None:
        pytest.skip("Docker Compose not installed: `make tools` (make test does it)")
    return compose_check.resolved(request.param)


@needs_compose
def test_docker_compose_config_accepts_the_file_in_both_profiles(capsys):
    assert compose_check.main() == 0
    assert "valid for Docker Compose" in capsys.readouterr().out


def test_every_service_is_health_checked_and_restarted(model):
    expected = SERVICES | ({"rasa-2"} if "rasa-2" in model["services"] else set())
    assert set(model["services"]) == expected
    for name, service in model["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert service.get("restart") == "unless-stopped", name


def test_only_the_http_app_is_published_and_by_default_only_on_the_hosts_loopback(model):
    published = {name: s["ports"] for name, s in model["services"].items() if s.get("ports")}
    assert list(published) == ["safeline"]
    assert [(p["host_ip"], p["target"]) for p in published["safeline"]] == [("127.0.0.1", 8000)]


def test_the_worker_runs_apart_and_the_app_only_queues(model):
    services = model["services"]
    assert services["worker"]["command"] == ["python", "-m", "bot.worker_service"]
    for name in ("safeline", "worker"):
        assert services[name]["environment"]["SAFELINE_EMBEDDED_WORKER"] == "false"


def test_secrets_come_only_from_the_env_file():
    for name, service in RAW["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert str(value).startswith("${"), f"{name}.{key} is written in docker-compose.yml"
        if name not in ("redis", "translator"):
            assert service.get("env_file") == ".env", name
    assert "placeholder" not in (ROOT / "docker-compose.yml").read_text()


def test_redis_keeps_an_aof_fsynced_every_second_and_requires_a_password():
    command = RAW["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"
    assert "--requirepass" in command


def test_rasa_keeps_trackers_and_locks_in_safelines_redis_database():
    endpoints = yaml.safe_load((ROOT / "deploy" / "endpoints.production.yml").read_text())
    url = urlparse(RAW["x-safeline-env"]["REDIS_URL"].replace("${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}", "p"))
    db = int(url.path.strip("/"))
    assert endpoints["tracker_store"]["db"] == endpoints["lock_store"]["db"] == db  # erasure deletes the tracker
    assert endpoints["tracker_store"]["key_prefix"] == "safeline"
