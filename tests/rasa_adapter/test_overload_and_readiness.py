"""Load shedding (MAX_MESSAGES_IN_FLIGHT) and the `/health` and `/ready` routes, on the real
Sanic app the launcher builds, with a scripted agent instead of a model. The parts `/ready`
asks are real: an HTTP server for the action server, SQLite or a closed port for the database,
Redis or a closed port for the lock store."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import socketio
from aiohttp import web
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from sanic import Sanic

from bot.rasa_adapter.health import DatabaseCheck, action_health_url, run_checks
from bot.rasa_adapter.lock_store import AtomicRedisLockStore
from bot.rasa_adapter.security import (
    BUSY,
    MessageGuard,
    SecuritySettings,
    Unlimited,
    was_shed,
)
from bot.rasa_adapter.serve import free_port
from bot.rasa_adapter.server import build_app, parse_args

Sanic.test_mode = True  # Rasa names every app the same; allow several in one process


class HeldAgent:
    """Answers each message once `release` is set; `entered` is set while one is held."""

    def __init__(self, lock_store: Any = None) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()
        self.seen: list[str] = []
        self.lock_store = lock_store or InMemoryLockStore()
        self.tracker_store = type("NoStore", (), {"event_broker": None})()

    def is_ready(self) -> bool:
        return True

    async def handle_message(self, message: UserMessage) -> None:
        self.seen.append(message.text or "")
        self.entered.set()
        await self.release.wait()
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


# --- the guard alone ------------------------------------------------------------------------------


async def test_guard_sheds_messages_past_the_limit_and_counts_them_out_again() -> None:
    agent = HeldAgent()
    agent.release.clear()
    guard = MessageGuard(SecuritySettings(), Unlimited(), lambda: "sorry", max_in_flight=2)
    handler = guard.wrap(agent.handle_message)
    outs = [CollectingOutputChannel() for _ in range(4)]
    messages = [
        UserMessage(f"m{i}", out, f"s{i}", input_channel="rest") for i, out in enumerate(outs)
    ]
    held = [asyncio.create_task(handler(m)) for m in messages[:2]]
    while agent.seen != ["m0", "m1"]:
        await asyncio.sleep(0)
    assert guard.in_flight == 2
    await handler(messages[2])  # a third at once: turned away politely, Rasa never sees it
    assert outs[2].messages == [{"recipient_id": "s2", "text": BUSY}] and was_shed(messages[2])
    agent.release.set()
    await asyncio.gather(*held)
    assert guard.in_flight == 0 and not was_shed(messages[0])
    await handler(messages[3])
    assert outs[3].messages[-1]["text"] == "echo: m3" and agent.seen == ["m0", "m1", "m3"]


async def test_failing_messages_leave_the_count_too() -> None:
    async def failing(_message: UserMessage) -> None:
        raise RuntimeError("tracker store unavailable")

    guard = MessageGuard(SecuritySettings(), Unlimited(), lambda: "sorry", max_in_flight=1)
    out = CollectingOutputChannel()
    for _ in range(2):
        await guard.wrap(failing)(UserMessage("hi", out, "s", input_channel="rest"))
    assert [m["text"] for m in out.messages] == ["sorry", "sorry"] and guard.in_flight == 0


# --- the assembled app ----------------------------------------------------------------------------


@pytest.fixture()
async def action_server() -> AsyncIterator[str]:
    """Answers `/health` like rasa_sdk; returns the webhook URL."""
    app = web.Application()
    app.router.add_get("/health", lambda _: web.json_response({"status": "ok"}))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/webhook"
    await runner.cleanup()


@pytest.fixture()
async def serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., Any]]:
    """`await serve(action_url, agent, **env)` → base URL; servers are closed after the test."""
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("rest:\nbot.rasa_adapter.channels.socketio.SocketIOChannel:\n")
    running: list[Any] = []

    async def start(action_url: str | None, agent: HeldAgent | None, **env: str) -> str:
        endpoints = tmp_path / f"endpoints-{len(running)}.yml"
        endpoints.write_text(f'action_endpoint:\n  url: "{action_url}"\n' if action_url else "")
        for name in ("REDIS_URL", "CORS_ORIGINS", "RASA_API_ENABLED", "ACTION_SERVER_URL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'massagebot.db'}")
        monkeypatch.setenv("RATE_LIMIT_IP", "0")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        port = free_port()
        args = parse_args(["--credentials", str(credentials), "--endpoints", str(endpoints)])
        app = build_app(args, None)
        if agent is not None:  # None: as before the model is loaded
            app.ctx.agent = agent
        server = await app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
        )
        await server.startup()
        await server.before_start()
        await server.after_start()
        running.append(server)
        return f"http://127.0.0.1:{port}"

    yield start
    for server in running:
        await server.before_stop()
        await server.close()
        await server.after_stop()


async def _get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json(content_type=None)


async def _post(url: str, body: Any) -> tuple[int, dict[str, str], Any]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return response.status, dict(response.headers), await response.json(content_type=None)


def _socketio_message(url: str, text: str) -> list[str]:
    """A widget-like client (sync: python-socketio's asyncio client needs a newer aiohttp):
    one message, the bot's replies."""
    client = socketio.Client(reconnection=False)
    replies: list[str] = []
    answered, confirmed = threading.Event(), threading.Event()

    @client.on("bot_uttered")
    def on_reply(data: dict[str, Any]) -> None:
        replies.append(data.get("text", ""))
        answered.set()

    client.on("session_confirm", lambda _session: confirmed.set())
    client.connect(url, wait_timeout=10)
    client.emit("session_request", {})
    confirmed.wait(10)
    client.emit("user_uttered", {"message": text})
    answered.wait(10)
    client.disconnect()
    return replies


async def test_past_the_limit_rest_gets_503_with_retry_after_and_the_widget_a_message(
    serve: Callable[..., Any], action_server: str
) -> None:
    agent = HeldAgent()
    url = await serve(action_server, agent, MAX_MESSAGES_IN_FLIGHT="1")
    webhook = f"{url}/webhooks/rest/webhook"
    agent.release.clear()
    first = asyncio.create_task(_post(webhook, {"sender": "a", "message": "first"}))
    await agent.entered.wait()  # "first" is being handled

    status, headers, body = await _post(webhook, {"sender": "b", "message": "second"})
    assert (status, headers.get("Retry-After")) == (503, "60")
    assert body == [{"recipient_id": "b", "text": BUSY}]
    assert await asyncio.to_thread(_socketio_message, url, "third") == [BUSY]
    assert agent.seen == ["first"]

    agent.release.set()
    status, _, body = await first
    assert status == 200 and body == [{"recipient_id": "a", "text": "echo: first"}]
    status, _, body = await _post(webhook, {"sender": "b", "message": "again"})
    assert status == 200 and body == [{"recipient_id": "b", "text": "echo: again"}]


async def test_health_always_and_ready_when_every_part_answers(
    serve: Callable[..., Any], action_server: str, redis_space: tuple[str, str]
) -> None:
    redis_url, prefix = redis_space
    address = urlsplit(redis_url)
    store = AtomicRedisLockStore(host=address.hostname, port=address.port, key_prefix=prefix)
    url = await serve(action_server, HeldAgent(lock_store=store))
    assert await _get(f"{url}/health") == (200, {"status": "ok"})
    status, body = await _get(f"{url}/ready")
    assert status == 200, body
    assert body == {
        "status": "ready",
        "checks": {"model": "ok", "action_server": "ok", "database": "ok", "lock_store": "ok"},
    }


async def test_ready_says_which_part_is_not_ready(serve: Callable[..., Any]) -> None:
    closed = free_port()  # nobody listens there
    store = AtomicRedisLockStore(host="127.0.0.1", port=closed)
    url = await serve(
        f"http://127.0.0.1:{closed}/webhook",
        HeldAgent(lock_store=store),
        DATABASE_URL=f"postgresql://nobody@127.0.0.1:{closed}/massagebot",
    )
    assert (await _get(f"{url}/health"))[0] == 200
    status, body = await _get(f"{url}/ready")
    assert status == 503 and body["status"] == "not ready"
    assert body["not_ready"] == ["action_server", "database", "lock_store"]
    assert body["checks"]["model"] == "ok"
    assert "ClientConnectorError" in body["checks"]["action_server"]
    assert "OperationalError" in body["checks"]["database"]


async def test_ready_waits_for_the_model(serve: Callable[..., Any], action_server: str) -> None:
    url = await serve(action_server, None)
    assert (await _get(f"{url}/health"))[0] == 200
    status, body = await _get(f"{url}/ready")
    assert status == 503 and body["not_ready"] == ["model"]
    assert body["checks"]["model"] == "the model is not loaded (yet)"


async def test_a_check_that_hangs_is_cut_off() -> None:
    never = asyncio.Event()

    async def hangs() -> str:
        await never.wait()
        return "ok"

    async def fine() -> str:
        return "ok"

    results = await run_checks({"hangs": hangs, "fine": fine}, timeout=0.05)
    assert results == {"hangs": (False, "no answer within 0.05 s"), "fine": (True, "ok")}


def test_the_action_servers_health_url() -> None:
    assert action_health_url("http://actions:5055/webhook") == "http://actions:5055/health"
    assert action_health_url("https://a.example/bot/webhook/") == "https://a.example/bot/health"
    assert action_health_url("http://actions:5055/webhook?x=1") == "http://actions:5055/health"


async def test_a_hanging_database_is_asked_once_not_at_every_probe() -> None:
    """A database that does not answer (a stopped server, a dropped network) holds a thread;
    later probes wait for that same query instead of starting more."""
    started, answer = [], threading.Event()

    class Hanging(DatabaseCheck):
        def _select_one(self) -> None:
            started.append(1)
            answer.wait(60)

    check = Hanging("sqlite://")
    try:
        for _ in range(3):
            results = await run_checks({"database": check}, timeout=0.05)
            assert results == {"database": (False, "no answer within 0.05 s")}
        assert started == [1]
        waiting = asyncio.ensure_future(check())
        await asyncio.sleep(0)  # it now waits for the query still under way
    finally:
        answer.set()
    assert await waiting == "ok"  # that query, answered at last
    assert started == [1]
