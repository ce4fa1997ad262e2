"""`python -m bot`: run Safeline's HTTP app (web chat, channel webhooks, NLG endpoint)."""
from __future__ import annotations

import asyncio
import logging
import sys

from bot.app import serve
from bot.config import ConfigError, Settings
from bot.stores import StoreUnavailable


def main() -> int:
    """Start the app, or explain a configuration error in one line."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"safeline: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(settings))
    except StoreUnavailable as exc:
        print(f"safeline: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
