"""Safeline's HTTP app: the public site (web chat, channels, console) and the internal site (NLG)."""
from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from typing import Optional

from aiohttp import web

from bot.address_vault import AddressVault
from bot.api import api_routes
from bot.audit import AuditLog
from bot.channels import build_channels, channel_routes
from bot.config import Settings
from bot.console.auth import Accounts, ensure_first_supervisor
from bot.console.routes import Console
from bot.debug import debug_routes
from bot.gateway import Gateway
from bot.handoffs import HandoffService
from bot.http_security import json_errors, security_headers, security_headers_on_prepare
from bot.language import LanguagePolicy
from bot.locales import Catalog, load_locales
from bot.nlg import nlg_routes
from bot.rasa_client import RasaClient
from bot.stores import StoreUnavailable, check_store, open_store
from bot.translation import TranslationClient
from bot.transport_security import transport_security
from bot.webchat.routes import webchat_routes
from bot.worker import Worker

log = logging.getLogger(__name__)


@dataclass
class Services:
    """The long-lived objects shared by both sites."""

    settings: Settings
    catalog: Catalog
    gateway: Gateway
    worker: Worker
    handoffs: HandoffService
    console: Console
    first_supervisor: Optional[dict] = None  # set at start when the first supervisor was just created


def build_services(settings: Settings) -> Services:
    """Load locales, the language detector, the store and the Rasa client."""
    catalog = Catalog(
        load_locales(),
        default_language=settings.default_language,
        constants={"helpline_name": settings.helpline_name, "emergency_number": settings.emergency_number},
    )
    missing = [code for code in settings.languages if code not in catalog.locales]
    if missing:
        raise RuntimeError(f"no locale file for configured languages: {', '.join(missing)}")
    store = open_store(settings)
    rasa = RasaClient(settings.rasa_urls or settings.rasa_url, settings.rasa_timeout_s)
    policy = LanguagePolicy(settings.languages, settings.default_language)
    gateway = Gateway(settings, store, rasa, catalog, policy)
    vault = AddressVault(settings.secret_key, settings.address_ttl_s)
    worker = Worker(settings, gateway, build_channels(settings, store, vault, catalog), vault)
    # Handoffs to the team: relay mode in the gateway, operator replies through the worker's channels.
    audit = AuditLog(store)
    translator = TranslationClient(settings.translator_url, settings.translator_timeout_s)
    handoffs = HandoffService(settings, store, catalog, translator, audit, erase_tracker=rasa.erase,
                              deliver_to_channel=worker.send_operator_message)
    gateway.relay = handoffs
    gateway.erase_hooks.append(handoffs.before_erase)
    console = Console(settings, handoffs, Accounts(store, settings.secret_key), audit, catalog)
    return Services(settings, catalog, gateway, worker, handoffs, console)


def public_app(services: Services) -> web.Application:
    """The site people and operators reach (SAFELINE_PORT)."""
    app = web.Application(
        middlewares=[security_headers, transport_security(services.settings), json_errors],
        client_max_size=services.settings.max_body_bytes,
    )
    app.on_response_prepare.append(security_headers_on_prepare)  # streamed responses too
    app["settings"] = services.settings
    app["gateway"] = services.gateway
    app.add_routes(webchat_routes())
    app.add_routes(channel_routes(services.worker.channels))
    if services.settings.embedded_worker:  # else it runs as its own process (bot/worker_service.py)
        app.cleanup_ctx.append(services.worker.running)
    app.add_routes(services.console.routes())
    app.add_routes(api_routes(services.settings, services.handoffs, services.console.audit))
    app.cleanup_ctx.append(services.handoffs.running)  # purges closed cases after their retention
    app.on_shutdown.append(services.console.on_shutdown)

    async def health(_: web.Request) -> web.Response:
        ready = await services.gateway.rasa.is_ready()
        return web.json_response({"ok": True, "rasa": ready}, status=200 if ready else 503)

    app.router.add_get("/healthz", health)
    return app


def internal_app(services: Services) -> web.Application:
    """The localhost-only site Rasa calls for NLG."""
    app = web.Application(middlewares=[json_errors], client_max_size=8 * 1024 * 1024)
    app.add_routes(nlg_routes(services.catalog))
    app.add_routes(debug_routes(services.settings, services.gateway.store, services.worker))

    async def bootstrap(request: web.Request) -> web.Response:
        """Whether this start created the first supervisor (bot.stack prints its credentials then)."""
        if request.headers.get("Authorization") != f"Bearer {services.settings.internal_token}":
            return web.json_response({"error": "internal token required"}, status=401)
        return web.json_response({"created": services.first_supervisor is not None})

    app.router.add_get("/console/bootstrap", bootstrap)
    return app


async def serve(settings: Settings) -> None:
    """Run both sites until SIGINT/SIGTERM."""
    services = build_services(settings)
    await check_store(services.gateway.store, settings)
    services.first_supervisor = await ensure_first_supervisor(services.console.accounts, settings)
    if services.first_supervisor and services.first_supervisor["password"]:
        # Nobody gave a password (not started through bot.stack): say it once, on the terminal only.
        print(f"safeline: first supervisor 'admin', one-time password: {services.first_supervisor['password']}\n"
              f"safeline: add to an authenticator app: {services.first_supervisor['totp_uri']}", flush=True)
    runners = [web.AppRunner(public_app(services), access_log=None), web.AppRunner(internal_app(services), access_log=None)]
    for runner in runners:
        await runner.setup()
    await web.TCPSite(runners[0], settings.host, settings.port).start()
    await web.TCPSite(runners[1], settings.internal_host, settings.internal_port).start()
    log.info("Safeline listening on %s:%s (internal %s:%s)", settings.host, settings.port,
             settings.internal_host, settings.internal_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for runner in runners:
        await runner.cleanup()
    await services.gateway.rasa.close()
    await services.gateway.store.close()
