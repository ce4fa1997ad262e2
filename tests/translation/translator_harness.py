"""Helpers for the translator tests: free ports, JSON over HTTP, the install CLI, starting the service.

The service runs in its own virtualenv (.venv-translate) as a subprocess; the tests run in Rasa's
venv and only talk HTTP to it.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
TRANSLATE_PYTHON = ROOT / ".venv-translate" / "bin" / "python"


def free_port() -> int:
    """A currently free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_json(url: str, body: Optional[dict] = None, timeout: float = 30.0) -> tuple[int, dict]:
    """GET (or POST `body` as JSON) and return the status and the decoded JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def install(python: Path, packages_dir: Path, files: list[Path], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run `python -m translator.install FILES` into `packages_dir`."""
    return subprocess.run(
        [str(python), "-m", "translator.install", *map(str, files)], cwd=ROOT, capture_output=True,
        text=True, timeout=120, env={**os.environ, **env, "ARGOS_PACKAGES_DIR": str(packages_dir)},
    )


@dataclass
class Service:
    """A running translator subprocess."""

    url: str
    process: subprocess.Popen
    log: Path


def start_service(python: Path, packages_dir: Path, env: dict[str, str], log: Path, max_chars: int = 500) -> Service:
    """Start `python -m translator` and wait until /health answers (it loads packages first)."""
    port = free_port()
    full_env = {**os.environ, **env, "ARGOS_PACKAGES_DIR": str(packages_dir), "TRANSLATOR_PORT": str(port),
                "TRANSLATOR_MAX_CHARS": str(max_chars)}
    with open(log, "wb") as out:
        process = subprocess.Popen([str(python), "-m", "translator"], cwd=ROOT, env=full_env,
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"translator exited with {process.returncode}:\n{log.read_text()}")
        try:
            if http_json(url + "/health", timeout=2)[0] == 200:
                return Service(url, process, log)
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    process.kill()
    process.wait()
    raise RuntimeError(f"translator did not answer within 90 s:\n{log.read_text()}")


def stop_service(service: Service) -> None:
    """Stop the subprocess started by start_service."""
    service.process.terminate()
    try:
        service.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        service.process.kill()
        service.process.wait()
