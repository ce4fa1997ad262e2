"""Who sees what: no session, operator, supervisor and the API token; every view and action is audited."""
from __future__ import annotations

import asyncio
import json

import pytest

from console_harness import API_TOKEN, Harness, login, page_csrf, settings


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def harness(tmp_path):
    return Harness(settings(tmp_path))


async def setup(harness):
    await harness.account("olga")
    await harness.account("ivan")
    await harness.account("sara", "supervisor")
    queued = await harness.handoff("c-open")
    theirs = await harness.handoff("c-ivan")
    await harness.handoffs.claim(theirs["id"], "ivan")
    return queued, theirs


PAGES = ["/console", "/console/stats", "/console/audit", "/console/accounts", "/console/password"]


def test_without_a_session_pages_go_to_login_events_and_posts_get_401(harness):
    async def scenario():
        queued, _ = await setup(harness)
        client = await harness.client()
        try:
            for path in PAGES + [f"/console/cases/{queued['id']}", f"/console/cases/{queued['id']}/export"]:
                response = await client.get(path, allow_redirects=False)
                assert response.status == 303, path
                assert response.headers["Location"].startswith("/console/login?next=")
            assert (await client.get("/console/events")).status == 401
            assert (await client.post(f"/console/cases/{queued['id']}/claim", data={})).status == 401
            assert (await harness.handoffs.get(queued["id"]))["status"] == "open"
        finally:
            await client.close()
    run(scenario())


def test_an_operator_sees_queued_cases_and_their_own_but_not_anothers(harness):
    async def scenario():
        queued, theirs = await setup(harness)
        client = await harness.client()
        try:
            await login(client, harness, "olga")
            queue = await (await client.get("/console")).text()
            assert queued["id"] in queue and theirs["id"] not in queue
            assert (await client.get(f"/console/cases/{queued['id']}")).status == 200
            assert (await client.get(f"/console/cases/{theirs['id']}")).status == 403
            assert (await client.get(f"/console/cases/{theirs['id']}/export")).status == 403
            token = await page_csrf(client)
            for action in ("reply", "close", "note", "release", "handback"):
                response = await client.post(f"/console/cases/{theirs['id']}/{action}",
                                             data={"csrf": token, "text": "x", "outcome": "other"})
                assert response.status == 403, action
            # An open case must be claimed before replying to it.
            response = await client.post(f"/console/cases/{queued['id']}/reply", data={"csrf": token, "text": "hi"})
            assert response.status == 403
            for path in ("/console/stats", "/console/audit", "/console/accounts"):
                assert (await client.get(path)).status == 403, path
            assert (await harness.handoffs.get(theirs["id"]))["status"] == "claimed"
        finally:
            await client.close()
    run(scenario())


def test_once_claimed_the_operator_can_reply_note_hand_back_and_close(harness):
    async def scenario():
        queued, _ = await setup(harness)
        client = await harness.client()
        try:
            await login(client, harness, "olga")
            token = await page_csrf(client)
            base = f"/console/cases/{queued['id']}"
            assert (await client.post(base + "/claim", data={"csrf": token})).status == 200
            assert (await client.post(base + "/reply", data={"csrf": token, "text": "We can help you. Are you safe now?"})).status == 200
            assert (await client.post(base + "/note", data={"csrf": token, "text": "calm, wants shelter"})).status == 200
            page = await (await client.get(base)).text()
            assert "Podemos ayudarte. ¿Estás a salvo ahora?" in page and "calm, wants shelter" in page
            assert (await client.post(base + "/handback", data={"csrf": token})).status == 200
            closed = await client.post(base + "/close", data={"csrf": token, "outcome": "referred"}, allow_redirects=False)
            assert closed.status == 303 and closed.headers["Location"] == "/console?notice=closed"
            assert (await client.get(base)).status == 404
        finally:
            await client.close()
    run(scenario())


def test_a_supervisor_sees_every_case_and_the_supervisor_pages(harness):
    async def scenario():
        queued, theirs = await setup(harness)
        client = await harness.client()
        try:
            await login(client, harness, "sara")
            queue = await (await client.get("/console")).text()
            assert queued["id"] in queue and theirs["id"] in queue
            assert (await client.get(f"/console/cases/{theirs['id']}")).status == 200
            for path in ("/console/stats", "/console/audit", "/console/accounts"):
                assert (await client.get(path)).status == 200, path
            token = await page_csrf(client)
            closed = await client.post(f"/console/cases/{theirs['id']}/close",
                                       data={"csrf": token, "outcome": "duplicate_or_test"}, allow_redirects=False)
            assert closed.status == 303
        finally:
            await client.close()
    run(scenario())


