"""Helpers for console tests on the running stack: TOTP codes that are never reused, HTTP logins."""
from __future__ import annotations

import re
import time
from typing import Optional

import httpx
import pyotp

from conftest import CONSOLE_ADMIN_PASSWORD, CONSOLE_ADMIN_TOTP_SECRET, CONSOLE_API_TOKEN

_used: dict[str, str] = {}


def fresh_code(secret: str) -> str:
    """A current TOTP code this test session has not used yet (a code logs in only once)."""
    totp = pyotp.TOTP(secret)
    while totp.now() == _used.get(secret):
        time.sleep(0.5)
    _used[secret] = totp.now()
    return _used[secret]


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def console_login(base_url: str, username: str = "admin", password: str = CONSOLE_ADMIN_PASSWORD,
                  secret: str = CONSOLE_ADMIN_TOTP_SECRET) -> httpx.Client:
    """An HTTP client logged in to the console."""
    client = httpx.Client(base_url=base_url, timeout=30, follow_redirects=True)
    token = csrf_of(client.get("/console/login").text)
    response = client.post("/console/login", data={"csrf": token, "username": username, "password": password,
                                                   "totp": fresh_code(secret), "next": "/console"})
    assert response.status_code == 200 and "Log out" in response.text, response.text[:500]
    return client


def close_case(client: httpx.Client, case_id: str, outcome: str = "duplicate_or_test") -> httpx.Response:
    """Close a case through the console (as whoever the client is logged in as)."""
    token = csrf_of(client.get("/console").text)
    return client.post(f"/console/cases/{case_id}/close", data={"csrf": token, "outcome": outcome})


def api(base_url: str, status: Optional[str] = None, token: Optional[str] = CONSOLE_API_TOKEN) -> httpx.Response:
    """GET /api/handoffs as an integration would."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    params = {"status": status} if status else {}
    return httpx.get(f"{base_url}/api/handoffs", params=params, headers=headers, timeout=30)
