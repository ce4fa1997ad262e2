"""Rasa's NLG endpoint: renders a response name in the conversation's language from `locales/`."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from aiohttp import web

from bot.locales import Catalog

log = logging.getLogger(__name__)

# Responses whose buttons are built from data rather than written in every locale.
LANGUAGE_PICKER = "utter_choose_language"


def render_for_rasa(catalog: Catalog, request_body: Mapping[str, Any]) -> dict[str, Any]:
    """Turn Rasa's NLG request (response name, arguments, tracker) into a bot message."""
    name = str(request_body.get("response") or "")
    tracker = request_body.get("tracker") or {}
    slots = tracker.get("slots") or {}
    values = {k: v for k, v in slots.items() if isinstance(v, (str, int, float))}
    arguments = dict(request_body.get("arguments") or {})
    # An action that changes the language renders its confirmation in the new one.
    language = arguments.pop("render_language", None) or slots.get("language")
    values.update(arguments)
    message = catalog.render(name, language, values)
    if message is None:
        log.error("no locale defines response %s", name)
        message = catalog.render("utter_default", language, values) or {"text": ""}
    if name == LANGUAGE_PICKER:
        message["buttons"] = [
            {"title": own_name, "payload": '/change_language{"language":"%s"}' % code}
            for code, own_name in catalog.language_names()
        ]
    return message


def nlg_routes(catalog: Catalog) -> list[web.RouteDef]:
    """The `/nlg` route for Safeline's internal (localhost-only) HTTP site."""

    async def nlg(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "body must be JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        return web.json_response(render_for_rasa(catalog, body))

    return [web.post("/nlg", nlg)]
