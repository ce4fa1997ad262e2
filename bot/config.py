"""Safeline's configuration: every setting comes from the environment, with safe defaults.

This module is the one place that reads `os.environ`; everything else receives a `Settings`.
The README's configuration table mirrors the fields below.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SUPPORTED_LANGUAGES: tuple[str, ...] = (
    "en", "es", "fr", "pt", "ru", "uk", "ar", "th", "vi", "id", "tl", "ro",
)


class ConfigError(ValueError):
    """A setting is present but unusable; the message names the variable and the fix."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """Read an integer setting, refusing garbage with a message that names the variable."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """Read a yes/no setting (1/0, true/false, yes/no, on/off)."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _secret_key(env: Mapping[str, str], data_dir: Path, production: bool) -> str:
    """The HMAC/encryption master key; generated once per data dir for local use only."""
    key = env.get("SAFELINE_SECRET_KEY", "").strip()
    if key:
        if len(key) < 32:
            raise ConfigError("SAFELINE_SECRET_KEY must be at least 32 characters")
        return key
    if production:
        raise ConfigError(
            "SAFELINE_SECRET_KEY is required in production "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    # Local runs keep a generated key beside their data so pseudonyms survive a restart.
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key)
    return key


def _debug_store_dump(env: Mapping[str, str], production: bool) -> bool:
    """The internal store dump used by privacy tests; never available in production."""
    wanted = _bool(env, "SAFELINE_DEBUG_STORE_DUMP", False)
    if wanted and production:
        raise ConfigError("SAFELINE_DEBUG_STORE_DUMP must not be set in production")
    return wanted


