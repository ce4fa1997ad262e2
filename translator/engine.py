"""Loads the installed Argos packages once and translates with them, directly or through a pivot.

argostranslate rebuilds its Language/Translation graph on every `get_installed_languages()` call
after a cache clear and keeps the last translated paragraphs in `CachedTranslation`. The service
instead builds one `PackageTranslation` per installed package at start, loads its CTranslate2 model
and sentence splitter eagerly, and resolves every language pair to a fixed route of those objects.
Nothing is built per request and no message text is kept after the request.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Protocol

log = logging.getLogger(__name__)

# Sentences longer than this are cut at whitespace: a model's input window is bounded.
MAX_SENTENCE_CHARS = 400
# Output tokens allowed per input token (TRANSLATOR_MAX_OUTPUT_RATIO) plus a constant: stops a model
# stuck repeating itself from decoding 256 tokens and holding the CPU other conversations wait for.
OUTPUT_TOKENS_EXTRA = 10
_SENTENCE_END = re.compile(r"(?<=[.!?;。！？؟։।])\s+")
_CODE = re.compile(r"^[a-z]{2,3}$")


class Sentencizer(Protocol):
    """What argostranslate's translation path asks of a sentence splitter."""

    def split_sentences(self, text: str) -> list[str]:
        """Split one paragraph into sentences."""


class PunctuationSentencizer:
    """Splits after sentence punctuation; used when a package ships no usable splitter model.

    argostranslate would otherwise download a MiniSBD or Stanza model at run time, which an
    offline helpline cannot do.
    """

    def split_sentences(self, text: str) -> list[str]:
        """Sentences of `text`, none longer than MAX_SENTENCE_CHARS."""
        sentences: list[str] = []
        for sentence in _SENTENCE_END.split(text.strip()):
            while len(sentence) > MAX_SENTENCE_CHARS:
                cut = sentence.rfind(" ", 0, MAX_SENTENCE_CHARS)
                cut = cut if cut > 0 else MAX_SENTENCE_CHARS
                sentences.append(sentence[:cut])
                sentence = sentence[cut:].lstrip()
            if sentence:
                sentences.append(sentence)
        return sentences or [text]


class _FallbackSentencizer:
    """A packaged splitter that falls back to punctuation if it fails on some text."""

    def __init__(self, primary: Sentencizer, name: str):
        self.primary = primary
        self.name = name
        self.fallback = PunctuationSentencizer()

    def split_sentences(self, text: str) -> list[str]:
        """The packaged model's sentences, or punctuation-split ones if it raises."""
        try:
            return self.primary.split_sentences(text)
        except Exception as exc:  # noqa: BLE001 - a splitter failure must not lose the message
            log.warning("sentence splitter %s failed (%s); splitting on punctuation", self.name,
                        type(exc).__name__)
            return self.fallback.split_sentences(text)


def prepare_argos(packages_dir: Path) -> None:
    """Point argostranslate at `packages_dir` and keep it from downloading anything.

    argostranslate.settings reads ARGOS_PACKAGES_DIR once, at import, so this must run before the
    first `import argostranslate...`. ARGOS_CHUNK_TYPE=STANZA makes `PackageTranslation` build a
    lazy splitter with no I/O, which the engine then replaces (the default, MiniSBD, downloads).
    """
    packages_dir.mkdir(parents=True, exist_ok=True)
    os.environ["ARGOS_PACKAGES_DIR"] = str(packages_dir)
    os.environ["ARGOS_CHUNK_TYPE"] = "STANZA"
    os.environ.setdefault("ARGOS_DEVICE_TYPE", "cpu")
    # One compute thread per model: every loaded model has its own thread pool, and several pools
    # spinning on a 2-core machine were 10-20x slower than one thread each (bench/translate.py).
    os.environ.setdefault("ARGOS_INTRA_THREADS", "1")
    if "argostranslate.settings" in sys.modules:  # imported earlier (tests, a REPL): repoint it
        from argostranslate import settings

        settings.package_data_dir = packages_dir
        settings.package_dirs = [packages_dir]


def quiet_argos() -> None:
    """Keep argostranslate's logger at WARNING: its INFO lines carry the message text and tokens."""
    import argostranslate.utils

    argostranslate.utils.logger.setLevel(logging.WARNING)


def _sentencizer_for(pkg) -> Sentencizer:
    """The package's own splitter (Stanza, MiniSBD or spaCy, loaded from the package) or punctuation."""
    from argostranslate import sbd

    path = pkg.packaged_sbd_path
    try:
        if path is not None and path.name == "stanza":
            import stanza

            lang = sbd.StanzaSentencizer.LANGUAGE_CODE_MAPPING.get(pkg.from_code, pkg.from_code)
            splitter = sbd.StanzaSentencizer(pkg)
            # download_method=None: load only what the package ships, never fetch resources.json.
            splitter.stanza_pipeline = stanza.Pipeline(
                lang=lang, dir=str(path), processors="tokenize", use_gpu=False,
                logging_level="WARNING", download_method=None,
            )
            return _FallbackSentencizer(splitter, "stanza")
        if path is not None and path.name == "minisbd" and any(path.glob("*.onnx")):
            splitter = sbd.MiniSBDSentencizer(pkg)  # a packaged .onnx file: loaded from disk
            splitter.lazy_detector()
            return _FallbackSentencizer(splitter, "minisbd")
        if path is not None and path.name == "spacy":
            return _FallbackSentencizer(sbd.SpacySentencizerSmall(pkg), "spacy")
    except Exception as exc:  # noqa: BLE001 - an unusable splitter model must not drop the package
        log.warning("package %s→%s: its sentence splitter did not load (%s: %s); splitting on punctuation",
                    pkg.from_code, pkg.to_code, type(exc).__name__, exc)
    return PunctuationSentencizer()


