"""Console login: argon2 passwords, a TOTP code for everyone, cookies, CSRF, login limits, one-time passwords."""
from __future__ import annotations

import asyncio

import pyotp
import pytest

from bot.console.auth import SESSION_COOKIE, ensure_first_supervisor
from console_harness import PASSWORD, Harness, csrf_of, login, page_csrf, settings


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def harness(tmp_path):
    return Harness(settings(tmp_path))


def test_passwords_are_argon2_hashes_and_totp_secrets_are_sealed(harness):
    async def scenario():
        secret = await harness.account("olga")
        stored = await harness.store.account_get("olga")
        assert stored["password_hash"].startswith("$argon2id$")
        assert PASSWORD not in str(stored) and secret not in str(stored)
        assert harness.accounts.totp(stored).now() == pyotp.TOTP(secret).now()
    run(scenario())


def test_login_needs_password_and_a_current_code_and_sets_a_strict_httponly_cookie(harness):
    async def scenario():
        await harness.account("olga")
        client = await harness.client()
        try:
            response = await login(client, harness, "olga", follow=False)
            assert response.status == 303 and response.headers["Location"] == "/console"
            cookie = response.cookies[SESSION_COOKIE]
            assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/console"
            assert (await client.get("/console")).status == 200
        finally:
            await client.close()
    run(scenario())


@pytest.mark.parametrize("password,code", [("wrong password here", None), (PASSWORD, "000000"), (PASSWORD, "")])
def test_a_wrong_password_or_code_is_refused_the_same_way(harness, password, code):
    async def scenario():
        await harness.account("olga")
        client = await harness.client()
        try:
            response = await login(client, harness, "olga", password=password, code=code)
            assert response.status == 401
            assert "Wrong username, password or code." in await response.text()
            assert (await client.get("/console", allow_redirects=False)).status == 303
        finally:
            await client.close()
    run(scenario())


def test_a_totp_code_works_only_once(harness):
    async def scenario():
        await harness.account("olga")
        code = pyotp.TOTP(harness.secrets["olga"]).now()
        first, second = await harness.client(), await harness.client()
        try:
            assert (await login(first, harness, "olga", code=code, follow=False)).status == 303
            assert (await login(second, harness, "olga", code=code)).status == 401
        finally:
            await first.close()
            await second.close()
    run(scenario())


def test_logins_are_rate_limited_per_account(harness):
    async def scenario():
        await harness.account("olga")
        client = await harness.client()
        try:
            for _ in range(5):
                assert (await login(client, harness, "olga", password="not the password!")).status == 401
            blocked = await login(client, harness, "olga")  # even the right password now
            assert blocked.status == 429 and "Too many failed attempts" in await blocked.text()
            actions = [e["action"] for e in await harness.audit.entries()]
            assert actions.count("login_failed") == 5 and "login_blocked" in actions
        finally:
            await client.close()
    run(scenario())


def test_login_form_without_its_csrf_token_is_refused(harness):
    async def scenario():
        await harness.account("olga")
        client = await harness.client()
        try:
            await client.get("/console/login")
            response = await client.post("/console/login", data={
                "csrf": "forged", "username": "olga", "password": PASSWORD,
                "totp": pyotp.TOTP(harness.secrets["olga"]).now()})
            assert response.status == 403
        finally:
            await client.close()
    run(scenario())


def test_posts_need_the_session_csrf_token_and_a_same_site_origin(harness):
    async def scenario():
        await harness.account("olga")
        case = await harness.handoff("c1")
        client = await harness.client()
        try:
            await login(client, harness, "olga")
            token = await page_csrf(client, f"/console/cases/{case['id']}")
            path = f"/console/cases/{case['id']}/claim"
            assert (await client.post(path, data={}, allow_redirects=False)).status == 403
            assert (await client.post(path, data={"csrf": "x" * 43}, allow_redirects=False)).status == 403
            foreign = await client.post(path, data={"csrf": token}, headers={"Origin": "https://evil.example"},
                                        allow_redirects=False)
            assert foreign.status == 403
            assert (await harness.handoffs.get(case["id"]))["status"] == "open"
            ok = await client.post(path, data={"csrf": token}, allow_redirects=False)
            assert ok.status == 303
            assert (await harness.handoffs.get(case["id"]))["claimed_by"] == "olga"
            assert [e.get("reason") for e in await harness.audit.entries() if e["action"] == "denied"] == ["csrf"] * 3
        finally:
            await client.close()
    run(scenario())


