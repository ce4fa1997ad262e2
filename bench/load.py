"""Load benchmark: simulated conversations through the web chat API, and the same load sent
straight to Rasa's REST channel, so Safeline's own cost shows as a ratio.

Usage: .venv/bin/python bench/load.py [--open-seconds 60] [--closed-seconds 30] [--clients 16]

It starts its own stack on free loopback ports (in-process stores, or Redis when REDIS_URL is
set), then runs:
- open loop: 100 conversations, each sending a message every 5 s on average (Poisson arrivals,
  20 messages/s offered in total); prints p50/p95/p99 latency and errors;
- closed loop to saturation: `--clients` conversations sending back to back; prints messages/s,
  for Safeline and for Rasa alone;
- the resident memory (RSS) of every process of the stack.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.stack import Stack  # noqa: E402

ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sample_messages() -> list[str]:
    """Realistic messages in all languages (the held-out NLU set)."""
    texts = []
    for path in sorted((ROOT / "tests" / "nlu_heldout").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            texts += [ANNOTATION.sub(r"\1", l.strip()[2:]) for l in block["examples"].splitlines() if l.strip()]
    return texts


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of a list, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        pids += [int(p) for p in child.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


class Target:
    """Where one message goes: Safeline's web chat API or Rasa's REST channel."""

    def __init__(self, name: str, url: str, body):
        self.name, self.url, self.body = name, url, body


async def send(session: aiohttp.ClientSession, target: Target, conversation: str, text: str) -> tuple[float, bool]:
    """Send one message; (seconds, ok)."""
    started = time.perf_counter()
    try:
        async with session.post(target.url, json=target.body(conversation, text)) as response:
            await response.read()
            ok = response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        ok = False
    return time.perf_counter() - started, ok


async def open_loop(target: Target, messages: list[str], seconds: float, conversations: int = 100,
                    mean_gap_s: float = 5.0) -> dict:
    """People typing: each conversation sends at Poisson intervals; latency of every message."""
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    rng = random.Random(7)

    async def person(session: aiohttp.ClientSession, conversation: str) -> None:
        nonlocal errors
        await asyncio.sleep(rng.expovariate(1 / mean_gap_s))
        while time.monotonic() < deadline:
            took, ok = await send(session, target, conversation, rng.choice(messages))
            latencies.append(took)
            errors += not ok
            await asyncio.sleep(rng.expovariate(1 / mean_gap_s))

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=200)) as session:
        await asyncio.gather(*(person(session, secrets.token_hex(16)) for _ in range(conversations)))
    return {"messages": len(latencies), "errors": errors, "rate": len(latencies) / seconds,
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99)}


async def closed_loop(target: Target, messages: list[str], seconds: float, clients: int) -> dict:
    """Saturation: `clients` conversations sending back to back; messages per second."""
    done = errors = 0
    deadline = time.monotonic() + seconds
    rng = random.Random(11)

    async def client(session: aiohttp.ClientSession, conversation: str) -> None:
        nonlocal done, errors
        while time.monotonic() < deadline:
            _, ok = await send(session, target, conversation, rng.choice(messages))
            done += ok
            errors += not ok

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        await asyncio.gather(*(client(session, secrets.token_hex(16)) for _ in range(clients)))
    return {"rate": done / seconds, "errors": errors}


async def measure(stack: Stack, args: argparse.Namespace) -> None:
    """Run every phase against a started stack and print the figures."""
    settings = stack.settings
    messages = sample_messages()
    safeline = Target("safeline web chat", f"http://127.0.0.1:{settings.port}/webchat/messages",
                      lambda c, t: {"session": c, "text": t})
    rasa = Target("rasa REST alone", f"http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook",
                  lambda c, t: {"sender": c, "message": t})
    print(f"open loop: 100 conversations, ~20 messages/s offered, {args.open_seconds:.0f} s")
    result = await open_loop(safeline, messages, args.open_seconds)
    print(f"  {safeline.name}: {result['messages']} messages ({result['rate']:.1f}/s), errors {result['errors']}, "
          f"p50 {result['p50'] * 1000:.0f} ms, p95 {result['p95'] * 1000:.0f} ms, p99 {result['p99'] * 1000:.0f} ms")
    print(f"closed loop: {args.clients} clients back to back, {args.closed_seconds:.0f} s each")
    rates = {}
    for target in (rasa, safeline):
        result = await closed_loop(target, messages, args.closed_seconds, args.clients)
        rates[target.name] = result["rate"]
        print(f"  {target.name}: {result['rate']:.1f} messages/s, errors {result['errors']}")
    print(f"  Safeline / Rasa alone: {rates[safeline.name] / rates[rasa.name]:.2f}")
    print("resident memory:")
    total = 0.0
    for name, process in stack.processes.items():
        mb = rss_mb(process.pid)
        total += mb
        print(f"  {name}: {mb:.0f} MB")
    print(f"  total: {total:.0f} MB")


def main() -> int:
    """Start a stack on free ports, measure, stop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open-seconds", type=float, default=60)
    parser.add_argument("--closed-seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "SAFELINE_DATA_DIR": data_dir, "SAFELINE_PORT": str(free_port()),
               "SAFELINE_INTERNAL_PORT": str(free_port()), "RASA_PORT": str(free_port()),
               "ACTIONS_PORT": str(free_port()), "RASA_TELEMETRY_ENABLED": "false"}
        stack = Stack(env)
        stack.start()
        try:
            print(f"machine: {os.cpu_count()} cores; stores: {'redis' if env.get('REDIS_URL') else 'in-process'}")
            asyncio.run(measure(stack, args))
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
