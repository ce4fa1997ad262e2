"""The operator API for case-management integrations (CONTRACTS §7).

`GET /api/handoffs?status=open|claimed|closed` with `Authorization: Bearer $SAFELINE_API_TOKEN`
answers `[summary, ...]` (CONTRACTS §6, most urgent first, then longest waiting; without `status`:
every case). `GET /api/handoffs/{id}` answers one. Without a valid token: 401 (also when no token is
configured: the API is then off). Summaries respect the person's consent level
(`bot.handoffs.shared_summary`), and every read is written to the audit log.
"""
from __future__ import annotations

import hmac
from typing import Optional

from aiohttp import web

from bot.audit import AuditLog
from bot.config import Settings
from bot.handoffs import STATUSES, HandoffService, shared_summary


def _unauthorized() -> web.Response:
    """401 with the scheme the client should use."""
    return web.json_response({"error": "a valid 'Authorization: Bearer <SAFELINE_API_TOKEN>' is required"},
                             status=401, headers={"WWW-Authenticate": 'Bearer realm="safeline"'})


def _authorized(settings: Settings, request: web.Request) -> bool:
    """Constant-time check of the bearer token; no token configured means nobody is authorized."""
    if not settings.api_token:
        return False
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    return hmac.compare_digest(token.strip().encode(), settings.api_token.encode())


def api_routes(settings: Settings, handoffs: HandoffService, audit: AuditLog) -> list[web.RouteDef]:
    """`GET /api/handoffs` and `GET /api/handoffs/{id}`."""

    async def list_handoffs(request: web.Request) -> web.Response:
        if not _authorized(settings, request):
            return _unauthorized()
        status: Optional[str] = request.query.get("status")
        if status is not None and status not in STATUSES:
            return web.json_response({"error": f"'status' must be one of {', '.join(STATUSES)}"}, status=400)
        records = [r for r in await handoffs.all() if status is None or r.get("status") == status]
        await audit.record("api", "integration", "api_list", status=status or "all", count=len(records))
        return web.json_response([shared_summary(r) for r in records])

    async def get_handoff(request: web.Request) -> web.Response:
        if not _authorized(settings, request):
            return _unauthorized()
        record = await handoffs.get(request.match_info["id"][:64])
        if record is None:
            return web.json_response({"error": "no such handoff (closed cases are deleted)"}, status=404)
        await audit.record("api", "integration", "api_read", case=record["id"])
        return web.json_response(shared_summary(record))

    return [web.get("/api/handoffs", list_handoffs), web.get("/api/handoffs/{id}", get_handoff)]
