"""`python -m bot.channels.telegram_setup` (`make telegram-webhook`): register the webhook with Telegram.

Registers SAFELINE_PUBLIC_URL + /telegram/webhook with the secret token and the update types
Safeline handles, and the command menu in every language (taken from each locale's Telegram help).
`--remove` unregisters the webhook. Secrets are never printed.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import sys
from typing import Optional

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from bot.channels.telegram import ALLOWED_UPDATES, COMMANDS
from bot.config import ConfigError, Settings
from bot.locales import Catalog, load_locales

_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what the Bot API accepts as secret_token
_HELP_LINE = re.compile(r"^/([a-z]+)\b[^–-]*[–-]\s*(.+)$")


def command_menu(catalog: Catalog, language: str) -> list[BotCommand]:
    """The bot's commands with descriptions from the locale's `utter_telegram_help` lines."""
    help_text = (catalog.render("utter_telegram_help", language) or {"text": ""})["text"]
    described = {m.group(1): m.group(2).strip() for line in help_text.splitlines() if (m := _HELP_LINE.match(line))}
    start = (catalog.render("utter_greet", language) or {"text": "Start"})["text"].split(".")[0]
    described.setdefault("start", start)
    described.setdefault("help", help_text.splitlines()[0].rstrip(":") if help_text else "Help")
    return [BotCommand(c, described[c][:256]) for c in COMMANDS if c in described]


async def register(settings: Settings, remove: bool = False, bot: Optional[Bot] = None) -> str:
    """Set (or delete) the webhook and the command menus; returns a one-line summary."""
    base = (settings.telegram_api_base_url or "https://api.telegram.org").rstrip("/")
    bot = bot or Bot(str(settings.telegram_bot_token), base_url=f"{base}/bot")
    if remove:
        await bot.delete_webhook()
        return "Telegram webhook removed."
    url = settings.public_url + "/telegram/webhook"
    await bot.set_webhook(url=url, secret_token=settings.telegram_webhook_secret,
                          allowed_updates=list(ALLOWED_UPDATES), drop_pending_updates=False)
    catalog = Catalog(load_locales(), settings.default_language,
                      {"helpline_name": settings.helpline_name, "emergency_number": settings.emergency_number})
    await bot.set_my_commands(command_menu(catalog, settings.default_language))
    for language in settings.languages:
        await bot.set_my_commands(command_menu(catalog, language), language_code=language)
    info = await bot.get_webhook_info()
    return f"Telegram webhook registered: {info.url or url} (pending updates: {info.pending_update_count})"


def main(argv: Optional[list[str]] = None) -> int:
    """Check the configuration, then register; explain any refusal in one line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--remove", action="store_true", help="unregister the webhook instead")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"safeline: configuration error: {exc}", file=sys.stderr)
        return 2
    if not settings.telegram_enabled:
        print("safeline: set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first", file=sys.stderr)
        return 2
    if not _SECRET.match(str(settings.telegram_webhook_secret)):
        print("safeline: TELEGRAM_WEBHOOK_SECRET may only use A-Z a-z 0-9 _ - (1-256 characters)", file=sys.stderr)
        return 2
    if not args.remove and not settings.public_url.startswith("https://"):
        print(f"safeline: warning: Telegram only calls HTTPS webhooks; SAFELINE_PUBLIC_URL is {settings.public_url}",
              file=sys.stderr)
    try:
        print(asyncio.run(register(settings, remove=args.remove)))
    except TelegramError as exc:
        print(f"safeline: Telegram refused: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
