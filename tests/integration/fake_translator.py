"""A stand-in for the translator service (translator/server.py's HTTP API) with a small phrase book.

Real Argos models are not available offline; the stand-in answers like the service does: 200 with
`{"text", "machine_translated": true, "via"}` for the pairs it has, 422 for any other pair.
"""
from __future__ import annotations

import http.server
import json
import threading
from typing import Any

PAIRS = {("es", "en"), ("en", "es")}
PHRASES = {
    ("es", "en"): {
        "mi jefe me quitó el pasaporte y no me deja salir": "my boss took my passport and does not let me leave",
        "quiero hablar con una persona": "I want to talk to a person",
        "estoy escondida en el baño": "I am hiding in the bathroom",
    },
    ("en", "es"): {
        "We can help you. Are you safe now?": "Podemos ayudarte. ¿Estás a salvo ahora?",
    },
}


def translate(text: str, source: str, target: str) -> str:
    """The phrase book's translation, or the text tagged with the target language."""
    return PHRASES.get((source, target), {}).get(text.strip(), f"[{target}] {text}")


class _Handler(http.server.BaseHTTPRequestHandler):
    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/languages":
            self._send(200, {"pairs": [{"source": s, "target": t, "via": [s, t]} for s, t in sorted(PAIRS)]})
        else:
            self._send(200, {"status": "ok"})

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        source, target, text = body.get("source"), body.get("target"), body.get("text", "")
        if (source, target) not in PAIRS:
            self._send(422, {"error": f"no translation package for {source}→{target}"})
            return
        self._send(200, {"text": translate(text, source, target), "machine_translated": True,
                         "via": [source, target]})

    def log_message(self, *args: Any) -> None:
        pass


class FakeTranslator:
    """The stand-in on a free loopback port."""

    def __init__(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeTranslator":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
