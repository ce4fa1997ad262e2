"""SMS end to end through real HTTP on loopback: signed webhook → queue → worker → Rasa → TwiML / REST."""
from __future__ import annotations

import statistics

import httpx
import pytest

from bot.channels.sms_segments import segments
from bot.locales import load_locales
from people import PUBLIC_URL, TWILIO_NUMBER, SmsPerson, sign, twiml_bodies, wait_idle

LOCALES = load_locales()
MAX_PARTS = 2  # SAFELINE_SMS_MAX_PARTS default


def start_of(lang: str, name: str, chars: int = 20) -> str:
    return LOCALES[lang].responses[name]["text"].split("{")[0][:chars]


@pytest.fixture
def person(base_url, fake_twilio, stack) -> SmsPerson:
    return SmsPerson(base_url, fake_twilio, stack)


def assert_fits_sms(parts: list[str]) -> None:
    """A reply is at most MAX_PARTS texts of one segment each."""
    assert 1 <= len(parts) <= MAX_PARTS, parts
    assert all(segments(p) == 1 for p in parts), [(p, segments(p)) for p in parts]


def test_a_spanish_sms_conversation_with_numbered_options(person):
    greeting = person.say("hola")
    assert_fits_sms(greeting)
    joined = "\n".join(greeting)
    assert joined.startswith(start_of("es", "utter_greet"))
    assert "1) " + LOCALES["es"].responses["utter_greet"]["buttons"][0]["title"] in joined
    chosen = person.say("1")  # "I need help"
    assert_fits_sms(chosen)
    assert start_of("es", "utter_help_without_police") in "\n".join(chosen)
    told = person.say("mi jefe me quitó el pasaporte y no me paga, no puedo salir")
    assert_fits_sms(told)
    assert start_of("es", "utter_believe_you") in "\n".join(told)


def test_a_russian_sms_conversation_fits_ucs2_segments(person):
    reply = person.say("Здравствуйте, мне нужна помощь, работодатель забрал мой паспорт и не платит")
    assert_fits_sms(reply)
    assert all(len(part) <= 67 or len(reply) == 1 and len(part) <= 70 for part in reply)
    assert any("\u0400" <= ch <= "\u04ff" for ch in "".join(reply))


def test_zero_brings_the_rest_of_a_long_reply(person):
    reply = person.say("what rights do I have")
    more_hint = LOCALES["en"].responses["utter_sms_more"]["text"]
    assert more_hint in "\n".join(reply)
    rest = person.say("0")
    assert_fits_sms(rest)
    assert not set(rest) & set(reply)


def test_information_is_worded_neutrally_unless_the_person_used_the_word(person):
    person.say("hi")
    info = person.say("3")  # "Information" → what is trafficking
    assert info and all("traffick" not in part.lower() for part in info)
    own_words = person.say("is this human trafficking?")
    assert own_words


def test_the_webhook_acknowledges_within_a_second(person):
    for text in ("hello", "I need help", "thanks"):
        response = person.post(person.form(text))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/xml")
    wait_idle(person.stack)
    assert max(person.latencies) < 1.0, person.latencies
    print(f"sms ack latency: median {statistics.median(person.latencies) * 1000:.0f} ms, "
          f"max {max(person.latencies) * 1000:.0f} ms")


def test_forged_requests_are_rejected_and_nothing_is_sent(person, fake_twilio):
    form = person.form("hello")
    good = sign(PUBLIC_URL + "/twilio/sms", form)
    assert person.post(form, signature="").status_code == 403  # no signature
    assert person.post(form, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403  # wrong signature
    changed = {**form, "Body": "a different text"}
    assert person.post(changed, signature=good).status_code == 403  # replayed signature, changed body
    assert person.post(form, signature=sign("https://elsewhere.test/twilio/sms", form)).status_code == 403
    assert person.post(form, signature=sign(PUBLIC_URL + "/twilio/sms", form, token="other-token")).status_code == 403
    other_account = {**form, "AccountSid": "AC" + "9" * 32}
    assert person.post(other_account).status_code == 403
    wait_idle(person.stack)
    assert fake_twilio.sent(person.number) == [] and person.twiml == []


def test_a_retried_message_sid_is_answered_once(person):
    form = person.form("hello")
    first = person.post(form)
    second = person.post(form)
    assert first.status_code == second.status_code == 200
    assert twiml_bodies(second.text) == []
    wait_idle(person.stack)
    received = twiml_bodies(first.text) + person.fake.sent(person.number)
    greetings = [b for b in received if b.startswith(start_of("en", "utter_greet"))]
    assert len(greetings) == 1


def test_stop_silences_everything_until_start(person):
    assert person.say("hello")
    assert person.say("STOP") == []
    assert person.say("I need help") == []
    assert person.say("START") == []
    assert person.say("hello")


def test_help_keyword_gets_the_program_help(person):
    reply = person.say("HELP")
    assert_fits_sms(reply)
    assert "\n".join(reply).startswith("Safeline:")
    assert "STOP" in "\n".join(reply) or person.say("0")


def test_a_picture_without_text_gets_i_can_only_read_text(person):
    reply = person.say("", NumMedia="1", MediaUrl0="https://api.twilio.example/media/ME1")
    assert reply == [LOCALES["en"].responses["utter_only_text"]["text"]]


def test_delete_on_sms_says_how_to_delete_the_thread(person):
    person.say("my boss took my passport")
    confirm = person.say("please delete all my data")
    assert "1) " in "\n".join(confirm)
    done = person.say("1")
    assert "\n".join(done).startswith(start_of("en", "utter_sms_deleted"))


@pytest.mark.parametrize("body", ["x" * 1600, "مرحبا، أحتاج إلى المساعدة", "🙏😢🆘", "\u200f\u202e test"])
def test_long_rtl_and_emoji_texts_are_answered(person, body):
    reply = person.say(body)
    assert_fits_sms(reply)


@pytest.mark.parametrize("content_type,body", [
    ("application/x-www-form-urlencoded", b"%%%&&&=="),
    ("application/json", b'{"Body": "hi"}'),
    ("multipart/form-data; boundary=zzz", b"--zzz\r\nbroken"),
])
def test_malformed_forms_are_refused_without_a_500(base_url, content_type, body):
    response = httpx.post(f"{base_url}/twilio/sms", content=body,
                          headers={"Content-Type": content_type, "X-Twilio-Signature": "abc"}, timeout=10)
    assert response.status_code in (400, 403)


def test_a_form_with_a_file_is_refused_without_a_500(base_url):
    response = httpx.post(f"{base_url}/twilio/sms", data={"From": "+15550001111"},
                          files={"Body": ("a.txt", b"hello", "text/plain")},
                          headers={"X-Twilio-Signature": "abc"}, timeout=10)
    assert response.status_code == 400


def test_an_oversized_body_is_refused_with_413(base_url):
    response = httpx.post(f"{base_url}/twilio/sms", content=b"Body=" + b"a" * 200_000,
                          headers={"Content-Type": "application/x-www-form-urlencoded",
                                   "X-Twilio-Signature": "abc"}, timeout=10)
    assert response.status_code == 413
