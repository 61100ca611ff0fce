"""The Rasa server our launcher builds (channels, guards, sessions), with a scripted agent in
place of the model, served on a free port; and a widget-like socket.io client to talk to it.

Fast enough for attack tests that need many connections; the same attacks are repeated
against the trained bot in tests/e2e and tests/widget.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.rasa_adapter.serve import free_port
from bot.rasa_adapter.server import build_app, parse_args

Sanic.test_mode = True  # Rasa names every app the same; allow several in one process

# As in the repository's credentials.yml: REST, and socket.io with a conversation per session.
WIDGET_CREDENTIALS = (
    "bot.rasa_adapter.channels.rest.RestChannel:\n"
    "bot.rasa_adapter.channels.socketio.SocketIOChannel:\n  session_persistence: true\n"
)
# Variables a developer's shell might have set that would change what the tests see.
CLEARED = (
    "RASA_API_ENABLED", "RASA_TOKEN", "RASA_JWT_SECRET", "SOCKETIO_JWT_KEY", "REDIS_URL",
    "CORS_ORIGINS", "SESSION_SECRET", "REST_CHANNEL_TOKEN", "MASSAGEBOT_ENVIRONMENT",
    "TELEGRAM_SECRET_TOKEN", "STAFF_TOKEN",
)  # fmt: skip


@dataclass
class Seen:
    text: str
    sender_id: str
    channel: str


class NoStore:
    """No conversations kept: channels that look one up (numbered replies) find none."""

    event_broker = None

    async def retrieve(self, sender_id: str) -> None:
        return None


class ScriptedAgent:
    """Records each message and answers `echo: <text>` to the sender's conversation."""

    tracker_store = NoStore()

    def __init__(self) -> None:
        self.seen: list[Seen] = []

    async def handle_message(self, message: UserMessage) -> None:
        text = message.text or ""
        self.seen.append(Seen(text, message.sender_id, message.input_channel or ""))
        await message.output_channel.send_text_message(message.sender_id, f"echo: {text}")

    def senders_of(self, text: str) -> list[str]:
        return [s.sender_id for s in self.seen if s.text == text]


@contextlib.asynccontextmanager
async def scripted_server(
    folder: Path, env: Mapping[str, str], credentials: str = WIDGET_CREDENTIALS
) -> AsyncIterator[tuple[str, ScriptedAgent]]:
    """(base URL, agent) of a running app; the caller sets the environment (monkeypatch)."""
    (folder / "credentials.yml").write_text(credentials, encoding="utf-8")
    (folder / "endpoints.yml").write_text("", encoding="utf-8")
    args = parse_args(
        [
            "--credentials",
            str(folder / "credentials.yml"),
            "--endpoints",
            str(folder / "endpoints.yml"),
        ]
    )
    app = build_app(args, None)
    agent = ScriptedAgent()
    app.ctx.agent = agent
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}", agent
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


async def post_json(
    url: str, body: Any, headers: Mapping[str, str] | None = None
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=dict(headers or {})) as reply,
    ):
        text = await reply.text()
        try:
            return reply.status, await reply.json(content_type=None)
        except ValueError:
            return reply.status, text


@dataclass
class WidgetClient:
    """What the widget does on the wire, with python-socketio's sync client (its asyncio client
    needs a newer aiohttp than Rasa allows): run it in a thread from async tests."""

    url: str
    auth: dict[str, Any] | None = None
    replies: list[str] = field(default_factory=list)
    session: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client = socketio.Client(reconnection=False)
        self._confirmed = threading.Event()
        self._replied = threading.Condition()
        self.client.on("bot_uttered", self._on_reply)
        self.client.on("session_confirm", self._on_confirm)

    def _on_reply(self, data: Any) -> None:
        with self._replied:
            self.replies.append(data.get("text", "") if isinstance(data, dict) else str(data))
            self._replied.notify_all()

    def _on_confirm(self, data: Any) -> None:
        # The server sends {"session_id", "session_token"}; Rasa's stock channel a bare id.
        self.session = dict(data) if isinstance(data, dict) else {"session_id": data}
        self._confirmed.set()

    def connect(self) -> WidgetClient:
        self.client.connect(self.url, auth=self.auth, transports=["websocket"], wait_timeout=5)
        return self

    def request_session(self, **wanted: Any) -> dict[str, Any]:
        """session_request with whatever the caller claims (session_id, session_token)."""
        self._confirmed.clear()
        self.client.emit("session_request", wanted)
        assert self._confirmed.wait(5), "no session_confirm"
        return self.session

    @property
    def session_id(self) -> str:
        return str(self.session.get("session_id"))

    def say(self, text: str, session_id: str | None = None, wait: bool = True) -> None:
        """user_uttered as the widget sends it: with the session id it was given (or, for an
        attack, another one); waits for one more reply."""
        with self._replied:
            before = len(self.replies)
            sid = self.session_id if session_id is None else session_id
            self.client.emit("user_uttered", {"message": text, "session_id": sid})
            if wait:
                self._replied.wait_for(lambda: len(self.replies) > before, timeout=5)

    def settle(self, seconds: float = 0.5) -> None:
        """Give the server time to deliver anything still on its way."""
        self.client.sleep(seconds)

    def close(self) -> None:
        self.client.disconnect()


async def post_raw(
    url: str, body: bytes, headers: Mapping[str, str] | None = None
) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=dict(headers or {})) as reply,
    ):
        return reply.status, await reply.text()


async def _cancel_the_rest() -> None:
    """Socket.io's background tasks, so the loop closes without 'Task was destroyed'."""
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.contextmanager
def scripted_server_thread(
    folder: Path, env: Mapping[str, str], credentials: str = WIDGET_CREDENTIALS
) -> Iterator[tuple[str, ScriptedAgent]]:
    """`scripted_server` on an event loop of its own thread, for synchronous tests (a browser
    driven by Playwright's sync API); the environment must already be set."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    context = scripted_server(folder, env, credentials)
    try:
        started = asyncio.run_coroutine_threadsafe(context.__aenter__(), loop).result(60)
        try:
            yield started
        finally:
            asyncio.run_coroutine_threadsafe(context.__aexit__(None, None, None), loop).result(60)
            asyncio.run_coroutine_threadsafe(_cancel_the_rest(), loop).result(60)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
