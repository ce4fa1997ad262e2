"""HTTPS for operators: in production the console (/console) and the operator API (/api) refuse
plain HTTP, and HTTPS responses carry Strict-Transport-Security.

TLS is normally terminated by a reverse proxy in front of Safeline; its `X-Forwarded-Proto` is
believed only when the request comes from an address in SAFELINE_TRUSTED_PROXIES, so nobody can
claim HTTPS by sending the header themselves. SAFELINE_ALLOW_HTTP=true turns the refusal off
(e.g. a console reached only over a VPN); development (SAFELINE_ENV unset) never refuses.
"""
from __future__ import annotations

import ipaddress
import logging
from typing import Awaitable, Callable, Optional, Sequence, Union

from aiohttp import web

from bot.config import Settings

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

OPERATOR_PREFIXES = ("/console", "/api")
HSTS = "max-age=31536000; includeSubDomains"


def trusted_networks(proxies: Sequence[str]) -> list[Network]:
    """SAFELINE_TRUSTED_PROXIES as networks (a bare address is a network of one)."""
    return [ipaddress.ip_network(item.strip(), strict=False) for item in proxies if item.strip()]


def _from_trusted(remote: Optional[str], networks: Sequence[Network]) -> bool:
    """Is the peer one of the configured proxies?"""
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


def is_https(request: web.Request, networks: Sequence[Network]) -> bool:
    """HTTPS to Safeline itself, or to a trusted proxy that says so in X-Forwarded-Proto.

    The right-most value is the one the nearest proxy (the trusted one) added.
    """
    if request.secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    if not forwarded or not _from_trusted(request.remote, networks):
        return False
    return forwarded.split(",")[-1].strip().lower() == "https"


def is_operator_path(path: str) -> bool:
    """/console and /api and everything under them."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in OPERATOR_PREFIXES)


def transport_security(settings: Settings) -> Callable:
    """The middleware for the public app."""
    networks = trusted_networks(settings.trusted_proxies)
    refuse = settings.production and not settings.allow_http

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        secure = is_https(request, networks)
        if refuse and not secure and is_operator_path(request.path):
            log.warning("plain HTTP refused on the operator side (%s)", request.path.split("/")[1])
            return web.json_response(
                {"error": "HTTPS required: open the console through https:// (behind a TLS proxy listed "
                          "in SAFELINE_TRUSTED_PROXIES), or set SAFELINE_ALLOW_HTTP=true"}, status=403)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if secure and settings.production:
                exc.headers.setdefault("Strict-Transport-Security", HSTS)
            raise
        if secure and settings.production:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    return middleware
