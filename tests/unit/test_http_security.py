"""Security headers on every response of the public app (pages, APIs, webhooks, static files, the
console's event stream, errors), and HTTPS for operators in production (bot/transport_security.py)."""
from __future__ import annotations

import asyncio
import re
import socket
from typing import Any

import pyotp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_services, public_app
from bot.config import ConfigError, Settings
from bot.http_security import SECURITY_HEADERS
from bot.transport_security import transport_security

PASSWORD = "correct horse battery staple"


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_settings(tmp_path, **env: str) -> Settings:
    return Settings.from_env({
        "SAFELINE_DATA_DIR": str(tmp_path), "SAFELINE_SECRET_KEY": "k" * 40, "SAFELINE_API_TOKEN": "t" * 32,
        "RASA_URL": f"http://127.0.0.1:{unused_port()}", "TRANSLATOR_URL": f"http://127.0.0.1:{unused_port()}",
        "TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_WEBHOOK_SECRET": "s" * 24,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{unused_port()}",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "a" * 32,
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{unused_port()}", **env})


def requests_for(app: web.Application) -> list[tuple[str, str]]:
    """One request per route: its method and a concrete path (placeholders filled in)."""
    wanted = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        if "prefix" in info:  # static files
            path = info["prefix"].rstrip("/") + "/chat.css"
        else:
            path = re.sub(r"\{[^}]+\}", "x", info.get("path") or info.get("formatter") or "")
        if path and route.method != "HEAD":
            wanted.append((route.method, path))
    return sorted(set(wanted))


def missing_headers(response: Any) -> list[str]:
    return [name for name in SECURITY_HEADERS if name not in response.headers]


async def check(client: TestClient, method: str, path: str, **kwargs: Any) -> list[str]:
    response = await client.request(method, path, allow_redirects=False, **kwargs)
    try:
        missing = missing_headers(response)
        return [f"{method} {path} → {response.status}: no {', '.join(missing)}"] if missing else []
    finally:
        response.close()  # the console's event stream never ends by itself


async def oversized(client: TestClient, path: str) -> list[str]:
    """Announce a body over the limit and read the answer, which comes before any body is sent
    (over a raw connection: an HTTP client sending the body would be cut off with a reset)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {1024 * 1024}\r\n\r\n".encode())
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    writer.close()
    status = head.split()[1]
    names = {line.split(":", 1)[0].strip().lower() for line in head.split("\r\n")[1:] if ":" in line}
    missing = [name for name in SECURITY_HEADERS if name.lower() not in names]
    assert status == "413", head
    return [f"POST {path} → {status}: no {', '.join(missing)}"] if missing else []


def test_every_route_and_every_error_carries_the_security_headers(tmp_path):
    async def scenario() -> list[str]:
        services = build_services(app_settings(tmp_path))
        app = public_app(services)
        routes = requests_for(app)
        client = TestClient(TestServer(app))
        await client.start_server()
        problems: list[str] = []
        try:
            for method, path in routes:  # anonymous: pages, webhooks without credentials, APIs without token
                problems += await check(client, method, path)
            assert any(path == "/telegram/webhook" for _, path in routes)
            assert any(path == "/twilio/sms" for _, path in routes)
            assert any(path.startswith("/console") for _, path in routes)
            problems += await check(client, "GET", "/no/such/page")  # 404
            problems += await check(client, "DELETE", "/webchat/messages")  # 405
            problems += await oversized(client, "/webchat/messages")  # 413
            problems += await check(client, "POST", "/webchat/messages", data=b"{not json")  # 400

            async def broken(*args: Any, **kwargs: Any) -> Any:
                raise RuntimeError("boom")

            services.gateway.handle_text = broken  # an unexpected failure: the JSON 500
            problems += await check(client, "POST", "/webchat/messages", json={"session": "s" * 16, "text": "hi"})

            # Signed in, every console page, its event stream and the API with a token.
            secret = await services.console.accounts.create("sup", PASSWORD, "supervisor", must_change_password=False)
            page = await client.get("/console/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
            login = await client.post("/console/login", allow_redirects=False, data={
                "csrf": csrf, "username": "sup", "password": PASSWORD, "totp": pyotp.TOTP(secret).now(),
                "next": "/console"})
            assert login.status in (302, 303), await login.text()
            problems += missing_headers(login) and [f"POST /console/login → {login.status}"]
            for method, path in routes:
                if method == "GET" and path.startswith("/console"):
                    problems += await check(client, method, path)
            for path in ("/api/handoffs", "/api/handoffs/x"):
                problems += await check(client, "GET", path, headers={"Authorization": "Bearer " + "t" * 32})
        finally:
            await client.close()
        return problems

    assert asyncio.run(scenario()) == []


def operator_app(settings: Settings) -> web.Application:
    """The middleware around stand-ins for the web chat, the console and the API."""
    async def ok(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(middlewares=[transport_security(settings)])
    app.router.add_get("/", ok)
    app.router.add_get("/console", ok)
    app.router.add_post("/console/login", ok)
    app.router.add_get("/api/handoffs", ok)
    app.router.add_get("/consoles-are-not-this", ok)
    return app


def statuses(settings: Settings, headers: dict[str, str] = {}) -> dict[str, int]:  # noqa: B006 - read only
    async def scenario() -> dict[str, int]:
        client = TestClient(TestServer(operator_app(settings)))  # peers connect from 127.0.0.1
        await client.start_server()
        try:
            result = {}
            for method, path in (("GET", "/"), ("GET", "/console"), ("POST", "/console/login"),
                                 ("GET", "/api/handoffs"), ("GET", "/consoles-are-not-this")):
                response = await client.request(method, path, headers=headers)
                result[f"{method} {path}"] = response.status
                if "Strict-Transport-Security" in response.headers:
                    result["hsts"] = True
            return result
        finally:
            await client.close()

    return asyncio.run(scenario())


REFUSED = {"GET /": 200, "GET /console": 403, "POST /console/login": 403, "GET /api/handoffs": 403,
           "GET /consoles-are-not-this": 200}
ALLOWED = {"GET /": 200, "GET /console": 200, "POST /console/login": 200, "GET /api/handoffs": 200,
           "GET /consoles-are-not-this": 200}


def test_production_refuses_plain_http_for_the_console_and_the_api_only(tmp_path):
    assert statuses(app_settings(tmp_path, SAFELINE_ENV="production")) == REFUSED


def test_a_forwarded_proto_is_believed_only_from_a_trusted_proxy(tmp_path):
    https = {"X-Forwarded-Proto": "https"}
    assert statuses(app_settings(tmp_path, SAFELINE_ENV="production"), https) == REFUSED
    assert statuses(app_settings(tmp_path, SAFELINE_ENV="production", SAFELINE_TRUSTED_PROXIES="10.0.0.0/8"),
                    https) == REFUSED
    trusted = app_settings(tmp_path, SAFELINE_ENV="production", SAFELINE_TRUSTED_PROXIES="172.30.0.1, 127.0.0.0/8")
    assert statuses(trusted, https) == {**ALLOWED, "hsts": True}
    # The right-most value is the trusted proxy's own; what a client put before it does not count.
    assert statuses(trusted, {"X-Forwarded-Proto": "https, http"}) == REFUSED


def test_plain_http_is_allowed_when_explicitly_asked_or_outside_production(tmp_path):
    assert statuses(app_settings(tmp_path, SAFELINE_ENV="production", SAFELINE_ALLOW_HTTP="true")) == ALLOWED
    assert statuses(app_settings(tmp_path)) == ALLOWED


def test_a_malformed_trusted_proxy_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="SAFELINE_TRUSTED_PROXIES"):
        app_settings(tmp_path, SAFELINE_TRUSTED_PROXIES="proxy.internal")
