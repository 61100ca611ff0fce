"""`/health` and `/ready` on the Rasa server, for container healthchecks and Kubernetes probes.

- `GET /health`: the process is up and serving HTTP (always 200). Liveness: restarting the
  process would not help with anything else.
- `GET /ready`: 200 only when this process can answer clients — the model is loaded, the action
  server answers its `/health`, the database (DATABASE_URL) answers `SELECT 1`, and the lock
  store answers a Redis `PING` (when one is configured); otherwise 503. Readiness: the
  instance is taken out of the load balancer until it is back.

The body says which part is not ready, e.g.
`{"status": "not ready", "not_ready": ["action_server"], "checks": {"action_server": "…",
"database": "ok", …}}`. The checks run concurrently, each cut off after CHECK_SECONDS, so a
probe never hangs on a part that does not answer. Rasa 3.6 serves `/`, `/version` and `/status`
(the last only with the HTTP API on), no `/health` or `/ready`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

CHECK_SECONDS = 2.0
OK = "ok"

Check = Callable[[], Awaitable[str]]


class NotReady(Exception):
    """A check's finding, said as it is shown in the `/ready` body."""


async def run_checks(
    checks: Mapping[str, Check], timeout: float = CHECK_SECONDS
) -> dict[str, tuple[bool, str]]:
    """Each check's outcome (ready or not, and `ok`, a note or why not), all run at once, each
    cut off after `timeout`."""

    async def one(name: str, check: Check) -> tuple[bool, str]:
        try:
            return True, await asyncio.wait_for(check(), timeout)
        except asyncio.TimeoutError:
            return False, f"no answer within {timeout:g} s"
        except NotReady as finding:
            return False, str(finding)
        except Exception as error:
            logger.debug("Readiness check %s failed", name, exc_info=True)
            return False, f"{type(error).__name__}: {error}".rstrip(": ")

    results = await asyncio.gather(*(one(name, check) for name, check in checks.items()))
    return dict(zip(checks, results, strict=True))


def action_health_url(webhook_url: str) -> str:
    """rasa_sdk serves `/health` beside `/webhook`: `http://actions:5055/webhook` →
    `http://actions:5055/health` (a path prefix in front of both is kept)."""
    parts = urlsplit(webhook_url)
    path = parts.path.rstrip("/")
    base = path[: -len("/webhook")] if path.endswith("/webhook") else path
    return urlunsplit((parts.scheme, parts.netloc, f"{base}/health", "", ""))


def model_check(app: Sanic) -> Check:
    async def check() -> str:
        agent = getattr(app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            raise NotReady("the model is not loaded (yet)")
        return OK

    return check


def action_server_check(endpoint: Any) -> Check:
    async def check() -> str:
        if endpoint is None or not getattr(endpoint, "url", None):
            return "not configured"
        context = ssl.create_default_context(cafile=endpoint.cafile) if endpoint.cafile else None
        timeout = aiohttp.ClientTimeout(total=CHECK_SECONDS)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(action_health_url(endpoint.url), ssl=context) as answer,
        ):
            if answer.status != 200:
                raise NotReady(f"its /health answered {answer.status}")
        breaker = getattr(endpoint, "breaker", None)
        state = getattr(breaker, "state", "closed")
        return OK if state == "closed" else f"{OK} (circuit {state})"

    return check


class DatabaseCheck:
    """`SELECT 1` on the domain database, in a thread (SQLAlchemy is synchronous). A probe that
    finds the previous one still waiting for the database waits for that one instead of
    starting another, so a hanging database never piles up threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pending: asyncio.Future[None] | None = None

    def _select_one(self) -> None:
        from sqlalchemy import text

        from bot.clinic.db import get_engine

        with get_engine(self.url).connect() as connection:
            connection.execute(text("SELECT 1"))

    async def __call__(self) -> str:
        pending = self._pending
        if (
            pending is None
            or pending.done()
            or pending.get_loop() is not asyncio.get_running_loop()
        ):
            pending = self._pending = asyncio.ensure_future(asyncio.to_thread(self._select_one))
            # Read its error even if every probe waiting for it has given up.
            pending.add_done_callback(lambda done: done.cancelled() or done.exception())
        await asyncio.shield(pending)
        return OK


def lock_store_check(lock_store: Any) -> Check:
    """A Redis `PING` for the Redis lock stores (ours is asynchronous, Rasa's is not); an
    in-memory lock store has nothing to ask."""

    async def check() -> str:
        client = getattr(lock_store, "redis", None)  # AtomicRedisLockStore (redis.asyncio)
        if client is not None:
            await client.ping()
            return OK
        client = getattr(lock_store, "red", None)  # Rasa's RedisLockStore (redis, blocking)
        if client is not None:
            await asyncio.to_thread(client.ping)
            return OK
        return "in memory"

    return check


def readiness_checks(app: Sanic, database_url: str | None) -> dict[str, Check]:
    """The checks `/ready` runs, built once per app."""
    endpoints = getattr(app.ctx, "massagebot_endpoints", None)
    checks: dict[str, Check] = {
        "model": model_check(app),
        "action_server": action_server_check(getattr(endpoints, "action", None)),
    }
    if database_url:
        checks["database"] = DatabaseCheck(database_url)

    async def lock_store() -> str:
        agent = getattr(app.ctx, "agent", None)
        store = getattr(agent, "lock_store", None)
        if store is None:
            return "not loaded"
        return await lock_store_check(store)()

    checks["lock_store"] = lock_store
    return checks


def install(app: Sanic, database_url: str | None) -> None:
    """Add `/health` and `/ready` to the app (outside every channel, guard and API token)."""
    checks: dict[str, Check] = {}
    last_problems: list[str] = []

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/ready")
    async def ready(_: Request) -> HTTPResponse:
        if not checks:  # built on first use: the endpoints and agent are in place by then
            checks.update(readiness_checks(app, database_url))
        results = await run_checks(checks)
        details = {name: detail for name, (_, detail) in results.items()}
        problems = [name for name, (fine, _) in results.items() if not fine]
        if problems != last_problems:  # logged when it changes, not at every probe
            if problems:
                logger.warning("Not ready: %s", "; ".join(f"{p}: {details[p]}" for p in problems))
            else:
                logger.info("Ready again")
            last_problems[:] = problems
        if problems:
            body = {"status": "not ready", "not_ready": problems, "checks": details}
            return response.json(body, status=503)
        return response.json({"status": "ready", "checks": details})
