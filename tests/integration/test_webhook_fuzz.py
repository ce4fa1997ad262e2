"""Property-based fuzzing of both webhooks on the running stack: any input gets a clear 2xx/4xx, never a 500."""
from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings, strategies as st

from people import PUBLIC_URL, TELEGRAM_SECRET, TWILIO_NUMBER, TWILIO_SID, sign, twiml_bodies, wait_idle

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_update_ids = itertools.count(random.randint(100_000_000, 900_000_000))
_sids = itertools.count(random.randint(1, 1 << 40))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=15,
)
message_like = st.fixed_dictionaries({}, optional={
    "message_id": st.integers(-5, 1 << 40) | json_values,
    "date": st.integers(0, 1 << 33) | json_values,
    "chat": st.fixed_dictionaries({"id": st.integers(-(1 << 52), 1 << 52),
                                   "type": st.sampled_from(["private", "group", "supergroup", "channel", "x"])}) | json_values,
    "from": st.fixed_dictionaries({"id": st.integers(1, 1 << 40), "is_bot": st.booleans(),
                                   "first_name": st.text(max_size=20)}) | json_values,
    "text": st.text(max_size=4500) | json_values,
    "sticker": json_values, "photo": json_values, "location": json_values, "entities": json_values,
})
update_like = st.fixed_dictionaries({}, optional={
    "message": message_like, "edited_message": message_like, "callback_query": json_values,
    "my_chat_member": json_values, "poll": json_values,
})
unicode_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=1700)


def post_update(base_url: str, body: bytes) -> httpx.Response:
    return httpx.post(f"{base_url}/telegram/webhook", content=body, timeout=10,
                      headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"})


@FUZZ
@given(update=update_like)
def test_any_update_shaped_json_is_acknowledged_or_refused_cleanly(base_url, update):
    body = json.dumps({"update_id": next(_update_ids), **update}).encode()
    assert post_update(base_url, body).status_code == 200


@FUZZ
@given(value=json_values | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_any_other_body_gets_a_clear_400(base_url, value):
    body = json.dumps(value).encode() if not isinstance(value, str) else value.encode("latin-1", "replace")
    response = post_update(base_url, body)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"]


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["Body", "From", "To", "MessageSid", "AccountSid", "NumMedia",
                                               "MediaUrl0", "FromCity", "Extra", "SmsSid"]),
                              st.text(max_size=200), max_size=10))
def test_any_signed_form_gets_200_400_or_403_never_a_500(base_url, fields):
    response = httpx.post(f"{base_url}/twilio/sms", data=fields, timeout=10,
                          headers={"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/sms", fields)})
    assert response.status_code in (200, 400, 403), response.text
    if response.status_code == 200:
        twiml_bodies(response.text)


@FUZZ
@given(body=unicode_text, media=st.sampled_from(["0", "1", "x", ""]))
def test_any_signed_sms_text_is_acknowledged_with_valid_twiml(base_url, body, media):
    form = {"MessageSid": f"SM{next(_sids):032x}", "AccountSid": TWILIO_SID, "From": "+15559990000",
            "To": TWILIO_NUMBER, "Body": body, "NumMedia": media}
    response = httpx.post(f"{base_url}/twilio/sms", data=form, timeout=10,
                          headers={"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/sms", form)})
    assert response.status_code == 200, response.text
    twiml_bodies(response.text)


def test_after_fuzzing_the_app_is_healthy_and_logged_no_unhandled_error(base_url, stack):
    wait_idle(stack, timeout=120)
    assert httpx.get(f"{base_url}/healthz", timeout=10).status_code == 200
    assert stack.processes["safeline"].poll() is None
    log = (Path(stack.settings.data_dir) / "logs" / "safeline.log").read_text(errors="replace")
    assert "Traceback" not in log and "unhandled error" not in log and "entry failed" not in log
