"""Load benchmark: simulated conversations through the web chat API and the SMS webhook (signed
Twilio requests), and the same load sent straight to Rasa's REST channel, so Safeline's own cost
shows as a ratio.

Usage: .venv/bin/python bench/load.py [--open-seconds 60] [--closed-seconds 30] [--clients 16]
                                      [--sms-share 0.3] [--redis] [--replicas N] [--separate-worker]

It starts its own stack on free loopback ports (in-process stores; with --redis a private
redis-server with AOF as in production, or the one in REDIS_URL), then runs:
Messages come from the held-out NLU set, one language per person, without the intents that hand
the conversation to a person or erase it (Rasa is not asked after those, see NOT_SENT).
- open loop: 100 conversations (a share of them SMS, the rest web chat), each sending a message
  every 5 s on average (Poisson arrivals, 20 messages/s offered in total); prints p50/p95/p99 and
  errors per channel. An SMS is timed until its reply: in the TwiML answer (the bench lets the
  webhook wait up to 5 s for it, SAFELINE_SMS_TWIML_WAIT_MS), or else until the first part reaches
  a Twilio REST stand-in on loopback (always so with --separate-worker); no reply within 10 s
  counts as an error;
- closed loop to saturation: `--clients` conversations sending back to back; prints messages/s,
  for Safeline's web chat and for Rasa alone (spread over the replicas as Safeline routes them);
- the resident memory (RSS) of every process (and of redis-server when the bench started it).
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

import shutil
import subprocess
import xml.etree.ElementTree as ET

import aiohttp
import yaml
from aiohttp import web
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.rasa_client import replica_for  # noqa: E402
from bot.stack import Stack  # noqa: E402

TWILIO_SID = "AC" + "0" * 30 + "01"
TWILIO_TOKEN = "bench-twilio-auth-token-0123456789"
HELPLINE_NUMBER = "+15005550006"
PUBLIC_URL = "https://helpline.example.test"

ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_run(length: int) -> int:
    """The first of `length` consecutive free loopback ports."""
    for _ in range(50):
        first = free_port()
        try:
            sockets = []
            for port in range(first, first + length):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no run of free ports")


# Intents after which Rasa is no longer asked (the conversation goes to a person, in relay mode, or
# is erased): left out so that both sides of the Safeline / Rasa-alone ratio do the same work.
NOT_SENT = {"talk_to_human", "affirm", "deny", "delete_my_data"}


def sample_messages() -> list[list[str]]:
    """Realistic messages, one list per language (the held-out NLU set): a person keeps to one."""
    languages = []
    for path in sorted((ROOT / "tests" / "nlu_heldout").glob("*.yml")):
        texts = []
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if block.get("intent") in NOT_SENT:
                continue
            texts += [ANNOTATION.sub(r"\1", l.strip()[2:]) for l in block["examples"].splitlines() if l.strip()]
        languages.append(texts)
    return languages


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
    """Where one message goes: Safeline's web chat API, its SMS webhook, or Rasa's REST channel.

    `url` may be a function of the conversation (Rasa replicas)."""

    def __init__(self, name: str, url, body, form: bool = False):
        self.name, self.url, self.body, self.form = name, url, body, form

    def url_for(self, conversation: str) -> str:
        return self.url(conversation) if callable(self.url) else self.url


def signed_sms(number: str, text: str) -> tuple[dict[str, str], dict[str, str]]:
    """The form Twilio posts for an inbound SMS, and its X-Twilio-Signature header."""
    form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": TWILIO_SID, "From": number,
            "To": HELPLINE_NUMBER, "Body": text, "NumMedia": "0"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + "/twilio/sms", form)
    return form, {"X-Twilio-Signature": signature}


async def send(session: aiohttp.ClientSession, target: Target, conversation: str, text: str) -> tuple[float, bool]:
    """Send one message and wait for its reply; (seconds, ok)."""
    started = time.perf_counter()
    try:
        if target.form:
            form, headers = target.body(conversation, text)
            async with session.post(target.url_for(conversation), data=form, headers=headers) as response:
                body = await response.text()
                ok = response.status == 200
            # The reply is in the TwiML answer, or else (not ready in time, or a separate worker)
            # it comes through Twilio's REST API: timed until its first part reaches the stand-in.
            if ok and ET.fromstring(body).find("Message") is None:
                ok = await REST.first_after(conversation, started, timeout_s=10.0)
        else:
            async with session.post(target.url_for(conversation), json=target.body(conversation, text)) as response:
                await response.read()
                ok = response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError, ET.ParseError):
        ok = False
    return time.perf_counter() - started, ok


def summary(latencies: list[float], errors: int, seconds: float) -> dict:
    """Count, rate, errors and percentiles of one set of latencies."""
    if not latencies:
        return {"messages": 0, "errors": errors, "rate": 0.0, "p50": 0.0, "p95": 0.0, "p99": 0.0}
    return {"messages": len(latencies), "errors": errors, "rate": len(latencies) / seconds,
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99)}


async def open_loop(targets: list[tuple[Target, int]], messages: list[list[str]], seconds: float,
                    mean_gap_s: float = 5.0) -> dict[str, dict]:
    """People typing: each conversation sends at Poisson intervals whether or not it was answered
    (a message does not wait for the previous reply); latency of every message, per target."""
    latencies: dict[str, list[float]] = {target.name: [] for target, _ in targets}
    errors = {target.name: 0 for target, _ in targets}
    deadline = time.monotonic() + seconds
    rng = random.Random(7)

    async def one(session: aiohttp.ClientSession, target: Target, conversation: str, text: str) -> None:
        took, ok = await send(session, target, conversation, text)
        latencies[target.name].append(took)
        errors[target.name] += not ok

    async def person(session: aiohttp.ClientSession, target: Target, conversation: str) -> None:
        pending = []
        texts = rng.choice(messages)
        await asyncio.sleep(rng.expovariate(1 / mean_gap_s))
        while time.monotonic() < deadline:
            pending.append(asyncio.create_task(one(session, target, conversation, rng.choice(texts))))
            await asyncio.sleep(rng.expovariate(1 / mean_gap_s))
        await asyncio.gather(*pending)

    timeout = aiohttp.ClientTimeout(total=30)
    people = [(target, conversation_id(target)) for target, count in targets for _ in range(count)]
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=400)) as session:
        await asyncio.gather(*(person(session, target, conversation) for target, conversation in people))
    results = {name: summary(values, errors[name], seconds) for name, values in latencies.items()}
    results["all"] = summary([v for values in latencies.values() for v in values], sum(errors.values()), seconds)
    return results


def conversation_id(target: Target) -> str:
    """A new person for a target: a phone number for SMS, an opaque session id otherwise."""
    return f"+1555{random.randint(1_000_000, 9_999_999)}" if target.form else secrets.token_hex(16)


async def closed_loop(target: Target, messages: list[list[str]], seconds: float, clients: int) -> dict:
    """Saturation: `clients` conversations sending back to back; messages per second."""
    done = errors = 0
    deadline = time.monotonic() + seconds
    rng = random.Random(11)

    async def client(session: aiohttp.ClientSession, conversation: str) -> None:
        nonlocal done, errors
        texts = rng.choice(messages)
        while time.monotonic() < deadline:
            _, ok = await send(session, target, conversation, rng.choice(texts))
            done += ok
            errors += not ok

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        await asyncio.gather(*(client(session, conversation_id(target)) for _ in range(clients)))
    return {"rate": done / seconds, "errors": errors}


class RestReplies:
    """What the Twilio stand-in received, per number: the arrival times of replies not yet matched."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.changed = asyncio.Condition()

    async def received(self, number: str) -> None:
        async with self.changed:
            self.arrivals.setdefault(number, []).append(time.perf_counter())
            self.changed.notify_all()

    async def first_after(self, number: str, since: float, timeout_s: float) -> bool:
        """Wait for a reply to `number` that arrived after `since`; it and earlier ones are used up."""
        def take() -> bool:
            times = self.arrivals.get(number, [])
            later = [t for t in times if t >= since]
            if not later:
                return False
            self.arrivals[number] = [t for t in times if t > later[0]]
            return True

        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(take), timeout_s)
                return True
            except asyncio.TimeoutError:
                return False


