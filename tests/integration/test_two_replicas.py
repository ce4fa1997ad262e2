"""Two Rasa replicas on one Redis (tracker and lock stores shared): each conversation is routed to
one replica by its pseudonym, and bursts of 50 messages per conversation through the durable queue
(Telegram and SMS webhooks) reach Rasa once each, in order, none lost. The topology is the one of
docker-compose.yml scaled out: the app only queues, and two worker processes share the queues."""
from __future__ import annotations

import concurrent.futures
from typing import Iterator

import httpx
import pytest
import redis

from bot.pseudonym import pseudonym
from bot.rasa_client import replica_for
from bot.stack import Stack, latest_model
from people import SmsPerson, TelegramUser, wait_idle
from redis_stacks import (RecordingProxy, free_port_run, production_env, redis_db_url,
                          tracker_user_texts)

BURST = 50
TOPICS = ["what are my rights", "where can I sleep tonight", "is this legal", "I need a doctor",
          "they keep my passport", "can I get a lawyer", "I am scared", "what is trafficking"]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, redis_server, fake_telegram, fake_twilio) -> Iterator[tuple[Stack, list[RecordingProxy]]]:
    """A Redis-mode stack with two Rasa replicas, each behind a proxy that records its conversations."""
    url = redis_db_url(redis_server.url, 5)
    redis.Redis.from_url(url).flushdb()
    first = free_port_run(2)
    proxies = [RecordingProxy(f"http://127.0.0.1:{port}").start() for port in (first, first + 1)]
    env = production_env(tmp_path_factory.mktemp("two-replicas"), url, fake_telegram, fake_twilio,
                         RASA_PORT=str(first), SAFELINE_RASA_REPLICAS="2", SAFELINE_EMBEDDED_WORKER="false",
                         SAFELINE_WORKER_PROCESSES="2")
    env["RASA_URLS"] = ",".join(proxy.url for proxy in proxies)
    stack = Stack(env, model=latest_model())
    stack.start()
    yield stack, proxies
    stack.stop()
    for proxy in proxies:
        proxy.stop()


def burst(person, texts: list[str]) -> None:
    """Post the messages one after another as fast as the webhook acknowledges them."""
    for text in texts:
        if isinstance(person, TelegramUser):
            response = person.post(person.message_update(text))
        else:
            response = person.post(person.form(text))
        assert response.status_code == 200, response.text


def test_bursts_across_two_replicas_arrive_once_in_order_none_lost(replicas, fake_telegram, fake_twilio):
    stack, proxies = replicas
    base_url = f"http://127.0.0.1:{stack.settings.port}"
    secret = stack.settings.secret_key
    routes = [proxy.url for proxy in proxies]

    def conversation_of(person) -> str:
        if isinstance(person, TelegramUser):
            return pseudonym(secret, "telegram", str(person.chat_id))
        return pseudonym(secret, "sms", person.number)

    # Two Telegram chats and one SMS number for each replica (routing is by pseudonym).
    people: list = []
    for route in routes:
        for kind, wanted in ((TelegramUser, 2), (SmsPerson, 1)):
            found = 0
            while found < wanted:
                person = kind(base_url, fake_telegram if kind is TelegramUser else fake_twilio, stack)
                if replica_for(conversation_of(person), routes) == route:
                    people.append(person)
                    found += 1
    scripts = {id(p): [f"{TOPICS[(i + n) % len(TOPICS)]} ({n + 1})" for n in range(BURST)]
               for i, p in enumerate(people)}

    with concurrent.futures.ThreadPoolExecutor(len(people)) as pool:
        for future in [pool.submit(burst, p, scripts[id(p)]) for p in people]:
            future.result()
    wait_idle(stack, timeout=180)

    conversations = {id(person): conversation_of(person) for person in people}
    rasa = f"http://127.0.0.1:{stack.rasa_port('rasa')}"
    for person in people:
        # Trackers are shared through Redis: either replica shows every user turn, in order, once.
        assert tracker_user_texts(rasa, conversations[id(person)]) == scripts[id(person)]
        replies = person.sent() if isinstance(person, TelegramUser) else fake_twilio.sent(person.number)
        assert len(replies) >= BURST  # and every turn was answered

    # Both worker processes took part, and each replica carried exactly its own conversations.
    for port in stack.worker_ports.values():
        assert httpx.get(f"http://127.0.0.1:{port}/worker/status", timeout=5).json()["handled_here"]["inbound"] > 0
    for proxy in proxies:
        assert proxy.conversations == {c for c in conversations.values() if replica_for(c, routes) == proxy.url}
