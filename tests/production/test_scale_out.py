"""Two Rasa instances (the second with two worker processes) sharing PostgreSQL (conversations)
and Redis (locks), one action server: one client's messages, sent to both instances alternately
and concurrently, are all processed, each exactly once, one turn at a time, in the order the
client sent them."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from bot.rasa_adapter.serve import process_tree
from tests.support.bots import prepare_database, sender
from tests.support.deployments import Server, action_server, deployment_env, rasa_servers

pytestmark = pytest.mark.services

QUESTIONS = (
    "hello",
    "does massage help with sleep?",
    "how much is a massage",
    "what are your opening hours",
    "can massage help my lower back pain?",
    "thanks",
)


def stored_events(tracker_url: str, conversation: str) -> list[dict[str, Any]]:
    """The conversation's events as the tracker store has them, in insertion order."""
    engine = create_engine(tracker_url, future=True)
    try:
        with engine.connect() as connection:
            query = text("SELECT data FROM events WHERE sender_id = :s ORDER BY id")
            rows = connection.execute(query, {"s": conversation})
            return [json.loads(row.data) for row in rows]
    finally:
        engine.dispose()


def turns(events: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(user text, events until the next user message) for each user message."""
    found: list[tuple[str, list[dict[str, Any]]]] = []
    for event in events:
        if event["event"] == "user":
            found.append((event.get("text") or "", []))
        elif found:
            found[-1][1].append(event)
    return found


def assert_whole_turns(found: list[tuple[str, list[dict[str, Any]]]]) -> None:
    """Every message was answered and the bot went back to listening before the next one."""
    for message, after in found:
        actions = [e.get("name") for e in after if e["event"] == "action"]
        assert any(e["event"] == "bot" for e in after), f"no reply stored for {message!r}"
        assert actions and actions[-1] == "action_listen", f"turn of {message!r}: {actions}"


@pytest.mark.e2e
def test_one_conversation_across_two_instances(
    tmp_path: Path, model: Path, postgres_url: str, redis_space: tuple[str, str]
) -> None:
    redis_url, prefix = redis_space
    database_url = prepare_database(postgres_url)  # FAQ and bookings in PostgreSQL too
    env = deployment_env(
        database_url,
        TRACKER_STORE_URL=postgres_url,
        REDIS_URL=redis_url,
        LOCK_STORE_KEY_PREFIX=prefix,
        # Counted in Redis, so shared by both instances; high enough never to refuse here.
        RATE_LIMIT_SENDER="1000/600",
        RATE_LIMIT_IP="1000/600",
    )
    client = sender()
    sent: list[str] = []
    with (
        action_server(tmp_path, env) as actions,
        # The second instance runs two Sanic workers forked after the model was loaded.
        rasa_servers(
            tmp_path, model, actions.port, [env, {**env, "SANIC_WORKERS": "2"}]
        ) as instances,
    ):
        for server in instances:
            assert (
                "lock_store from the environment: type=bot.rasa_adapter.lock_store"
                in server.tail(400)
            )
        started = instances[1].tail(400)
        assert "with 2 worker(s)" in started
        assert started.count("Loading model") == 1  # once, before the fork
        workers = set(process_tree([instances[1].process.pid])) - {instances[1].process.pid}
        assert len(workers) == 2
        for server in instances:  # every part answers, Redis and PostgreSQL included
            ready = requests.get(f"{server.url}/ready", timeout=30)
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["lock_store"] == "ok"

        def send(server: Server, message: str) -> list[dict[str, Any]]:
            return server.send(message, client, timeout=120)

        # 1. Alternately, one at a time: the exact order is the client's.
        for i in range(8):
            message = f"{QUESTIONS[i % len(QUESTIONS)]} (a{i})"
            assert send(instances[i % 2], message), message
            sent.append(message)

        with ThreadPoolExecutor(max_workers=8) as pool:
            # 2. In pairs sent at the same moment, one to each instance: pairs stay in order.
            for i in range(6):
                pair = [f"{QUESTIONS[(i + k) % len(QUESTIONS)]} (p{i}.{k})" for k in (0, 1)]
                replies = list(pool.map(send, instances, pair))
                assert all(replies), pair
                sent.extend(pair)

            # 3. A burst of eight at once, alternating instances.
            burst = [f"{QUESTIONS[k % len(QUESTIONS)]} (b{k})" for k in range(8)]
            futures = []
            for k, message in enumerate(burst):
                futures.append(pool.submit(send, instances[k % 2], message))
                time.sleep(0.02)
            assert all(f.result() for f in futures), burst

    assert not set(process_tree(list(workers))), "a worker outlived its stopped instance"
    found = turns(stored_events(postgres_url, f"rest:{client}"))
    received = [message for message, _ in found]
    assert sorted(received) == sorted(sent + burst), "a message was lost or stored twice"
    assert received[:8] == sent[:8]
    for i in range(6):  # each pair after the previous one, in either order within the pair
        assert set(received[8 + 2 * i : 10 + 2 * i]) == set(sent[8 + 2 * i : 10 + 2 * i])
    assert_whole_turns(found)

    counters = redis.Redis.from_url(redis_url).keys(f"{prefix}:ratelimit:sender:*")
    total = sum(int(redis.Redis.from_url(redis_url).get(k) or 0) for k in counters)
    assert total == len(sent) + len(burst)  # both instances counted in one place
