"""Fixtures for the translator: real Argos packages built offline, installed from files, and the
service running in its own virtualenv (.venv-translate) as a subprocess on a free loopback port.

The packages (translator/devpackage.py) hold a SentencePiece model and a 1-layer CTranslate2
Transformer with random weights: translations are nonsense, the loading and translation path is
argostranslate's real one.
"""
from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from translator_harness import ROOT, TRANSLATE_PYTHON, Service, install, start_service, stop_service


@pytest.fixture(scope="session")
def translate_python() -> Path:
    """The translator venv's interpreter; `make test` builds it (make .venv-translate)."""
    if not TRANSLATE_PYTHON.exists():
        message = f"{TRANSLATE_PYTHON} missing: run `make .venv-translate`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return TRANSLATE_PYTHON


@pytest.fixture(scope="session")
def argos_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment that keeps argostranslate's data, config and cache dirs out of $HOME."""
    home = tmp_path_factory.mktemp("argos-home")
    return {"XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache")}


@pytest.fixture(scope="session")
def argos_files(translate_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """.argosmodel files built offline: es→en and en→fr (so es→fr needs the English pivot), and pt→en
    shipping a Stanza splitter folder without the model, which the service must not try to download."""
    out = tmp_path_factory.mktemp("argos-files")
    subprocess.run([str(translate_python), "-m", "translator.devpackage", str(out), "es", "en", "en", "fr", "pt", "en"],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    files = {path.stem: path for path in out.glob("*.argosmodel")}
    assert set(files) == {"es_en", "en_fr", "pt_en"}
    with zipfile.ZipFile(files["pt_en"], "a") as archive:
        top = archive.namelist()[0].split("/")[0]
        archive.writestr(f"{top}/stanza/pt/tokenize/README.txt", "model files left out on purpose\n")
    return files


@pytest.fixture(scope="session")
def packages_dir(translate_python: Path, argos_files: dict[str, Path], argos_home: dict[str, str],
                 tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A packages dir with both test packages installed through the install CLI."""
    target = tmp_path_factory.mktemp("argos-packages")
    done = install(translate_python, target, list(argos_files.values()), argos_home)
    assert done.returncode == 0, done.stderr
    assert "installed pairs: en→fr, es→en, pt→en" in done.stdout
    return target


@pytest.fixture(scope="session")
def translator(translate_python: Path, packages_dir: Path, argos_home: dict[str, str],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The translator service with es→en, en→fr and pt→en installed; at most 500 characters a request."""
    service = start_service(translate_python, packages_dir, argos_home,
                            tmp_path_factory.mktemp("translator-log") / "translator.log")
    yield service
    stop_service(service)
