"""Messaging channels (Telegram, SMS): each is on only when its credentials are configured."""
from __future__ import annotations

import logging

from aiohttp import web

from bot.address_vault import AddressVault
from bot.channels.base import Channel
from bot.config import Settings
from bot.locales import Catalog
from bot.stores.base import Store

log = logging.getLogger(__name__)

# These log request URLs at INFO, and a Bot API URL contains the bot token.
_CHATTY_LOGGERS = ("httpx", "httpcore", "telegram", "twilio")


def build_channels(settings: Settings, store: Store, vault: AddressVault, catalog: Catalog) -> dict[str, Channel]:
    """The channels whose credentials are set; the others stay off (their webhooks answer 404)."""
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    channels: dict[str, Channel] = {}
    if settings.telegram_enabled:
        from bot.channels.telegram import TelegramChannel

        channels["telegram"] = TelegramChannel(settings, store, vault)
    elif settings.telegram_bot_token:
        log.warning("Telegram is off: set TELEGRAM_WEBHOOK_SECRET too, so updates can be authenticated")
    if settings.sms_enabled:
        from bot.channels.sms import SmsChannel

        channels["sms"] = SmsChannel(settings, store, vault, catalog)
    log.info("channels on: %s", ", ".join(sorted(channels)) or "none (web chat only)")
    return channels


def channel_routes(channels: dict[str, Channel]) -> list[web.RouteDef]:
    """The webhook routes of the channels that are on."""
    return [route for channel in channels.values() for route in channel.routes()]