def _opening_hours(env: Mapping[str, str]) -> str:
    """SAFELINE_OPENING_HOURS, checked now (with SAFELINE_TIMEZONE) so a typo fails at start."""
    from bot.opening_hours import OpeningHours, OpeningHoursError

    raw = env.get("SAFELINE_OPENING_HOURS", "").strip() or "always"
    try:
        OpeningHours.parse(raw, env.get("SAFELINE_TIMEZONE", "").strip() or "UTC")
    except OpeningHoursError as exc:
        raise ConfigError(f"SAFELINE_OPENING_HOURS / SAFELINE_TIMEZONE: {exc}") from exc
    return raw


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated setting as a tuple of non-empty items."""
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    """SAFELINE_TRUSTED_PROXIES: addresses or networks (CIDR) whose X-Forwarded-Proto is believed."""
    import ipaddress

    proxies = _list(env, "SAFELINE_TRUSTED_PROXIES")
    for item in proxies:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ConfigError(f"SAFELINE_TRUSTED_PROXIES: {item!r} is not an IP address or network") from exc
    return proxies


def _embedded_worker(env: Mapping[str, str]) -> bool:
    """SAFELINE_EMBEDDED_WORKER; a separate worker must share the queues, so it needs REDIS_URL."""
    embedded = _bool(env, "SAFELINE_EMBEDDED_WORKER", True)
    if not embedded and not env.get("REDIS_URL", "").strip():
        raise ConfigError("SAFELINE_EMBEDDED_WORKER=false needs REDIS_URL: the app and the worker share its queues")
    return embedded


def _rasa_urls(env: Mapping[str, str], rasa_port: int) -> tuple[str, ...]:
    """RASA_URLS (comma-separated replicas), else the single RASA_URL, else the local Rasa."""
    urls = _list(env, "RASA_URLS") or (env.get("RASA_URL", "").strip() or f"http://127.0.0.1:{rasa_port}",)
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"RASA_URLS / RASA_URL must be http(s) URLs, got {url!r}")
    return tuple(url.rstrip("/") for url in urls)


@dataclass(frozen=True)
class Settings:
    """All of Safeline's settings; build with `Settings.from_env()`."""

    production: bool
    host: str
    port: int
    internal_port: int
    internal_host: str
    public_url: str
    secret_key: str = field(repr=False)
    api_token: Optional[str] = field(repr=False)
    admin_password: Optional[str] = field(repr=False)
    rasa_url: str
    rasa_port: int
    actions_port: int
    redis_url: Optional[str]
    data_dir: Path
    languages: tuple[str, ...]
    default_language: str
    operator_language: str
    emergency_number: str
    helpline_name: str
    default_country: Optional[str]
    referrals_file: Path
    quick_exit_url: str
    conversation_ttl_s: int
    rasa_timeout_s: float
    max_message_chars: int
    max_body_bytes: int
    telegram_bot_token: Optional[str] = field(repr=False)
    telegram_webhook_secret: Optional[str] = field(repr=False)
    telegram_api_base_url: Optional[str]
    twilio_account_sid: Optional[str]
    twilio_auth_token: Optional[str] = field(repr=False)
    twilio_from_number: Optional[str] = field(repr=False)
    argos_packages_dir: Path
    # Translator service (translator/: its own process and venv); the operator console uses it.
    translator_url: str = "http://127.0.0.1:5057"
    translator_port: int = 5057
    translator_timeout_s: float = 5.0
    # bot.stack starts the translator from .venv-translate unless TRANSLATOR_URL names one elsewhere.
    start_translator: bool = True
    # Channels and their worker (bot/channels/, bot/worker.py); defaults suit a public helpline.
    twilio_api_base_url: str = "https://api.twilio.com"
    sms_max_parts: int = 2
    sms_twiml_wait_ms: int = 700
    sms_neutral: bool = True
    silence_window_s: int = 900
    unavailable_notice_s: int = 5
    retry_max_delay_s: int = 10
    address_ttl_s: int = 7 * 24 * 3600
    dedup_ttl_s: int = 48 * 3600
    debug_store_dump: bool = False
    # Operator console and handoffs (bot/console/, bot/handoffs.py).
    admin_totp_secret: Optional[str] = field(default=None, repr=False)
    admin_password_one_time: bool = False  # set by bot.stack when it generated the password
    opening_hours: str = "always"
    timezone: str = "UTC"
    expected_wait_minutes: int = 30
    closed_retention_s: int = 0
    console_session_ttl_s: int = 8 * 3600
    # Scaling and production hardening (docs/dev/architecture.md "Production").
    rasa_urls: tuple[str, ...] = ()  # Rasa replicas; each conversation always goes to the same one
    rasa_replicas: int = 1  # how many Rasa processes bot.stack starts (ports RASA_PORT, RASA_PORT+1 …)
    allow_http: bool = False  # production: serve /console and /api over plain HTTP anyway
    trusted_proxies: tuple[str, ...] = ()  # proxies whose X-Forwarded-Proto is believed (IPs/CIDRs)
    embedded_worker: bool = True  # false: the worker runs as its own process (python -m bot.worker_service)
    worker_processes: int = 1  # how many worker processes bot.stack starts when not embedded

    @property
    def telegram_enabled(self) -> bool:
        """Telegram is on only with a bot token AND a webhook secret to authenticate updates."""
        return bool(self.telegram_bot_token and self.telegram_webhook_secret)

    @property
    def sms_enabled(self) -> bool:
        """SMS is on with Twilio credentials (the sender number is optional: replies reuse `To`)."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def internal_url(self) -> str:
        """Where Rasa and the action server reach Safeline's internal API (NLG, erasure)."""
        return f"http://127.0.0.1:{self.internal_port}"

    @property
    def internal_token(self) -> str:
        """Bearer token for the internal API, derived so no extra secret must be configured."""
        import hashlib
        import hmac

        return hmac.new(self.secret_key.encode(), b"safeline-internal-api", hashlib.sha256).hexdigest()

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        """Build settings from environment variables (or a given mapping, for tests)."""
        env = os.environ if env is None else env
        production = env.get("SAFELINE_ENV", "development").strip().lower() == "production"
        data_dir = Path(env.get("SAFELINE_DATA_DIR", str(PROJECT_ROOT / "var"))).resolve()
        port = _int(env, "SAFELINE_PORT", 8000, 1)
        rasa_port = _int(env, "RASA_PORT", 5005, 1)
        translator_port = _int(env, "TRANSLATOR_PORT", 5057, 1)
        languages = tuple(
            code.strip() for code in env.get("SAFELINE_LANGUAGES", ",".join(SUPPORTED_LANGUAGES)).split(",")
            if code.strip()
        )
        unknown = sorted(set(languages) - set(SUPPORTED_LANGUAGES))
        if unknown:
            raise ConfigError(
                f"SAFELINE_LANGUAGES has languages without locale and NLU data: {', '.join(unknown)}"
            )
        default_language = env.get("SAFELINE_DEFAULT_LANGUAGE", "en").strip() or "en"
        if default_language not in languages:
            raise ConfigError(f"SAFELINE_DEFAULT_LANGUAGE={default_language} is not in SAFELINE_LANGUAGES")
        operator_language = env.get("SAFELINE_OPERATOR_LANGUAGE", "en").strip() or "en"
        referrals = env.get("SAFELINE_REFERRALS_FILE", "").strip()
        return cls(
            production=production,
            host=env.get("SAFELINE_HOST", "127.0.0.1").strip() or "127.0.0.1",
            port=port,
            internal_port=_int(env, "SAFELINE_INTERNAL_PORT", 5056, 1),
            # Only containers on a private network set this to 0.0.0.0; never publish the port.
            internal_host=env.get("SAFELINE_INTERNAL_HOST", "127.0.0.1").strip() or "127.0.0.1",
            public_url=(env.get("SAFELINE_PUBLIC_URL", "").strip() or f"http://localhost:{port}").rstrip("/"),
            secret_key=_secret_key(env, data_dir, production),
            api_token=env.get("SAFELINE_API_TOKEN", "").strip() or None,
            admin_password=env.get("SAFELINE_ADMIN_PASSWORD", "") or None,
            rasa_url=(env.get("RASA_URL", "").strip() or f"http://127.0.0.1:{rasa_port}").rstrip("/"),
            rasa_port=rasa_port,
            actions_port=_int(env, "ACTIONS_PORT", 5055, 1),
            redis_url=env.get("REDIS_URL", "").strip() or None,
            data_dir=data_dir,
            languages=languages,
            default_language=default_language,
            operator_language=operator_language,
            emergency_number=env.get("SAFELINE_EMERGENCY_NUMBER", "112").strip() or "112",
            helpline_name=env.get("SAFELINE_HELPLINE_NAME", "Safeline").strip() or "Safeline",
            default_country=env.get("SAFELINE_DEFAULT_COUNTRY", "").strip().upper() or None,
            referrals_file=Path(referrals) if referrals else PROJECT_ROOT / "referrals" / "example.yml",
            quick_exit_url=env.get("SAFELINE_QUICK_EXIT_URL", "").strip()
            or "https://www.google.com/search?q=weather+today",
            conversation_ttl_s=_int(env, "SAFELINE_CONVERSATION_TTL", 7 * 24 * 3600, 60),
            rasa_timeout_s=float(_int(env, "SAFELINE_RASA_TIMEOUT", 20, 1)),
            max_message_chars=_int(env, "SAFELINE_MAX_MESSAGE_CHARS", 4000, 100),
            max_body_bytes=_int(env, "SAFELINE_MAX_BODY_BYTES", 64 * 1024, 1024),
            telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN", "").strip() or None,
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None,
            telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL", "").strip() or None,
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", "").strip() or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", "").strip() or None,
            twilio_from_number=env.get("TWILIO_FROM_NUMBER", "").strip() or None,
            argos_packages_dir=Path(env.get("ARGOS_PACKAGES_DIR", str(data_dir / "argos-packages"))),
            translator_url=(env.get("TRANSLATOR_URL", "").strip() or f"http://127.0.0.1:{translator_port}").rstrip("/"),
            translator_port=translator_port,
            translator_timeout_s=float(_int(env, "TRANSLATOR_TIMEOUT", 5, 1)),
            start_translator=_bool(env, "SAFELINE_START_TRANSLATOR", not env.get("TRANSLATOR_URL", "").strip()),
            twilio_api_base_url=(env.get("TWILIO_API_BASE_URL", "").strip() or "https://api.twilio.com").rstrip("/"),
            sms_max_parts=_int(env, "SAFELINE_SMS_MAX_PARTS", 2, 1),
            sms_twiml_wait_ms=_int(env, "SAFELINE_SMS_TWIML_WAIT_MS", 700, 0),
            sms_neutral=_bool(env, "SAFELINE_SMS_NEUTRAL", True),
            silence_window_s=_int(env, "SAFELINE_SILENCE_WINDOW", 900, 0),
            unavailable_notice_s=_int(env, "SAFELINE_UNAVAILABLE_NOTICE_AFTER", 5, 0),
            retry_max_delay_s=_int(env, "SAFELINE_RETRY_MAX_DELAY", 10, 1),
            address_ttl_s=_int(env, "SAFELINE_ADDRESS_TTL", 7 * 24 * 3600, 60),
            dedup_ttl_s=_int(env, "SAFELINE_DEDUP_TTL", 48 * 3600, 60),
            debug_store_dump=_debug_store_dump(env, production),
            admin_totp_secret=env.get("SAFELINE_ADMIN_TOTP_SECRET", "").strip().upper() or None,
            admin_password_one_time=_bool(env, "SAFELINE_ADMIN_PASSWORD_ONE_TIME", False),
            opening_hours=_opening_hours(env),
            timezone=env.get("SAFELINE_TIMEZONE", "").strip() or "UTC",
            expected_wait_minutes=_int(env, "SAFELINE_EXPECTED_WAIT_MINUTES", 30, 1),
            closed_retention_s=_int(env, "SAFELINE_CLOSED_CASE_RETENTION", 0, 0),
            console_session_ttl_s=_int(env, "SAFELINE_CONSOLE_SESSION_TTL", 8 * 3600, 300),
            rasa_urls=_rasa_urls(env, rasa_port),
            rasa_replicas=_int(env, "SAFELINE_RASA_REPLICAS", 1, 1),
            allow_http=_bool(env, "SAFELINE_ALLOW_HTTP", False),
            trusted_proxies=_proxies(env),
            embedded_worker=_embedded_worker(env),
            worker_processes=_int(env, "SAFELINE_WORKER_PROCESSES", 1, 1),
        )
