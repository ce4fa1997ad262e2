"""`python -m bot.stack`: start Rasa, the action server and Safeline's app; stop them all on Ctrl-C.

Used by `make run` and by the integration tests (as a library, on free ports). With
SAFELINE_RASA_REPLICAS=N it starts N Rasa processes (ports RASA_PORT … RASA_PORT+N-1; in Redis mode
they share the tracker and lock stores) and hands their URLs to Safeline as RASA_URLS; with
SAFELINE_EMBEDDED_WORKER=false, SAFELINE_WORKER_PROCESSES worker processes sharing Redis's queues.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional
from urllib.parse import unquote, urlparse

import yaml

from bot.config import PROJECT_ROOT, ConfigError, Settings

VENV_BIN = Path(sys.executable).parent
TRANSLATE_PYTHON = PROJECT_ROOT / ".venv-translate" / "bin" / "python"
# Processes whose failure does not stop the helpline: without the translator the relay goes untranslated.
OPTIONAL = frozenset({"translator"})
MODELS_DIR = PROJECT_ROOT / "models"


class StackError(RuntimeError):
    """A process of the stack failed to start; the message says which and where its log is."""


def _http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when a GET answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _free_port() -> int:
    """A currently free loopback port."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def latest_model(models_dir: Path = MODELS_DIR) -> Path:
    """The newest trained model, or a clear error telling how to make one."""
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise StackError(f"no trained model in {models_dir}: run `make train` (or `make run`)")
    return models[-1]


def write_redis_endpoints(settings: Settings) -> Path:
    """Rasa's endpoints with its tracker and lock stores on Safeline's Redis (REDIS_URL).

    Written into the data dir (mode 0600: it may hold the Redis password) because Rasa's
    endpoint files cannot take a URL, and an empty password variable would be sent as one.
    """
    url = urlparse(settings.redis_url or "")
    db = int((url.path or "/0").strip("/") or 0)
    common = {"url": url.hostname or "127.0.0.1", "port": url.port or 6379, "key_prefix": "safeline"}
    if url.password:
        common["password"] = unquote(url.password)
    if url.scheme == "rediss":
        common["use_ssl"] = True
    endpoints = {
        "action_endpoint": {"url": f"http://127.0.0.1:{settings.actions_port}/webhook"},
        "nlg": {"type": "bot.rasa_nlg_client.SafelineNLG", "url": f"http://127.0.0.1:{settings.internal_port}/nlg"},
    }
    endpoints["tracker_store"] = {"type": "redis", "db": db, "record_exp": settings.conversation_ttl_s, **common}
    endpoints["lock_store"] = {"type": "redis", "db": db, **common}
    path = settings.data_dir / "endpoints.redis.yml"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    return path


