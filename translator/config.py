"""The translator process's settings, read from the environment once at start.

The translator runs in its own virtualenv and cannot import Safeline's `bot.config`; this module is
its one place that reads `os.environ`. Defaults mirror `bot/config.py` so both agree on
ARGOS_PACKAGES_DIR (`$SAFELINE_DATA_DIR/argos-packages`, `var/argos-packages` in a checkout).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    """Read a whole-number setting; refuse garbage with a message naming the variable."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, got {value}")
    return value


def _ratio(env: Mapping[str, str], name: str, default: float) -> float:
    """Read a positive decimal setting."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from exc
    if not 0.5 <= value <= 10:
        raise SystemExit(f"{name} must be between 0.5 and 10, got {value}")
    return value


@dataclass(frozen=True)
class TranslatorSettings:
    """Where the service listens, where packages are, and how much text one request may carry."""

    host: str
    port: int
    packages_dir: Path
    max_chars: int
    pivot: str
    max_output_ratio: float

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "TranslatorSettings":
        """Build settings from environment variables (or a given mapping, for tests)."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("SAFELINE_DATA_DIR", str(PROJECT_ROOT / "var")))
        packages = env.get("ARGOS_PACKAGES_DIR", "").strip() or str(data_dir / "argos-packages")
        return cls(
            # Loopback only: the service has no authentication and must never be exposed.
            host=env.get("TRANSLATOR_HOST", "127.0.0.1").strip() or "127.0.0.1",
            port=_int(env, "TRANSLATOR_PORT", 5057, 1),
            packages_dir=Path(packages).resolve(),
            max_chars=_int(env, "TRANSLATOR_MAX_CHARS", 5000, 1),
            pivot=env.get("TRANSLATOR_PIVOT", "en").strip().lower() or "en",
            max_output_ratio=_ratio(env, "TRANSLATOR_MAX_OUTPUT_RATIO", 3.0),
        )
