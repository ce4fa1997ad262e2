"""An in-process console for unit tests: MemoryStore, a phrase-book translator, aiohttp's test client."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

import pyotp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.api import api_routes
from bot.audit import AuditLog
from bot.config import Settings
from bot.console.auth import Accounts
from bot.console.routes import Console
from bot.handoffs import HandoffService
from bot.http_security import json_errors, security_headers
from bot.language import LanguageState
from bot.locales import Catalog, load_locales
from bot.stores.memory import MemoryStore
from bot.translation import NO_PACKAGE, Translation, untranslated

API_TOKEN = "test-api-token-0123456789abcdef"
PASSWORD = "correct horse battery staple"
PHRASES = {
    ("es", "en"): {"mi jefe me quitó el pasaporte": "my boss took my passport",
                   "quiero hablar con una persona": "I want to talk to a person"},
    ("en", "es"): {"We can help you. Are you safe now?": "Podemos ayudarte. ¿Estás a salvo ahora?"},
}


class PhraseTranslator:
    """Translates known phrases es↔en; any other pair has no package (like the real service)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    async def translate(self, text: str, source: str, target: str) -> Translation:
        self.calls.append((text, source, target))
        if source == target:
            return untranslated(text, source, target, "same_language")
        book = PHRASES.get((source, target))
        if book is None:
            return untranslated(text, source, target, NO_PACKAGE, f"no translation package for {source}→{target}")
        return Translation(text, book.get(text, f"[{target}] {text}"), source, target, True, (source, target))

    async def languages(self) -> list[dict]:
        return [{"source": s, "target": t, "via": [s, t]} for s, t in PHRASES]


def settings(tmp_path: Any, **env: str) -> Settings:
    return Settings.from_env({"SAFELINE_DATA_DIR": str(tmp_path), "SAFELINE_API_TOKEN": API_TOKEN,
                              "SAFELINE_SECRET_KEY": "k" * 40, **env})


def spanish(interpreter: bool = False) -> LanguageState:
    return LanguageState.from_dict({"language": "es", "locked": False}) if not interpreter else \
        LanguageState.from_dict({"language": "en", "interpreter_needed": True, "detected": "de"})


@dataclass
class Harness:
    settings: Settings
    store: MemoryStore = field(init=False)
    delivered: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.store = MemoryStore(conversation_ttl_s=3600)
        self.catalog = Catalog(load_locales(), "en", {"helpline_name": "Testline", "emergency_number": "112"})
        self.audit = AuditLog(self.store)
        self.translator = PhraseTranslator()
        self.erased_trackers: list[str] = []

        async def erase_tracker(conversation: str) -> None:
            self.erased_trackers.append(conversation)

        async def deliver(conversation: str, text: str) -> bool:
            self.delivered.append((conversation, text))
            return True

        self.handoffs = HandoffService(self.settings, self.store, self.catalog, self.translator, self.audit,
                                       erase_tracker=erase_tracker, deliver_to_channel=deliver)
        self.accounts = Accounts(self.store, self.settings.secret_key)
        self.console = Console(self.settings, self.handoffs, self.accounts, self.audit, self.catalog)
        self.secrets: dict[str, str] = {}

    def app(self) -> web.Application:
        app = web.Application(middlewares=[security_headers, json_errors])
        app.add_routes(self.console.routes())
        app.add_routes(api_routes(self.settings, self.handoffs, self.audit))
        app.on_shutdown.append(self.console.on_shutdown)
        return app

    async def client(self) -> TestClient:
        client = TestClient(TestServer(self.app()))
        await client.start_server()
        return client

    async def account(self, username: str, role: str = "operator") -> str:
        secret = await self.accounts.create(username, PASSWORD, role, must_change_password=False)
        self.secrets[username] = secret
        return secret

    async def handoff(self, conversation: str = "conv-es", channel: str = "webchat", consent: str = "confidential",
                      summary: Optional[dict] = None, state: Optional[LanguageState] = None) -> dict:
        base = {"urgency": "medium", "transcript": [{"from": "person", "text": "mi jefe me quitó el pasaporte"}]}
        base.update(summary or {})
        await self.handoffs.after_turn(channel, conversation, state or spanish(),
                                       [{"handoff": {"consent": consent, "summary": base}}])
        await self.handoffs.settle()
        return await self.handoffs.active_for(conversation)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


async def login(client: TestClient, harness: Harness, username: str, password: str = PASSWORD,
                code: Optional[str] = None, follow: bool = True) -> Any:
    page = await client.get("/console/login")
    token = csrf_of(await page.text())
    code = code if code is not None else pyotp.TOTP(harness.secrets[username]).now()
    return await client.post("/console/login", data={"csrf": token, "username": username, "password": password,
                                                     "totp": code, "next": "/console"},
                             allow_redirects=follow)


async def page_csrf(client: TestClient, path: str = "/console") -> str:
    response = await client.get(path)
    return csrf_of(await response.text())