class BoundedTranslator:
    """A CTranslate2 translator whose output length is bounded by its input's length."""

    def __init__(self, translator, ratio: float = 3.0):
        self.translator = translator
        self.ratio = ratio

    def translate_batch(self, source: list[list[str]], **options):
        """`ctranslate2.Translator.translate_batch` with a max_decoding_length set from the input."""
        longest = max((len(tokens) for tokens in source), default=0)
        options.setdefault("max_decoding_length", min(256, int(self.ratio * longest) + OUTPUT_TOKENS_EXTRA))
        return self.translator.translate_batch(source, **options)


@dataclass
class Step:
    """One installed package, loaded: a translation with its own lock (models are not re-entrant)."""

    source: str
    target: str
    version: str
    translation: object
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, text: str) -> str:
        """Translate with this package only."""
        with self.lock:
            return self.translation.translate(text)


@dataclass(frozen=True)
class Route:
    """How one language pair is translated: one package, or two through the pivot language."""

    steps: tuple[Step, ...]

    @property
    def via(self) -> list[str]:
        """Language codes in order, e.g. ["es", "en", "fr"]."""
        return [self.steps[0].source] + [step.target for step in self.steps]

    def run(self, text: str) -> str:
        """Translate through every step in turn."""
        for step in self.steps:
            text = step.run(text)
        return text


class NoRoute(LookupError):
    """No installed package (nor pivot pair) translates between the two languages."""


@dataclass(frozen=True)
class Result:
    """A translation and how it was made."""

    text: str
    source: str
    target: str
    via: list[str]
    machine_translated: bool


def normalise_code(code: object) -> Optional[str]:
    """A language code as packages name it ("pt-BR" → "pt"), or None if it is not one."""
    if not isinstance(code, str):
        return None
    code = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return code if _CODE.match(code) else None


class Engine:
    """All installed packages, loaded once; translations for every reachable pair."""

    def __init__(self, packages_dir: Path, pivot: str = "en", max_output_ratio: float = 3.0):
        self.packages_dir = packages_dir
        self.pivot = pivot
        self.max_output_ratio = max_output_ratio
        self.steps: dict[tuple[str, str], Step] = {}
        self.routes: dict[tuple[str, str], Route] = {}
        self.model_loads = 0
        self.load_seconds = 0.0

    def load(self) -> None:
        """Load every installed translate package and build the route table; call once at start."""
        started = time.monotonic()
        prepare_argos(self.packages_dir)
        import ctranslate2
        from argostranslate import package, settings
        from argostranslate.translate import Language, PackageTranslation

        quiet_argos()
        newest: dict[tuple[str, str], object] = {}
        for pkg in package.get_installed_packages():
            if pkg.type != "translate" or not pkg.from_code or not pkg.to_code:
                continue
            key = (pkg.from_code, pkg.to_code)
            if key not in newest or _version(pkg.package_version) > _version(newest[key].package_version):
                newest[key] = pkg
        for (source, target), pkg in sorted(newest.items()):
            try:
                translation = PackageTranslation(Language(source, pkg.from_name), Language(target, pkg.to_name), pkg)
                translation.sentencizer = _sentencizer_for(pkg)
                translation.translator = BoundedTranslator(ctranslate2.Translator(
                    str(pkg.package_path / "model"), device=settings.device,
                    inter_threads=settings.inter_threads, intra_threads=settings.intra_threads,
                    compute_type=settings.compute_type,
                ), self.max_output_ratio)
                self.model_loads += 1
            except Exception as exc:  # noqa: BLE001 - one broken package must not stop the others
                log.error("package %s→%s at %s did not load: %s: %s", source, target, pkg.package_path,
                          type(exc).__name__, exc)
                continue
            self.steps[(source, target)] = Step(source, target, pkg.package_version, translation)
        self.routes = self._routes()
        self.load_seconds = time.monotonic() - started
        log.info("loaded %d translation packages (%d pairs with pivots) in %.1f s",
                 len(self.steps), len(self.routes), self.load_seconds)

    def _routes(self) -> dict[tuple[str, str], Route]:
        """Direct routes for every package, plus source→pivot→target where no direct one exists."""
        routes = {key: Route((step,)) for key, step in self.steps.items()}
        for (source, middle), first in self.steps.items():
            if middle != self.pivot:
                continue
            for (start, target), second in self.steps.items():
                if start == self.pivot and target != source and (source, target) not in routes:
                    routes[(source, target)] = Route((first, second))
        return routes

    def route(self, source: str, target: str) -> Route:
        """The fixed route for a pair; NoRoute if there is none."""
        found = self.routes.get((source, target))
        if found is None:
            raise NoRoute(f"no translation package for {source}→{target}")
        return found

    def translate(self, text: str, source: str, target: str) -> Result:
        """Translate `text`; the same language comes back unchanged and not marked as translated."""
        if source == target:
            return Result(text, source, target, [source], machine_translated=False)
        route = self.route(source, target)
        return Result(route.run(text), source, target, route.via, machine_translated=True)

    def pairs(self) -> list[dict]:
        """Every translatable pair with its route, for /languages and the 422 answer."""
        return [{"source": s, "target": t, "via": route.via} for (s, t), route in sorted(self.routes.items())]

    def packages(self) -> list[dict]:
        """The loaded packages."""
        return [{"source": s, "target": t, "version": step.version} for (s, t), step in sorted(self.steps.items())]


def _version(raw: str) -> tuple:
    """A sortable form of a package version like "1.9"; unparsable versions sort first."""
    try:
        from packaging.version import Version

        return (1, Version(raw))
    except Exception:  # noqa: BLE001 - packaging raises InvalidVersion, keep any odd one last
        return (0, raw)
