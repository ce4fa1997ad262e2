"""`python -m bot.worker_service`: the channel worker as its own process.

For deployments that run the app with SAFELINE_EMBEDDED_WORKER=false (docker-compose.yml): the
webhooks only queue, and this process answers. It also serves the internal site (NLG, and
`/worker/status` for health checks) on its own SAFELINE_INTERNAL_PORT. Several may run (on one
machine or more): they share Redis's queues, and each conversation's messages still run one at a
time and in order (bot/worker.py).
"""
from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from bot.app import build_services, internal_app
from bot.config import ConfigError, Settings
from bot.stores import StoreUnavailable, check_store

log = logging.getLogger(__name__)


async def run(settings: Settings) -> None:
    """Work the queues until SIGINT/SIGTERM, then stop claiming and leave unfinished entries queued."""
    services = build_services(settings)
    await check_store(services.gateway.store, settings)
    runner = web.AppRunner(internal_app(services), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.internal_host, settings.internal_port).start()
    await services.worker.start()
    log.info("worker process running (internal site %s:%s)", settings.internal_host, settings.internal_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await services.worker.stop()
    await runner.cleanup()
    await services.gateway.rasa.close()
    await services.gateway.store.close()


def main() -> int:
    """Start the worker, or explain a configuration error in one line."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"safeline worker: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run(settings))
    except StoreUnavailable as exc:
        print(f"safeline worker: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
