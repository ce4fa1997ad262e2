"""The statistics page (supervisors): anonymous counts as bar charts; live updates over server-sent events."""
from __future__ import annotations

import asyncio
import re

import pytest

from console_harness import Harness, login, settings


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def harness(tmp_path):
    return Harness(settings(tmp_path))


def test_closed_cases_are_counted_by_form_urgency_language_channel_and_outcome_without_personal_data(harness):
    async def scenario():
        await harness.account("sara", "supervisor")
        for n, (outcome, forms) in enumerate([("referred", ["forced_labour"]), ("referred", ["sexual_exploitation"]),
                                              ("advice_given", [])]):
            record = await harness.handoff(f"c{n}", summary={"forms": forms, "urgency": "high"})
            await harness.handoffs.close(record["id"], "sara", outcome)
        client = await harness.client()
        try:
            await login(client, harness, "sara")
            page = await (await client.get("/console/stats")).text()
        finally:
            await client.close()
        assert "Closed cases: 3" in page
        for group in ("outcome", "urgency", "form", "language", "channel", "consent"):
            assert f'id="chart-{group}"' in page
        chart = page.split('id="chart-outcome"')[1].split("</section>")[0]
        assert re.search(r'class="bar-label">referred</text>\s*<rect[^>]*width="200"', chart)
        assert re.search(r'class="bar-label">advice_given</text>\s*<rect[^>]*width="100"', chart)
        assert "style=" not in page and "<script>" not in page  # CSP: no inline styles or scripts
        for private in ("c0", "c1", "pasaporte", "sara"):
            assert private not in page.split("<main")[1].split("</main>")[0]
        assert await harness.store.stats_get() == {
            "cases": 3, "outcome:referred": 2, "outcome:advice_given": 1, "urgency:high": 3, "language:es": 3,
            "channel:webchat": 3, "consent:confidential": 3, "form:forced_labour": 1,
            "form:sexual_exploitation": 1, "form:none": 1}
    run(scenario())


def test_the_event_stream_tells_a_logged_in_page_which_case_changed(harness):
    async def scenario():
        await harness.account("olga")
        record = await harness.handoff("c1")
        client = await harness.client()
        try:
            await login(client, harness, "olga")
            stream = await client.get("/console/events")
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            assert (await stream.content.readline()).startswith(b"retry:")
            await stream.content.readline()
            await harness.handoffs.intercept("webchat", "c1", "hola", __import__("console_harness").spanish())
            lines = []
            while len(lines) < 4:
                line = (await asyncio.wait_for(stream.content.readline(), 5)).decode().strip()
                if line:
                    lines.append(line)
            assert "event: update" in lines
            assert f'data: {{"kind": "case", "case": "{record["id"]}"}}' in lines
            assert all("hola" not in line for line in lines)  # ids only, never content
            stream.close()
        finally:
            await client.close()
    run(scenario())
