"""Internal diagnostics on the localhost-only site: queue depths, and the store dump for tests.

The dump exists so privacy tests can check everything Safeline holds for phone numbers and
Telegram ids; it is served only with SAFELINE_DEBUG_STORE_DUMP=true (refused in production) and
the internal bearer token.
"""
from __future__ import annotations

import hmac

from aiohttp import web

from bot.config import Settings
from bot.stores.base import Store
from bot.worker import Worker


def debug_routes(settings: Settings, store: Store, worker: Worker) -> list[web.RouteDef]:
    """`GET /worker/status` (counts only) and, when enabled, `GET /debug/store`."""

    async def status(_: web.Request) -> web.Response:
        return web.json_response(await worker.status())

    async def dump(request: web.Request) -> web.Response:
        expected = f"Bearer {settings.internal_token}".encode()
        if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected):
            return web.json_response({"error": "internal token required"}, status=401)
        return web.json_response(await store.export())

    routes = [web.get("/worker/status", status)]
    if settings.debug_store_dump:
        routes.append(web.get("/debug/store", dump))
    return routes
