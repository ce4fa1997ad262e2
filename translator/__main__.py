"""`python -m translator`: load the installed Argos packages, then serve on TRANSLATOR_PORT (loopback)."""
from __future__ import annotations

import logging
import signal
import sys

from translator.config import TranslatorSettings
from translator.engine import Engine
from translator.server import TranslatorServer


def main() -> int:
    """Load once, serve until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s translator %(levelname)s %(message)s")
    settings = TranslatorSettings.from_env()
    engine = Engine(settings.packages_dir, pivot=settings.pivot, max_output_ratio=settings.max_output_ratio)
    engine.load()
    if not engine.steps:
        logging.warning("no translation packages in %s: every request will answer 422 "
                        "(install some with `python -m translator.install FILE.argosmodel`)",
                        settings.packages_dir)
    server = TranslatorServer((settings.host, settings.port), engine, settings.max_chars)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logging.info("listening on http://%s:%d", settings.host, server.server_address[1])
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
