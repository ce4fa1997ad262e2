"""bot/translation.py: the Safeline app's client; it never raises and always keeps the original."""
from __future__ import annotations

import asyncio
import socket
import threading
import time

from bot.translation import NO_PACKAGE, SAME_LANGUAGE, UNAVAILABLE, TranslationClient
from translator_harness import Service, free_port


def run_translate(url: str, text: str, source: str, target: str, timeout_s: float = 5.0):
    """One client call in a fresh event loop, closing the client after it."""
    async def go():
        client = TranslationClient(url, timeout_s)
        try:
            return await client.translate(text, source, target)
        finally:
            await client.close()
    return asyncio.run(go())


def test_client_returns_the_translation_beside_the_original(translator: Service) -> None:
    result = run_translate(translator.url, "ayuda por favor", "es", "fr")
    assert result.machine_translated is True
    assert result.original == "ayuda por favor"
    assert result.translated == result.text
    assert result.via == ("es", "en", "fr")
    fields = result.transcript_fields()
    assert fields["text"] == "ayuda por favor" and fields["machine_translated"] is True
    assert fields["text_translated"] == result.text


def test_client_marks_a_pair_without_package_untranslated_and_says_why(translator: Service) -> None:
    result = run_translate(translator.url, "aide", "fr", "es")
    assert (result.text, result.machine_translated, result.reason) == ("aide", False, NO_PACKAGE)
    assert result.detail == "no translation package for fr→es"
    assert result.transcript_fields() == {"text": "aide", "machine_translated": False,
                                          "untranslated_reason": NO_PACKAGE}


def test_client_falls_back_to_the_original_when_the_service_is_down() -> None:
    started = time.monotonic()
    result = run_translate(f"http://127.0.0.1:{free_port()}", "necesito ayuda", "es", "en")
    assert (result.text, result.machine_translated, result.reason) == ("necesito ayuda", False, UNAVAILABLE)
    assert result.translated is None
    assert time.monotonic() - started < 2.0


def test_client_gives_up_on_a_service_that_never_answers() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    try:
        started = time.monotonic()
        result = run_translate(f"http://127.0.0.1:{listener.getsockname()[1]}", "ayuda", "es", "en", timeout_s=1.0)
        assert (result.text, result.reason) == ("ayuda", UNAVAILABLE)
        assert time.monotonic() - started < 3.0
    finally:
        for conn in accepted:
            conn.close()
        listener.close()


def test_client_does_not_call_the_service_for_the_same_language() -> None:
    result = run_translate(f"http://127.0.0.1:{free_port()}", "hello", "en", "en")
    assert (result.text, result.machine_translated, result.reason) == ("hello", False, SAME_LANGUAGE)
