"""A fake of the messaging platforms' outbound APIs on loopback, recording what the bot sends.

One aiohttp server plays Telegram (`/telegram/bot<token>/<method>`), Slack
(`/slack/api/<method>`), Messenger (`/facebook/me/messages`) and Twilio
(`/twilio/2010-04-01/Accounts/<sid>/Messages.json`); the channels are pointed at it through their
`api_base_url` setting. It runs on a thread of the test process, so tests read `calls` directly.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web


@dataclass
class Call:
    platform: str
    path: str
    body: Any
    headers: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)


class FakePlatforms:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakePlatforms:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.text()
        if request.content_type == "application/json":
            body: Any = json.loads(raw or "null")
        else:
            body = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw).items()}
        platform = request.path.strip("/").split("/")[0]
        with self._lock:
            self.calls.append(
                Call(platform, request.path, body, dict(request.headers), dict(request.query))
            )
        if platform == "telegram":
            return web.json_response({"ok": True, "result": {"message_id": len(self.calls)}})
        if platform == "slack":
            return web.json_response({"ok": True, "ts": f"{time.time():.6f}"})
        if platform == "facebook":
            return web.json_response({"recipient_id": "1", "message_id": f"m{len(self.calls)}"})
        if platform == "twilio":
            return web.json_response(
                {"sid": f"SM{len(self.calls):032d}", "status": "queued"}, status=201
            )
        return web.json_response({"error": "unknown platform"}, status=404)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def of(self, platform: str, path_part: str = "") -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.platform == platform and path_part in c.path]

    def wait_for(
        self, predicate: Callable[[list[Call]], bool], timeout: float = 10.0
    ) -> list[Call]:
        """Wait until the recorded calls satisfy `predicate` (replies arrive asynchronously)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                snapshot = list(self.calls)
            if predicate(snapshot):
                return snapshot
            time.sleep(0.05)
        with self._lock:
            raise AssertionError(f"timed out; calls so far: {self.calls!r}")