REST = RestReplies()


async def twilio_stand_in() -> tuple[web.AppRunner, str]:
    """Twilio's Messages endpoint on loopback: replies that miss the TwiML answer land here."""
    async def messages(request: web.Request) -> web.Response:
        await REST.received((await request.post()).get("To", ""))
        return web.json_response({"sid": "SM" + secrets.token_hex(16), "status": "queued"}, status=201)

    app = web.Application()
    app.router.add_post(f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"


def print_open(results: dict[str, dict]) -> None:
    """One line per channel and one for all."""
    for name, r in results.items():
        print(f"  {name}: {r['messages']} messages ({r['rate']:.1f}/s), errors {r['errors']}, "
              f"p50 {r['p50'] * 1000:.0f} ms, p95 {r['p95'] * 1000:.0f} ms, p99 {r['p99'] * 1000:.0f} ms")


async def measure(stack: Stack, args: argparse.Namespace, extra_pids: dict[str, int]) -> None:
    """Run every phase against a started stack and print the figures."""
    settings = stack.settings
    messages = sample_messages()
    safeline = Target("safeline web chat", f"http://127.0.0.1:{settings.port}/webchat/messages",
                      lambda c, t: {"session": c, "text": t})
    sms = Target("safeline SMS webhook", f"http://127.0.0.1:{settings.port}/twilio/sms", signed_sms, form=True)
    replicas = [f"http://127.0.0.1:{stack.rasa_port(name)}" for name in stack.rasa_names()]
    rasa = Target("rasa REST alone", lambda c: replica_for(c, replicas) + "/webhooks/rest/webhook",
                  lambda c, t: {"sender": c, "message": t})
    sms_count = round(100 * args.sms_share)
    print(f"open loop: 100 conversations ({100 - sms_count} web chat, {sms_count} SMS), a message every "
          f"{args.mean_gap:g} s each on average, ~{100 / args.mean_gap:.0f} messages/s offered, {args.open_seconds:.0f} s")
    print_open(await open_loop([(safeline, 100 - sms_count), (sms, sms_count)], messages, args.open_seconds,
                               mean_gap_s=args.mean_gap))
    if args.no_closed:
        return
    rounds = 5  # alternated, so other work on the machine weighs on both sides alike
    print(f"closed loop: {args.clients} clients back to back, {args.closed_seconds:.0f} s each, "
          f"in {rounds} alternating rounds")
    done = {rasa.name: [0.0, 0], safeline.name: [0.0, 0]}
    for _ in range(rounds):
        for target in (rasa, safeline):
            result = await closed_loop(target, messages, args.closed_seconds / rounds, args.clients)
            done[target.name][0] += result["rate"] / rounds
            done[target.name][1] += result["errors"]
    for name, (rate, errors) in done.items():
        print(f"  {name}: {rate:.1f} messages/s, errors {errors}")
    print(f"  Safeline / Rasa alone: {done[safeline.name][0] / done[rasa.name][0]:.2f}")
    print("resident memory:")
    total = 0.0
    pids = {name: process.pid for name, process in stack.processes.items()} | extra_pids
    for name, pid in pids.items():
        mb = rss_mb(pid)
        total += mb
        print(f"  {name}: {mb:.0f} MB")
    print(f"  total: {total:.0f} MB")


def start_redis(directory: str) -> tuple[subprocess.Popen, str]:
    """A private redis-server with AOF fsynced every second, as in production."""
    port = free_port()
    process = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
                                "127.0.0.1", "--dir", directory, "--appendonly", "yes", "--appendfsync",
                                "everysec", "--save", ""], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def machine() -> str:
    """CPU model, cores, memory and load when the run started."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return f"{cpu}, {os.cpu_count()} cores, {memory / 1024 / 1024:.0f} GB RAM, load average {load}"


def main() -> int:
    """Start a stack on free ports, measure, stop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open-seconds", type=float, default=60)
    parser.add_argument("--closed-seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--sms-share", type=float, default=0.3, help="share of open-loop conversations on SMS")
    parser.add_argument("--mean-gap", type=float, default=5.0, help="mean seconds between a conversation's messages")
    parser.add_argument("--no-closed", action="store_true", help="open loop only (no saturation or RSS)")
    parser.add_argument("--redis", action="store_true", help="production stores: a private redis-server with AOF")
    parser.add_argument("--replicas", type=int, default=1, help="Rasa processes (conversations routed by pseudonym)")
    parser.add_argument("--separate-worker", action="store_true", help="the worker as its own process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = asyncio.get_event_loop()
        twilio_runner, twilio_url = loop.run_until_complete(twilio_stand_in())
        env = {**os.environ, "SAFELINE_DATA_DIR": data_dir, "SAFELINE_PORT": str(free_port()),
               "SAFELINE_INTERNAL_PORT": str(free_port()), "RASA_PORT": str(free_port()),
               "ACTIONS_PORT": str(free_port()), "RASA_TELEMETRY_ENABLED": "false",
               "TRANSLATOR_PORT": str(free_port()),  # started as `make run` does; idle without a handoff
               "SAFELINE_PUBLIC_URL": PUBLIC_URL, "TWILIO_ACCOUNT_SID": TWILIO_SID,
               "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "TWILIO_FROM_NUMBER": HELPLINE_NUMBER,
               "TWILIO_API_BASE_URL": twilio_url, "SAFELINE_SMS_TWIML_WAIT_MS": "5000",
               "SAFELINE_RASA_REPLICAS": str(args.replicas),
               "SAFELINE_EMBEDDED_WORKER": "false" if args.separate_worker else "true"}
        for name in ("TELEGRAM_BOT_TOKEN", "RASA_URLS"):
            env.pop(name, None)
        extra_pids: dict[str, int] = {}
        redis_process = None
        if (args.redis or args.separate_worker) and not env.get("REDIS_URL"):  # a separate worker shares Redis
            redis_process, env["REDIS_URL"] = start_redis(data_dir)
            extra_pids["redis-server"] = redis_process.pid
        if args.replicas > 1:  # consecutive free ports for the replicas
            env["RASA_PORT"] = str(free_port_run(args.replicas))
        stack = Stack(env)
        stack.start()
        try:
            print(f"machine: {machine()}")
            print(f"stack: stores {'redis (AOF everysec)' if env.get('REDIS_URL') else 'in-process'}, "
                  f"{args.replicas} Rasa process(es), worker {'separate' if args.separate_worker else 'embedded'}")
            loop.run_until_complete(measure(stack, args, extra_pids))
            print(f"load average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])} "
                  "(other work on the machine shows here)")
        finally:
            stack.stop()
            loop.run_until_complete(twilio_runner.cleanup())
            if redis_process is not None:
                redis_process.terminate()
                redis_process.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
