"""A supervisor manages accounts: disable (sessions end at once), enable, and reset a lost phone or
password (new one-time password and authenticator key; old ones and old sessions stop working)."""
from __future__ import annotations

import asyncio
import re
import time

import pyotp
import pytest

from console_harness import Harness, login, page_csrf, settings


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def harness(tmp_path):
    return Harness(settings(tmp_path))


async def act(client, username: str, action: str):
    token = await page_csrf(client, "/console/accounts")
    return await client.post(f"/console/accounts/{username}/{action}", data={"csrf": token}, allow_redirects=False)


def test_a_disabled_operator_is_logged_out_at_once_and_cannot_log_in_until_enabled(harness):
    async def scenario():
        await harness.account("sara", "supervisor")
        await harness.account("olga")
        boss, olga = await harness.client(), await harness.client()
        try:
            await login(boss, harness, "sara")
            await login(olga, harness, "olga")
            assert (await olga.get("/console", allow_redirects=False)).status == 200
            assert (await act(boss, "olga", "disable")).status == 303
            assert (await olga.get("/console", allow_redirects=False)).status == 303  # back to the login page
            unused_code = pyotp.TOTP(harness.secrets["olga"]).at(time.time() + 30)  # valid, not used yet
            refused = await login(olga, harness, "olga", code=unused_code)
            assert "Log out" not in await refused.text()
            page = await (await boss.get("/console/accounts")).text()
            assert re.search(r'id="account-olga">.*?disabled', page, re.S)
            assert (await act(boss, "olga", "enable")).status == 303
            assert not (await harness.accounts.get("olga"))["disabled"]
            again = await login(olga, harness, "olga", code=pyotp.TOTP(harness.secrets["olga"]).at(time.time() - 30))
            assert "Log out" in await again.text()  # the same password and key work again once enabled
            actions = [e["action"] for e in await harness.audit.entries() if e.get("target") == "olga"]
            assert "account_disable" in actions and "account_enable" in actions
        finally:
            await boss.close()
            await olga.close()
    run(scenario())


def test_a_reset_gives_new_one_time_details_and_the_old_password_key_and_session_stop_working(harness):
    async def scenario():
        await harness.account("sara", "supervisor")
        old_secret = await harness.account("olga")
        boss, olga = await harness.client(), await harness.client()
        try:
            await login(boss, harness, "sara")
            await login(olga, harness, "olga")
            page = await (await act(boss, "olga", "reset")).text()
            assert "New sign-in details for olga" in page
            password = re.search(r'id="created-password">([^<]+)<', page).group(1)
            secret = re.search(r'id="created-totp">([^<]+)<', page).group(1)
            assert secret != old_secret
            assert (await olga.get("/console", allow_redirects=False)).status == 303  # the old session ended
            account = await harness.accounts.get("olga")
            assert account["must_change_password"]
            assert harness.accounts.check_password(account, password)
            assert not harness.accounts.check_password(account, "olga's old password, long enough")
            harness.secrets["olga"] = secret
            fresh = await harness.client()
            try:
                await login(fresh, harness, "olga", password=password)
                assert (await fresh.get("/console", allow_redirects=False)).headers.get("Location", "").startswith(
                    "/console/password")  # the one-time password is replaced first
            finally:
                await fresh.close()
            assert [e for e in await harness.audit.entries() if e["action"] == "account_reset"]
        finally:
            await boss.close()
            await olga.close()
    run(scenario())


def test_nobody_locks_the_console_out_of_its_last_supervisor_or_manages_their_own_account(harness):
    async def scenario():
        await harness.account("sara", "supervisor")
        await harness.account("ivan", "supervisor")
        client = await harness.client()
        try:
            await login(client, harness, "sara")
            assert (await act(client, "sara", "disable")).status == 400
            assert (await act(client, "sara", "reset")).status == 400
            assert (await act(client, "ivan", "disable")).status == 303
            await harness.accounts.set_disabled("ivan", False, by="sara")
            await harness.accounts.set_disabled("sara", True, by="ivan")
            with pytest.raises(Exception, match="last enabled supervisor"):
                await harness.accounts.set_disabled("ivan", True, by="nobody")
            assert (await act(client, "ivan", "delete")).status in (303, 401, 404)  # sara is disabled now
        finally:
            await client.close()
    run(scenario())


def test_an_operator_cannot_manage_accounts(harness):
    async def scenario():
        await harness.account("sara", "supervisor")
        await harness.account("olga")
        client = await harness.client()
        try:
            await login(client, harness, "olga")
            token = await page_csrf(client)
            response = await client.post("/console/accounts/sara/disable", data={"csrf": token}, allow_redirects=False)
            assert response.status == 403
            assert not (await harness.accounts.get("sara"))["disabled"]
        finally:
            await client.close()
    run(scenario())