@dataclass
class Stack:
    """The three processes of a local Safeline, with their logs in `<data_dir>/logs`."""

    env: dict[str, str]
    model: Optional[Path] = None
    worker_ports: dict[str, int] = field(default_factory=dict)  # internal sites of separate workers
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    # The first supervisor's credentials when this start created the account (printed once by main).
    first_supervisor: Optional[dict[str, Optional[str]]] = None
    _admin_env: dict[str, str] = field(default_factory=dict, repr=False)
    # What went wrong with optional processes, for the start-up banner.
    warnings: list[str] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        """Settings as the child processes will see them."""
        return Settings.from_env(self.env)

    def _spawn(self, name: str, argv: list[str], extra_env: Optional[Mapping[str, str]] = None) -> None:
        """Start one process with its output in a log file."""
        logs = self.settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_file = open(logs / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child process
        env = {**self.env, **(extra_env or {})}
        self.processes[name] = subprocess.Popen(
            argv, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def rasa_names(self) -> list[str]:
        """Process names of the Rasa replicas: "rasa", then "rasa-2", "rasa-3" …"""
        return ["rasa"] + [f"rasa-{i}" for i in range(2, self.settings.rasa_replicas + 1)]

    def rasa_port(self, name: str) -> int:
        """The port of a Rasa replica (RASA_PORT for the first, then the next ones up)."""
        return self.settings.rasa_port + self.rasa_names().index(name)

    def _command(self, name: str) -> tuple[list[str], dict[str, str]]:
        """The command line and extra environment of one process of the stack."""
        settings = self.settings
        if name in self.worker_ports:  # SAFELINE_EMBEDDED_WORKER=false: own processes, own internal sites
            return [sys.executable, "-m", "bot.worker_service"], {"SAFELINE_INTERNAL_PORT": str(self.worker_ports[name])}
        if name == "safeline":
            return [sys.executable, "-m", "bot"], dict(self._admin_env)
        if name == "translator":
            return ([str(TRANSLATE_PYTHON), "-m", "translator"],
                    {"TRANSLATOR_PORT": str(settings.translator_port), "TRANSLATOR_HOST": "127.0.0.1",
                     "ARGOS_PACKAGES_DIR": str(settings.argos_packages_dir)})
        if name == "actions":
            return ([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "-p", str(settings.actions_port)],
                    {"SANIC_HOST": "127.0.0.1"})
        model = self.model or latest_model()
        endpoints = write_redis_endpoints(settings) if settings.redis_url else PROJECT_ROOT / "endpoints.yml"
        return ([str(VENV_BIN / "rasa"), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(self.rasa_port(name)),
                 "--model", str(model), "--endpoints", str(endpoints), "--credentials", "credentials.yml"], {})

    def _ready_url(self, name: str) -> str:
        """What answers 2xx once the process is ready."""
        settings = self.settings
        if name.startswith("rasa"):
            return f"http://127.0.0.1:{self.rasa_port(name)}/status"
        if name in self.worker_ports:
            return f"http://127.0.0.1:{self.worker_ports[name]}/worker/status"
        return {
            "translator": f"{settings.translator_url}/health",
            "safeline": f"http://127.0.0.1:{settings.port}/static/chat.css",
            "actions": f"http://127.0.0.1:{settings.actions_port}/health",
        }[name]

    def start(self, timeout_s: float = 240.0) -> None:
        """Start every process and wait until Rasa has loaded its model and Safeline answers."""
        settings = self.settings
        self.model = self.model or latest_model()
        self.env.setdefault("ACTIONS_PORT", str(settings.actions_port))
        self.env.setdefault("SAFELINE_INTERNAL_PORT", str(settings.internal_port))
        names = ["safeline", "actions", *self.rasa_names()]
        if settings.rasa_replicas > 1:
            self.env.setdefault("RASA_URLS", ",".join(f"http://127.0.0.1:{self.rasa_port(n)}" for n in names[2:]))
        names += self._translator_names(settings)
        if not settings.embedded_worker:
            for i in range(1, settings.worker_processes + 1):
                self.worker_ports["worker" if i == 1 else f"worker-{i}"] = _free_port()
            names += list(self.worker_ports)
        self._prepare_first_supervisor()
        for name in names:
            self._spawn(name, *self._command(name))
        self._wait_ready(names, timeout_s)
        self._note_first_supervisor()

    def _translator_names(self, settings: Settings) -> list[str]:
        """["translator"] when this stack should start it; otherwise why not goes to the warnings."""
        if not settings.start_translator:
            return []
        if not TRANSLATE_PYTHON.exists():
            self.warnings.append(f"translation off: {TRANSLATE_PYTHON} is missing (`make .venv-translate`)")
            return []
        settings.argos_packages_dir.mkdir(parents=True, exist_ok=True)
        return ["translator"]

    def _prepare_first_supervisor(self) -> None:
        """Credentials for the console's first supervisor, generated when unset (only the app gets them)."""
        if not self.env.get("SAFELINE_ADMIN_PASSWORD"):
            self._admin_env["SAFELINE_ADMIN_PASSWORD"] = secrets.token_urlsafe(15)
            self._admin_env["SAFELINE_ADMIN_PASSWORD_ONE_TIME"] = "true"
        if not self.env.get("SAFELINE_ADMIN_TOTP_SECRET"):
            import pyotp

            self._admin_env["SAFELINE_ADMIN_TOTP_SECRET"] = pyotp.random_base32()

    def _note_first_supervisor(self) -> None:
        """Ask the app whether it created the first supervisor now; if so keep what to print once."""
        settings = self.settings
        request = urllib.request.Request(f"http://127.0.0.1:{settings.internal_port}/console/bootstrap",
                                         headers={"Authorization": f"Bearer {settings.internal_token}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback only
                created = bool(json.loads(response.read()).get("created"))
        except (urllib.error.URLError, OSError, ValueError):
            return
        if not created:
            return
        import pyotp

        secret = self._admin_env.get("SAFELINE_ADMIN_TOTP_SECRET") or self.env["SAFELINE_ADMIN_TOTP_SECRET"]
        self.first_supervisor = {
            "username": "admin", "password": self._admin_env.get("SAFELINE_ADMIN_PASSWORD"),
            "totp_secret": secret,
            "totp_uri": pyotp.TOTP(secret.strip().upper()).provisioning_uri(name="admin", issuer_name="Safeline"),
        }

    def _wait_ready(self, names: list[str], timeout_s: float) -> None:
        """Wait until the named processes answer; stop everything if one dies or time runs out."""
        settings = self.settings
        deadline = time.monotonic() + timeout_s
        pending = {name: self._ready_url(name) for name in names}
        while pending:
            for name, url in list(pending.items()):
                if name in OPTIONAL and self.processes[name].poll() is not None:
                    self.warnings.append(f"{name} exited during start-up; see {settings.data_dir / 'logs' / (name + '.log')}")
                    pending.pop(name)
                elif self.processes[name].poll() is not None:
                    self.stop()
                    raise StackError(f"{name} exited during start-up; see {settings.data_dir / 'logs' / (name + '.log')}")
                if _http_ok(url):
                    pending.pop(name)
            if pending and set(pending) <= OPTIONAL and time.monotonic() > deadline:
                self.warnings += [f"{name} not ready after {timeout_s:.0f}s; see its log" for name in pending]
                return
            if time.monotonic() > deadline:
                self.stop()
                raise StackError(f"not ready after {timeout_s:.0f}s: {', '.join(pending)}")
            time.sleep(0.5)

    def restart(self, name: str, timeout_s: float = 240.0) -> None:
        """Start one process again (after `kill`) and wait until it is ready (fault tests)."""
        if self.processes[name].poll() is None:
            self.kill(name)
        self._spawn(name, *self._command(name))
        self._wait_ready([name], timeout_s)

    def stop(self) -> None:
        """Terminate every process (SIGTERM, then SIGKILL after a grace period)."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def kill(self, name: str) -> None:
        """Kill one process hard (fault tests)."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _channel_line(enabled: bool, url: str, needs: str) -> str:
    """Where a channel's webhook is, or what turns it on."""
    return url if enabled else f"off (set {needs})"


def _translation_line(stack: Stack) -> str:
    """Where the translator is and how many language pairs it has, or why it is off."""
    settings = stack.settings
    if "translator" not in stack.processes:
        return settings.translator_url if not settings.start_translator else "off (see below)"
    try:
        with urllib.request.urlopen(settings.translator_url + "/languages", timeout=5) as response:  # noqa: S310
            pairs = len(json.loads(response.read()).get("pairs") or [])
    except (urllib.error.URLError, OSError, ValueError):
        return f"{settings.translator_url} (not answering; see its log)"
    if not pairs:
        return (f"{settings.translator_url}, no language packages yet: install them into "
                f"{settings.argos_packages_dir} (docs/translation.md)")
    return f"{settings.translator_url}, {pairs} language pairs"


def main() -> int:
    """Run the stack in the foreground until Ctrl-C."""
    env = dict(os.environ)
    try:
        settings = Settings.from_env(env)
    except ConfigError as exc:
        print(f"safeline: configuration error: {exc}", file=sys.stderr)
        return 2
    stack = Stack(env)
    print("Starting Rasa, the action server and Safeline (first start takes about a minute)...", flush=True)
    try:
        stack.start()
    except StackError as exc:
        print(f"safeline: {exc}", file=sys.stderr)
        return 1
    telegram = _channel_line(settings.telegram_enabled, settings.public_url + "/telegram/webhook",
                             "TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET")
    sms = _channel_line(settings.sms_enabled, settings.public_url + "/twilio/sms",
                        "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    print(
        "\nSafeline is running.\n"
        f"  Web chat:          http://localhost:{settings.port}/\n"
        f"  Operator console:  http://localhost:{settings.port}/console\n"
        f"  Rasa HTTP API:     {', '.join(stack.settings.rasa_urls)} (localhost only)\n"
        f"  Translation:       {_translation_line(stack)}\n"
        f"  Telegram webhook:  {telegram}\n"
        f"  SMS webhook:       {sms}\n"
        f"  Logs:              {settings.data_dir / 'logs'}\n"
        "Press Ctrl-C to stop everything.",
        flush=True,
    )
    for warning in stack.warnings:
        print(f"  Note: {warning}", flush=True)
    if stack.first_supervisor:  # shown once: the account exists from now on
        password = stack.first_supervisor["password"] or "the one in SAFELINE_ADMIN_PASSWORD"
        print(
            "\nFirst console supervisor created (shown only now):\n"
            f"  Username:          admin\n"
            f"  Password:          {password}" + (" (one-time: choose your own at first login)"
                                                  if stack.first_supervisor["password"] else "") + "\n"
            f"  Authenticator key: {stack.first_supervisor['totp_secret']}\n"
            f"  Authenticator URI: {stack.first_supervisor['totp_uri']}",
            flush=True,
        )
    stopping = []
    warned: set[str] = set()
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            for name, process in stack.processes.items():
                if name in OPTIONAL and process.poll() is not None and name not in warned:
                    warned.add(name)
                    print(f"safeline: {name} stopped; replies go untranslated until it runs again (see its log).",
                          file=sys.stderr)
                elif name not in OPTIONAL and process.poll() is not None:
                    print(f"safeline: {name} stopped unexpectedly; see its log. Stopping the rest.", file=sys.stderr)
                    stopping.append(True)
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    print("\nStopping...", flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