def test_a_supervisor_creates_an_operator_who_gets_a_one_time_password_and_totp_key(harness):
    async def scenario():
        await harness.account("sara", "supervisor")
        client = await harness.client()
        try:
            await login(client, harness, "sara")
            token = await page_csrf(client, "/console/accounts")
            page = await (await client.post("/console/accounts", data={"csrf": token, "username": "newop",
                                                                       "role": "operator"})).text()
            assert 'id="created-password"' in page and "otpauth://totp/Safeline:newop" in page
            account = await harness.accounts.get("newop")
            assert account["role"] == "operator" and account["must_change_password"]
            entry = (await harness.audit.entries())[0]
            assert entry["action"] == "account_create" and entry["target"] == "newop"
        finally:
            await client.close()
    run(scenario())


def test_the_api_needs_the_token_and_a_session_is_not_enough(harness):
    async def scenario():
        queued, theirs = await setup(harness)
        client = await harness.client()
        try:
            assert (await client.get("/api/handoffs")).status == 401
            assert (await client.get("/api/handoffs", headers={"Authorization": "Bearer wrong"})).status == 401
            assert (await client.get("/api/handoffs", headers={"Authorization": API_TOKEN})).status == 401
            await login(client, harness, "sara")
            assert (await client.get("/api/handoffs")).status == 401  # a console session is not a token
            auth = {"Authorization": f"Bearer {API_TOKEN}"}
            everything = await (await client.get("/api/handoffs", headers=auth)).json()
            assert {s["id"] for s in everything} == {queued["id"], theirs["id"]}
            open_only = await (await client.get("/api/handoffs?status=open", headers=auth)).json()
            assert [s["id"] for s in open_only] == [queued["id"]] and open_only[0]["status"] == "open"
            claimed = await (await client.get("/api/handoffs?status=claimed", headers=auth)).json()
            assert [s["id"] for s in claimed] == [theirs["id"]]
            assert await (await client.get("/api/handoffs?status=closed", headers=auth)).json() == []
            assert (await client.get("/api/handoffs?status=lost", headers=auth)).status == 400
            one = await (await client.get(f"/api/handoffs/{queued['id']}", headers=auth)).json()
            assert one["language"] == "es" and one["transcript"][0]["text_translated"] == "my boss took my passport"
            entries = [e for e in await harness.audit.entries() if e["actor"] == "api"]
            assert [e["action"] for e in entries] == ["api_read", "api_list", "api_list", "api_list", "api_list"]
        finally:
            await client.close()
    run(scenario())


def test_the_api_is_off_without_a_configured_token(tmp_path):
    harness = Harness(settings(tmp_path, SAFELINE_API_TOKEN=""))

    async def scenario():
        client = await harness.client()
        try:
            response = await client.get("/api/handoffs", headers={"Authorization": "Bearer "})
            assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        finally:
            await client.close()
    run(scenario())


def test_the_audit_log_records_views_replies_exports_and_closes_without_any_text(harness):
    async def scenario():
        queued, _ = await setup(harness)
        client = await harness.client()
        try:
            await login(client, harness, "olga")
            token = await page_csrf(client)
            base = f"/console/cases/{queued['id']}"
            await client.get(base)
            await client.get(base, headers={"X-Console-Refresh": "1"})  # a live refresh is the same view
            await client.post(base + "/claim", data={"csrf": token})
            await client.post(base + "/reply", data={"csrf": token, "text": "We can help you. Are you safe now?"})
            await client.post(base + "/note", data={"csrf": token, "text": "secret note words"})
            export = await client.get(base + "/export")
            assert export.headers["Content-Disposition"].startswith("attachment")
            assert json.loads(await export.text())["id"] == queued["id"]
            await client.post(base + "/close", data={"csrf": token, "outcome": "advice_given"})
            await client.get(f"/console/cases/{queued['id']}")
        finally:
            await client.close()
        entries = list(reversed(await harness.audit.entries()))
        mine = [(e["action"], e.get("case")) for e in entries if e["actor"] == "olga"]
        case = queued["id"]
        assert mine == [("login", None), ("view_queue", None), ("view_queue", None), ("view", case), ("claim", case),
                        ("view", case), ("reply", case), ("view", case), ("note", case), ("view", case),
                        ("export", case), ("close", case), ("view_queue", None)]
        close = next(e for e in entries if e["action"] == "close")
        assert close["outcome"] == "advice_given" and close["role"] == "operator" and close["at"].endswith("+00:00")
        text = json.dumps(entries)
        for words in ("We can help", "Podemos", "secret note words", "pasaporte"):
            assert words not in text
        with pytest.raises(ValueError):
            await harness.audit.record("olga", "operator", "reply", case=case, text="a message")
    run(scenario())