def test_logout_ends_the_session_on_the_server(harness):
    async def scenario():
        await harness.account("olga")
        client = await harness.client()
        try:
            await login(client, harness, "olga")
            token = await page_csrf(client)
            cookie = client.session.cookie_jar.filter_cookies(client.make_url("/console"))[SESSION_COOKIE].value
            assert (await client.post("/console/logout", data={"csrf": token}, allow_redirects=False)).status == 303
            client.session.cookie_jar.update_cookies({SESSION_COOKIE: cookie})  # replaying the old cookie
            assert (await client.get("/console", allow_redirects=False)).status == 303
        finally:
            await client.close()
    run(scenario())


def test_a_one_time_password_must_be_replaced_before_anything_else(harness):
    async def scenario():
        secret = await harness.accounts.create("newop", "one-time-pass-123", "operator", must_change_password=True)
        harness.secrets["newop"] = secret
        client = await harness.client()
        try:
            response = await login(client, harness, "newop", password="one-time-pass-123", follow=False)
            assert response.headers["Location"] == "/console/password"
            assert (await client.get("/console", allow_redirects=False)).headers["Location"] == "/console/password"
            page = await client.get("/console/password")
            token = csrf_of(await page.text())
            weak = await client.post("/console/password", data={"csrf": token, "current": "one-time-pass-123",
                                                                 "new": "short", "again": "short"})
            assert weak.status == 400
            done = await client.post("/console/password", data={
                "csrf": token, "current": "one-time-pass-123", "new": "a much better passphrase",
                "again": "a much better passphrase"}, allow_redirects=False)
            assert done.status == 303
            assert (await client.get("/console")).status == 200
        finally:
            await client.close()
    run(scenario())


def test_the_first_supervisor_is_created_once_from_the_configured_password(tmp_path):
    harness = Harness(settings(tmp_path, SAFELINE_ADMIN_PASSWORD="a long admin passphrase",
                               SAFELINE_ADMIN_TOTP_SECRET=pyotp.random_base32()))

    async def scenario():
        created = await ensure_first_supervisor(harness.accounts, harness.settings)
        assert created["username"] == "admin" and created["password"] is None
        assert created["totp_secret"] == harness.settings.admin_totp_secret
        assert created["totp_uri"].startswith("otpauth://totp/Safeline:admin")
        admin = await harness.accounts.get("admin")
        assert admin["role"] == "supervisor" and not admin["must_change_password"]
        assert await ensure_first_supervisor(harness.accounts, harness.settings) is None
    run(scenario())


def test_without_a_configured_password_a_one_time_password_is_generated(harness):
    async def scenario():
        created = await ensure_first_supervisor(harness.accounts, harness.settings)
        assert len(created["password"]) >= 16
        assert (await harness.accounts.get("admin"))["must_change_password"] is True
    run(scenario())


def test_make_run_generates_the_first_supervisors_credentials_for_the_app_process_only(tmp_path):
    from bot.stack import Stack

    stack = Stack({"SAFELINE_DATA_DIR": str(tmp_path)}, model=tmp_path / "model.tar.gz")
    stack._prepare_first_supervisor()
    _, app_env = stack._command("safeline")
    assert app_env["SAFELINE_ADMIN_PASSWORD_ONE_TIME"] == "true" and len(app_env["SAFELINE_ADMIN_PASSWORD"]) >= 16
    assert pyotp.TOTP(app_env["SAFELINE_ADMIN_TOTP_SECRET"]).now()
    assert "SAFELINE_ADMIN_PASSWORD" not in stack._command("actions")[1]
    assert "SAFELINE_ADMIN_PASSWORD" not in stack.env

    given = Stack({"SAFELINE_DATA_DIR": str(tmp_path), "SAFELINE_ADMIN_PASSWORD": "mine, long enough",
                   "SAFELINE_ADMIN_TOTP_SECRET": "JBSWY3DPEHPK3PXP"}, model=tmp_path / "model.tar.gz")
    given._prepare_first_supervisor()
    assert given._command("safeline")[1] == {}
