"""The launcher's guards, on the real Sanic app Rasa builds, with a scripted agent instead of a
model: rate limits, size caps, payload checks, CORS and socket.io origins, API protection, JWT."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
import socketio
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic import Sanic

from bot.rasa_adapter.security import (
    EMPTY,
    NOT_A_COMMAND,
    TOO_FAST,
    TOO_LONG,
    MemoryLimiter,
    MessageGuard,
    Rate,
    SecurityConfigError,
    SecuritySettings,
    Unlimited,
    origin_allowed,
    storable,
    visible_text,
)
from bot.rasa_adapter.serve import free_port
from bot.rasa_adapter.server import build_app, create_channels, parse_args

Sanic.test_mode = True  # Rasa names every app the same; allow several in one process

SECRET_ENV = ("RASA_API_ENABLED", "RASA_TOKEN", "RASA_JWT_SECRET", "SOCKETIO_JWT_KEY")


class ScriptedAgent:
    """Echoes each message; `fail` makes it raise like Rasa does when a store is down."""

    tracker_store = type("NoStore", (), {"event_broker": None})()

    def __init__(self) -> None:
        self.fail = False
        self.seen: list[str] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.seen.append(message.text or "")
        if self.fail:
            raise RuntimeError("tracker store unavailable")
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


# --- settings, limiter, guard (no server) ---------------------------------------------------------


def test_api_is_off_by_default_and_never_open() -> None:
    assert SecuritySettings.from_env({}).enable_api is False
    with pytest.raises(SecurityConfigError, match="RASA_TOKEN or RASA_JWT_SECRET"):
        SecuritySettings.from_env({"RASA_API_ENABLED": "true"})
    assert SecuritySettings.from_env({"RASA_API_ENABLED": "1", "RASA_TOKEN": "t"}).enable_api


def test_rates_parse_and_switch_off() -> None:
    assert Rate.parse("20/60", "X") == Rate(20, 60)
    assert Rate.parse("5", "X") == Rate(5, 60)
    assert Rate.parse("0", "X") is None
    with pytest.raises(SecurityConfigError, match="RATE_LIMIT_IP"):
        Rate.parse("lots", "RATE_LIMIT_IP")


async def test_token_bucket_allows_a_burst_then_refills() -> None:
    now = [0.0]
    limiter = MemoryLimiter(Rate(3, 30), clock=lambda: now[0])
    assert [await limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert await limiter.allow("b")  # per key
    now[0] += 10  # one token back every 10 s
    assert await limiter.allow("a")
    assert not await limiter.allow("a")


def test_visible_text_ignores_marks_and_controls() -> None:
    assert visible_text("\u202e\u200f\x00\t \u3000") == ""
    assert visible_text(" 😀 ") == "😀"


def _message(text: str, sender: str = "s") -> tuple[UserMessage, CollectingOutputChannel]:
    out = CollectingOutputChannel()
    return UserMessage(text, out, sender, input_channel="rest"), out


async def test_guard_refuses_before_the_agent_sees_the_message() -> None:
    agent = ScriptedAgent()
    settings = SecuritySettings(max_message_chars=50)
    guard = MessageGuard(settings, MemoryLimiter(Rate(2, 60)), lambda: "sorry, call us")
    handler = guard.wrap(agent.handle_message)
    for text, expected in (("x" * 51, TOO_LONG), ("\u200f", EMPTY), ("", EMPTY)):
        message, out = _message(text)
        await handler(message)
        assert out.messages[-1]["text"] == expected
    assert agent.seen == []
    for text, expected in (("one", "echo: one"), ("two", "echo: two"), ("three", TOO_FAST)):
        message, out = _message(text)
        await handler(message)
        assert out.messages[-1]["text"] == expected


def test_text_is_made_storable() -> None:
    assert storable("a\x00b\ud800c\tq\n") == "ab\ufffdc\tq\n"
    assert storable("😀 שלום") == "😀 שלום"


async def test_guard_cleans_text_and_refuses_rasa_commands() -> None:
    agent = ScriptedAgent()
    handler = MessageGuard(SecuritySettings(), Unlimited(), lambda: "x").wrap(agent.handle_message)
    for command in ("/restart", " /session_start", "/back{}", "/RESTART"):
        message, out = _message(command)
        await handler(message)
        assert out.messages[-1]["text"] == NOT_A_COMMAND
    message, out = _message("hi\ud83d there\x00")
    await handler(message)
    assert agent.seen == ["hi\ufffd there"]


async def test_guard_apologises_when_rasa_fails() -> None:
    agent = ScriptedAgent()
    agent.fail = True
    guard = MessageGuard(SecuritySettings(), Unlimited(), lambda: "sorry, call 0123")
    message, out = _message("hello")
    await guard.wrap(agent.handle_message)(message)
    assert out.messages == [{"recipient_id": "s", "text": "sorry, call 0123"}]


def test_origins() -> None:
    allowed = ("https://clinic.example",)
    assert origin_allowed("https://clinic.example/", "bot.clinic.example", allowed)
    assert origin_allowed("https://bot.clinic.example", "bot.clinic.example", allowed)
    assert not origin_allowed("https://evil.example", "bot.clinic.example", allowed)
    assert origin_allowed("https://evil.example", "bot.clinic.example", ("*",))


def test_socketio_gets_the_jwt_key(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("rest:\nbot.rasa_adapter.channels.socketio.SocketIOChannel:\n")
    settings = SecuritySettings(socketio_jwt_key="k", socketio_jwt_method="HS512")
    channels = create_channels(str(credentials), settings)
    socket = next(c for c in channels if c.name() == "socketio")
    assert (socket.jwt_key, socket.jwt_algorithm) == ("k", "HS512")


# --- the assembled app, served on a free port ---------------------------------------------------


@pytest.fixture()
async def serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., Any]]:
    """`await serve(**env)` → (base URL, agent); servers are closed after the test."""
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("rest:\nbot.rasa_adapter.channels.socketio.SocketIOChannel:\n")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("")
    running: list[Any] = []

    async def start(**env: str) -> tuple[str, ScriptedAgent]:
        for name in SECRET_ENV:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv("REDIS_URL", raising=False)
        monkeypatch.delenv("CORS_ORIGINS", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        port = free_port()
        args = parse_args(["--credentials", str(credentials), "--endpoints", str(endpoints)])
        app = build_app(args, None)
        agent = ScriptedAgent()
        app.ctx.agent = agent
        server = await app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
        )
        await server.startup()
        await server.before_start()
        await server.after_start()
        running.append(server)
        return f"http://127.0.0.1:{port}", agent

    yield start
    for server in running:
        await server.before_stop()
        await server.close()
        await server.after_stop()


async def _post(url: str, body: Any, **kwargs: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(url, **kwargs, json=body) as r:
        return r.status, await r.json(content_type=None)


async def test_rest_rate_limits_per_sender_and_per_ip(serve: Callable[..., Any]) -> None:
    url, agent = await serve(RATE_LIMIT_SENDER="2/60", RATE_LIMIT_IP="4/60")
    webhook = f"{url}/webhooks/rest/webhook"
    replies = [await _post(webhook, {"sender": "a", "message": f"m{i}"}) for i in range(3)]
    assert [r[1][0]["text"] for r in replies] == ["echo: m0", "echo: m1", TOO_FAST]
    assert all(status == 200 for status, _ in replies)
    assert (await _post(webhook, {"sender": "b", "message": "hi"}))[1][0]["text"] == "echo: hi"
    status, body = await _post(webhook, {"sender": "c", "message": "hi"})  # 5th from this IP
    assert status == 429 and body[0]["text"] == TOO_FAST
    assert agent.seen == ["m0", "m1", "hi"]


async def test_payload_caps_and_checks(serve: Callable[..., Any]) -> None:
    url, agent = await serve(RATE_LIMIT_IP="0", MAX_MESSAGE_CHARS="100")
    webhook = f"{url}/webhooks/rest/webhook"
    status, body = await _post(webhook, {"sender": "a", "message": "x" * 100_000})
    assert status == 413 and body[0]["text"] == TOO_LONG  # refused before it is even parsed
    assert (await _post(webhook, {"sender": "a", "message": "x" * 101}))[1][0]["text"] == TOO_LONG
    assert (await _post(webhook, {"sender": "s" * 300, "message": "hi"}))[0] == 400
    assert (await _post(webhook, {"sender": "a", "message": {"$gt": ""}}))[0] == 400
    assert (await _post(webhook, ["not", "an", "object"]))[0] == 400
    async with aiohttp.ClientSession() as session, session.post(webhook, data=b"{x") as response:
        assert response.status == 400
    assert agent.seen == []


async def test_http_api_is_off_unless_protected(serve: Callable[..., Any]) -> None:
    url, _ = await serve()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/conversations/x/tracker") as response:
            assert response.status == 404
        async with session.get(f"{url}/status") as response:
            assert response.status == 404
    url, _ = await serve(RASA_API_ENABLED="true", RASA_TOKEN="s3cret")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/conversations/x/tracker") as response:
            assert response.status == 401
        async with session.get(f"{url}/conversations/x/tracker?token=wrong") as response:
            assert response.status == 401


async def test_cors_only_for_configured_origins(serve: Callable[..., Any]) -> None:
    url, _ = await serve(CORS_ORIGINS="https://clinic.example")
    webhook = f"{url}/webhooks/rest/webhook"
    async with aiohttp.ClientSession() as session:
        for origin, allowed in (("https://clinic.example", True), ("https://evil.example", False)):
            headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
            async with session.options(webhook, headers=headers) as response:
                granted = response.headers.get("Access-Control-Allow-Origin")
                assert (granted == origin) is allowed, (origin, granted)
        polling = f"{url}/socket.io/?EIO=4&transport=polling"
        async with session.get(polling, headers={"Origin": "https://evil.example"}) as response:
            assert response.status == 403
        async with session.get(polling, headers={"Origin": "https://clinic.example"}) as response:
            assert response.status == 200


def _socketio_conversation(url: str, token: str) -> list[str]:
    """A widget-like client (python-socketio's sync client; its asyncio client needs a newer
    aiohttp than Rasa allows): connect with a token, ask one thing, return the replies."""
    client = socketio.Client(reconnection=False)
    replies: list[str] = []
    answered = threading.Event()

    @client.on("bot_uttered")
    def on_reply(data: dict[str, Any]) -> None:
        replies.append(data.get("text", ""))
        answered.set()

    confirmed = threading.Event()
    client.on("session_confirm", lambda _session: confirmed.set())
    client.connect(url, auth={"token": f"Bearer {token}"}, wait_timeout=5)
    client.emit("session_request", {"session_id": "jwt-session"})
    confirmed.wait(5)
    client.emit("user_uttered", {"message": "hello", "session_id": "jwt-session"})
    answered.wait(5)
    client.disconnect()
    return replies


async def test_socketio_requires_a_valid_jwt_when_configured(serve: Callable[..., Any]) -> None:
    url, agent = await serve(SOCKETIO_JWT_KEY="widget-key", RATE_LIMIT_IP="0")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await asyncio.to_thread(_socketio_conversation, url, "nonsense")
    token = jwt.encode({"sub": "client-7"}, "widget-key", algorithm="HS256")
    assert await asyncio.to_thread(_socketio_conversation, url, token) == ["echo: hello"]
    assert agent.seen == ["hello"]


def test_launcher_refuses_to_start_an_open_api(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.rasa_adapter.server import main

    monkeypatch.setenv("RASA_API_ENABLED", "true")
    monkeypatch.delenv("RASA_TOKEN", raising=False)
    monkeypatch.delenv("RASA_JWT_SECRET", raising=False)
    assert main(["--model", "nowhere"]) == 2
    assert "RASA_TOKEN or RASA_JWT_SECRET" in capsys.readouterr().err
