"""The local web chat: the page at `/` and its JSON API (CONTRACTS §7)."""
from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.gateway import Gateway
from bot.pseudonym import pseudonym
from bot.rasa_client import RasaUnavailable

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
CHANNEL = "webchat"
_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
_DEFAULT_EXIT = "https://www.google.com/search?q=weather+today"


def _bad_request(message: str, status: int = 400) -> web.Response:
    """A JSON error the page (or an integrator) can show as it is."""
    return web.json_response({"error": message}, status=status)


async def _read_json(request: web.Request) -> dict[str, Any] | web.Response:
    """The request's JSON object, or a clear 4xx response explaining what is wrong."""
    if request.content_length is not None and request.content_length > request.app["settings"].max_body_bytes:
        return _bad_request("request body too large", 413)
    try:
        body = await request.json()
    except web.HTTPRequestEntityTooLarge:
        return _bad_request("request body too large", 413)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return _bad_request("body must be JSON")
    if not isinstance(body, dict):
        return _bad_request("body must be a JSON object")
    return body


def _conversation(request: web.Request, session: Any) -> str | None:
    """Pseudonym of a web chat session id, or None if the id is malformed."""
    if not isinstance(session, str) or not _SESSION.match(session):
        return None
    return pseudonym(request.app["settings"].secret_key, CHANNEL, session)


async def index(request: web.Request) -> web.Response:
    """The chat page, with the deployment's quick-exit address."""
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    exit_url = html.escape(request.app["settings"].quick_exit_url, quote=True)
    page = page.replace(f'content="{html.escape(_DEFAULT_EXIT, quote=True)}"', f'content="{exit_url}"')
    return web.Response(text=page, content_type="text/html")


async def _session_request(request: web.Request) -> tuple[dict[str, Any], str] | web.Response:
    """The JSON body and the session's pseudonym, or the 4xx response saying what is wrong."""
    body = await _read_json(request)
    if isinstance(body, web.Response):
        return body
    conversation = _conversation(request, body.get("session"))
    if conversation is None:
        return _bad_request("'session' must be an opaque id of 8-128 letters, digits, '-' or '_'")
    return body, conversation


async def post_message(request: web.Request) -> web.Response:
    """`POST /webchat/messages`: one message in, the bot's replies out."""
    parsed = await _session_request(request)
    if isinstance(parsed, web.Response):
        return parsed
    body, conversation = parsed
    text = body.get("text")
    if not isinstance(text, str):
        return _bad_request("'text' must be a string")
    settings = request.app["settings"]
    if len(text) > settings.max_message_chars:
        return _bad_request(f"'text' is too long: at most {settings.max_message_chars} characters", 413)
    gateway: Gateway = request.app["gateway"]
    if not text.strip():
        language = await gateway.language_of(conversation)
        message = gateway.catalog.render("utter_only_text", language)
        return web.json_response({"messages": [message] if message else [], "language": language})
    try:
        reply = await gateway.handle_text(CHANNEL, conversation, text)
    except RasaUnavailable as exc:
        log.warning("web chat turn failed: %s", exc)
        reply = gateway.unavailable_reply(await gateway.language_of(conversation))
        return web.json_response({"messages": reply.messages, "language": reply.language}, status=503)
    return web.json_response({"messages": reply.messages, "language": reply.language})


async def end_session(request: web.Request) -> web.Response:
    """`POST /webchat/end` (quick exit): forget the conversation on the server."""
    parsed = await _session_request(request)
    if isinstance(parsed, web.Response):
        return parsed
    _, conversation = parsed
    try:
        await request.app["gateway"].erase(conversation)
    except RasaUnavailable:
        return web.json_response({"ended": True, "tracker": "pending"}, status=202)
    return web.json_response({"ended": True})


async def updates(request: web.Request) -> web.Response:
    """`POST /webchat/updates {"session"}`: messages from the team waiting for this page, taken once.

    The page polls it while it is open; a person handed to the team reads the operator's replies
    (already in their language) here. Nothing waits here for a conversation that is not relayed.
    """
    parsed = await _session_request(request)
    if isinstance(parsed, web.Response):
        return parsed
    _, conversation = parsed
    messages = await request.app["gateway"].store.mailbox_take(conversation)
    return web.json_response({"messages": messages})


def webchat_routes() -> list[web.AbstractRouteDef]:
    """Routes of the web chat page, its assets and its API."""
    return [
        web.get("/", index),
        web.post("/webchat/messages", post_message),
        web.post("/webchat/end", end_session),
        web.post("/webchat/updates", updates),
        web.static("/static", STATIC_DIR),
    ]
