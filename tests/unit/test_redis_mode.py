"""Redis mode: a clear error when Redis is unreachable, and Rasa's stores pointed at Redis."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import yaml

from bot.config import PROJECT_ROOT, Settings
from bot.stack import write_redis_endpoints


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_redis_at_start_is_a_one_line_error_not_a_traceback(tmp_path):
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{_unused_port()}/0", "SAFELINE_DATA_DIR": str(tmp_path),
           "SAFELINE_PORT": str(_unused_port()), "SAFELINE_INTERNAL_PORT": str(_unused_port())}
    result = subprocess.run([sys.executable, "-m", "bot"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 3
    assert "cannot reach Redis" in result.stderr and "REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_rasa_tracker_and_lock_stores_use_the_same_redis_with_expiry(tmp_path):
    settings = Settings.from_env({"REDIS_URL": "redis://:s%40cret@redis.internal:6380/2",
                                  "SAFELINE_DATA_DIR": str(tmp_path), "ACTIONS_PORT": "6001",
                                  "SAFELINE_INTERNAL_PORT": "6002"})
    path = write_redis_endpoints(settings)
    endpoints = yaml.safe_load(path.read_text())
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert endpoints["tracker_store"] == {"type": "redis", "db": 2, "record_exp": settings.conversation_ttl_s,
                                          "url": "redis.internal", "port": 6380, "key_prefix": "safeline",
                                          "password": "s@cret"}
    assert endpoints["lock_store"]["url"] == "redis.internal"
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:6001/webhook"
    assert endpoints["nlg"]["url"] == "http://127.0.0.1:6002/nlg"
