"""The translator service over real HTTP, with real (tiny) Argos packages installed from files."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from translator_harness import Service, http_json, install, start_service, stop_service


def translate(service: Service, text: str, source: str, target: str) -> tuple[int, dict]:
    """POST /translate."""
    return http_json(service.url + "/translate", {"text": text, "source": source, "target": target})


def test_installed_pair_is_translated_and_marked_machine_translated(translator: Service) -> None:
    status, answer = translate(translator, "Ayuda por favor. Me quitaron el pasaporte.", "es", "en")
    assert status == 200, answer
    assert isinstance(answer["text"], str)
    assert answer["machine_translated"] is True
    assert (answer["source"], answer["target"], answer["via"]) == ("es", "en", ["es", "en"])


def test_pair_without_direct_package_pivots_through_english(translator: Service) -> None:
    status, answer = translate(translator, "trabajo noche jefe dinero", "es", "fr")
    assert status == 200, answer
    assert answer["via"] == ["es", "en", "fr"]
    assert answer["machine_translated"] is True


def test_pair_without_any_route_answers_422_naming_the_pair_and_what_is_available(translator: Service) -> None:
    status, answer = translate(translator, "aide", "fr", "es")
    assert status == 422
    assert answer["error"] == "no translation package for fr→es"
    assert {"source": "es", "target": "fr", "via": ["es", "en", "fr"]} in answer["available"]


def test_languages_lists_installed_and_pivot_pairs(translator: Service) -> None:
    status, answer = http_json(translator.url + "/languages")
    assert status == 200
    assert [(p["source"], p["target"]) for p in answer["pairs"]] == [
        ("en", "fr"), ("es", "en"), ("es", "fr"), ("pt", "en"), ("pt", "fr")]
    assert {(p["source"], p["target"]) for p in answer["packages"]} == {("es", "en"), ("en", "fr"), ("pt", "en")}


def test_packages_are_loaded_once_at_start_not_per_request(translator: Service) -> None:
    _, before = http_json(translator.url + "/health")
    assert before["model_loads"] == before["packages"] == 3
    timings, outputs = [], set()
    for _ in range(5):
        started = time.perf_counter()
        status, answer = translate(translator, "ayuda casa familia", "es", "fr")
        timings.append(time.perf_counter() - started)
        assert status == 200
        outputs.add(answer["text"])
    _, after = http_json(translator.url + "/health")
    assert after["model_loads"] == 3, "a request loaded a model again"
    assert after["requests"] >= before["requests"] + 5
    assert len(outputs) == 1, "the same text must translate the same way (no state kept between requests)"
    # Loading would cost far more than translating with these tiny models; repeat calls stay quick.
    assert max(timings[1:]) < 2.0, timings


def test_package_whose_splitter_model_is_missing_still_translates_without_downloading(translator: Service) -> None:
    status, answer = translate(translator, "Preciso de ajuda. Tiraram o meu passaporte.", "pt", "en")
    assert status == 200 and answer["via"] == ["pt", "en"]
    log = translator.log.read_text()
    assert "package pt→en: its sentence splitter did not load" in log
    assert "splitting on punctuation" in log


def test_message_text_is_never_logged(translator: Service) -> None:
    secret = "Mi nombre es Zoraida y estoy en la calle Olmo"
    assert translate(translator, secret, "es", "fr")[0] == 200
    assert translate(translator, secret, "pt", "en")[0] == 200
    log = translator.log.read_text()
    assert "Zoraida" not in log and "Olmo" not in log


def test_same_language_comes_back_unchanged_and_not_marked(translator: Service) -> None:
    status, answer = translate(translator, "Hello", "EN", "en-GB")
    assert status == 200
    assert answer == {**answer, "text": "Hello", "machine_translated": False, "via": ["en"]}


def test_text_over_the_limit_is_refused_with_413(translator: Service) -> None:
    status, answer = translate(translator, "ayuda " * 100, "es", "en")
    assert status == 413
    assert "500" in answer["error"]


@pytest.mark.parametrize("body", [{"text": "x"}, {"text": 5, "source": "es", "target": "en"},
                                  {"text": "x", "source": "español!", "target": "en"}])
def test_malformed_requests_answer_400(translator: Service, body: dict) -> None:
    status, answer = http_json(translator.url + "/translate", body)
    assert status == 400 and "error" in answer


def test_install_refuses_a_file_that_is_not_an_argos_package(translate_python: Path, tmp_path: Path,
                                                          argos_home: dict[str, str]) -> None:
    bogus = tmp_path / "bogus.argosmodel"
    bogus.write_text("not a zip")
    done = install(translate_python, tmp_path / "packages", [bogus], argos_home)
    assert done.returncode == 1
    assert "not an .argosmodel file" in done.stderr


def test_service_with_no_packages_starts_and_says_so_for_every_pair(translate_python: Path, tmp_path: Path,
                                                                   argos_home: dict[str, str]) -> None:
    service = start_service(translate_python, tmp_path / "empty", argos_home, tmp_path / "translator.log")
    try:
        assert http_json(service.url + "/health")[1]["packages"] == 0
        status, answer = translate(service, "hola", "es", "en")
        assert status == 422
        assert answer == {"error": "no translation package for es→en", "available": []}
    finally:
        stop_service(service)
    assert "no translation packages in" in service.log.read_text()
