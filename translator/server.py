"""The translator's HTTP API on loopback: POST /translate, GET /languages, GET /health.

Standard library only (`http.server`), one thread per request; each loaded package has its own
lock, so different pairs translate in parallel and one pair's requests queue. Message text is never
logged.
"""
from __future__ import annotations

import itertools
import json
import logging
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from translator.engine import Engine, NoRoute, normalise_code

log = logging.getLogger(__name__)

# The JSON body may carry the text plus escapes (\uXXXX is 6 bytes per character) and two codes.
_BODY_OVERHEAD = 1024


class TranslatorServer(ThreadingHTTPServer):
    """An HTTP server that holds the loaded engine and the request limits."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], engine: Engine, max_chars: int):
        self.engine = engine
        self.max_chars = max_chars
        self.started = time.time()
        self._served = itertools.count(1)  # next() is atomic under the GIL; `+= 1` from threads is not
        self.requests = 0
        super().__init__(address, Handler)

    def count_request(self) -> None:
        """Count one translation request (for /health)."""
        self.requests = next(self._served)


class Handler(BaseHTTPRequestHandler):
    """Routes the three endpoints; every answer is JSON."""

    server: TranslatorServer
    protocol_version = "HTTP/1.1"

    def _send(self, status: int, body: dict[str, Any]) -> None:
        """Write a JSON answer."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        """GET /health and /languages."""
        engine = self.server.engine
        if self.path == "/health":
            self._send(HTTPStatus.OK, {
                "status": "ok", "packages": len(engine.steps), "pairs": len(engine.routes),
                "model_loads": engine.model_loads, "load_seconds": round(engine.load_seconds, 3),
                "requests": self.server.requests, "uptime_s": round(time.time() - self.server.started, 1),
            })
        elif self.path == "/languages":
            self._send(HTTPStatus.OK, {"pairs": engine.pairs(), "packages": engine.packages(),
                                       "pivot": engine.pivot})
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        """POST /translate {"text", "source", "target"}."""
        if self.path != "/translate":
            self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(HTTPStatus.BAD_REQUEST, {"error": "bad Content-Length"})
            return
        if length > self.server.max_chars * 6 + _BODY_OVERHEAD:
            self.close_connection = True  # the unread body must not be taken for the next request
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                       {"error": f"text longer than {self.server.max_chars} characters"})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except (ValueError, UnicodeDecodeError):
            self._send(HTTPStatus.BAD_REQUEST, {"error": "body must be JSON"})
            return
        self._translate(body)

    def _translate(self, body: Any) -> None:
        """Validate one request and answer with the translation or why there is none."""
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            self._send(HTTPStatus.BAD_REQUEST, {"error": 'expected {"text", "source", "target"}'})
            return
        source, target = normalise_code(body.get("source")), normalise_code(body.get("target"))
        if source is None or target is None:
            self._send(HTTPStatus.BAD_REQUEST, {"error": "source and target must be language codes like 'es'"})
            return
        text = body["text"]
        if len(text) > self.server.max_chars:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                       {"error": f"text longer than {self.server.max_chars} characters"})
            return
        self.server.count_request()
        engine = self.server.engine
        started = time.perf_counter()
        try:
            result = engine.translate(text, source, target) if text.strip() else None
        except NoRoute as exc:
            self._send(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(exc), "available": engine.pairs()})
            return
        except Exception as exc:  # noqa: BLE001 - answer 500 without echoing the text
            log.error("translation %s→%s failed: %s", source, target, type(exc).__name__)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"translation failed: {type(exc).__name__}"})
            return
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        if result is None:  # nothing to translate: answer at once, marked as not translated
            self._send(HTTPStatus.OK, {"text": text, "source": source, "target": target,
                                       "machine_translated": False, "via": [source], "elapsed_ms": elapsed_ms})
            return
        log.debug("translated %d chars %s in %.1f ms", len(text), "→".join(result.via), elapsed_ms)
        self._send(HTTPStatus.OK, {
            "text": result.text, "source": result.source, "target": result.target,
            "machine_translated": result.machine_translated, "via": result.via, "elapsed_ms": elapsed_ms,
        })

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        """Access log at DEBUG only: paths and statuses, never bodies."""
        log.debug("%s " + format, self.address_string(), *args)
