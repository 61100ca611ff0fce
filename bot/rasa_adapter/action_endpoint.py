"""How the Rasa server calls the action server: Rasa's `EndpointConfig`, keeping connections,
with a short timeout and a circuit breaker.

Rasa's `EndpointConfig.request` builds a new `aiohttp.ClientSession` — a new TCP connection —
for every action call. `ActionEndpoint` keeps one session per event loop: connections stay
alive between calls, and idle ones are dropped after 4 s, before the action server's 5 s
keep-alive would close them under us. Requests, headers, authentication and errors are Rasa's
own.

Rasa waits up to 300 s for an action; a client waits for a reply far less. Every call here
gives up after ACTION_TIMEOUT_SECONDS (5), and after ACTION_CIRCUIT_FAILURES (3) failures in a
row (timeouts, connection errors, 5xx answers) calls fail at once for
ACTION_CIRCUIT_RESET_SECONDS (5); then one trial call goes through (half-open), and its
outcome closes the circuit or opens it again. Either way the error is an
`aiohttp.ClientConnectionError`, which Rasa's `RemoteAction.run` turns into a `RasaException`
and `resilience.guard_action` into the clinic's apology with its phone number.

The server (`server.read_endpoints`) and the staff shell build the action endpoint with this
class; Rasa then calls it like its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.rasa_adapter.resilience import ResilienceSettings

logger = logging.getLogger(__name__)

# Idle connections are closed after this, below the action server's keep-alive (5 s).
KEEPALIVE_SECONDS = 4
MAX_CONNECTIONS = 32


class ActionTimeout(aiohttp.ServerTimeoutError):
    """The action server did not answer within ACTION_TIMEOUT_SECONDS."""


class CircuitOpen(aiohttp.ClientConnectionError):
    """Not even tried: the action server failed too often in a row a moment ago."""


class CircuitBreaker:
    """Closed (calls go through) until `failures` failures in a row; then open (calls fail at
    once) for `reset_seconds`; then half-open: one trial call, whose outcome closes or reopens
    it. One per process: each Sanic worker learns on its own. `failures=0` never opens."""

    def __init__(
        self, failures: int, reset_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = failures
        self.reset_seconds = reset_seconds
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.trial = False  # the half-open trial call is under way

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.trial or self.clock() - self.opened_at >= self.reset_seconds:
            return "half-open"
        return "open"

    def before_call(self) -> None:
        """Raise `CircuitOpen` unless this call may go through (the trial, when half-open)."""
        if self.opened_at is None:
            return
        waited = self.clock() - self.opened_at
        if self.trial or waited < self.reset_seconds:
            retry = max(0.0, self.reset_seconds - waited)
            raise CircuitOpen(
                f"The action server failed {self.failures} time(s) in a row; calls resume "
                f"{'after the trial call' if self.trial else f'in {retry:.0f} s'}"
            )
        self.trial = True

    def succeeded(self) -> None:
        if self.opened_at is not None:
            logger.info("The action server answers again; circuit closed")
        self.failures, self.opened_at, self.trial = 0, None, False

    def failed(self) -> None:
        self.failures += 1
        was_trial, self.trial = self.trial, False
        if self.threshold and (was_trial or self.failures >= self.threshold):
            if not was_trial:
                logger.warning(
                    "The action server failed %d times in a row; calls stop for %g s",
                    self.failures,
                    self.reset_seconds,
                )
            self.opened_at = self.clock()

    def abandoned(self) -> None:
        """The call was cancelled (or failed on our side) before the server's answer: it tells
        nothing, and a trial may be made again."""
        self.trial = False


class ActionEndpoint(EndpointConfig):
    """Rasa's `EndpointConfig` whose requests share one HTTP session (kept connections), time
    out after ACTION_TIMEOUT_SECONDS and pass a circuit breaker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: aiohttp.ClientSession | None = None
        self._kept_loop: asyncio.AbstractEventLoop | None = None
        self.configure(ResilienceSettings.from_env())

    def configure(
        self, settings: ResilienceSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """The timeout and a fresh circuit breaker (read from the environment when built)."""
        self.timeout = settings.action_timeout
        self.breaker = CircuitBreaker(settings.circuit_failures, settings.circuit_reset, clock)

    @classmethod
    def from_config(cls, config: EndpointConfig | None) -> ActionEndpoint | None:
        """The same endpoint (URL, parameters, headers, auth, token, cafile) as this class."""
        if config is None or isinstance(config, cls):
            return config
        return cls(
            config.url,
            config.params,
            config.headers,
            config.basic_auth,
            config.token,
            config.token_name,
            config.cafile,
            **config.kwargs,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionEndpoint:
        return cls(**data)

    def copy(self) -> ActionEndpoint:
        copied = type(self)(
            self.url,
            self.params,
            self.headers,
            self.basic_auth,
            self.token,
            self.token_name,
            self.cafile,
            **self.kwargs,
        )
        copied.timeout, copied.breaker = self.timeout, self.breaker  # one action server
        return copied

    async def request(
        self,
        method: str = "post",
        subpath: str | None = None,
        content_type: str | None = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Rasa's request, within our timeout (Rasa passes its own 300 s) and the breaker."""
        self.breaker.before_call()
        kwargs["timeout"] = aiohttp.ClientTimeout(total=self.timeout)
        try:
            result = await super().request(method, subpath, content_type, compress, **kwargs)
        except asyncio.TimeoutError as error:  # aiohttp's ServerTimeoutError too
            self.breaker.failed()
            raise ActionTimeout(
                f"The action server did not answer within {self.timeout:g} s"
            ) from error
        except ClientResponseError as error:  # answered: only its own errors count
            if error.status >= 500:
                self.breaker.failed()
            else:
                self.breaker.succeeded()
            raise
        except aiohttp.ClientError:  # connection refused or reset, bad answers
            self.breaker.failed()
            raise
        except BaseException:  # cancelled, or failed before asking (e.g. a missing cafile)
            self.breaker.abandoned()
            raise
        self.breaker.succeeded()
        return result

    def _client_session(self) -> aiohttp.ClientSession:
        """What Rasa's `EndpointConfig.session` builds, with a keep-alive connector, kept for
        the running event loop (a session cannot move between loops)."""
        kept = self._kept
        loop = asyncio.get_running_loop()
        if kept is None or kept.closed or self._kept_loop is not loop:
            auth = None
            if self.basic_auth:
                auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
            kept = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(
                    limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS
                ),
            )
            self._kept, self._kept_loop = kept, loop
        return kept

    @asynccontextmanager
    async def _shared(self) -> AsyncIterator[aiohttp.ClientSession]:
        yield self._client_session()  # left open for the next call

    def session(self) -> Any:
        """Used by Rasa's `request` as `async with self.session() as session`."""
        return self._shared()

    async def close(self) -> None:
        """Close the kept connections (when the server stops)."""
        if self._kept is not None and not self._kept.closed:
            await self._kept.close()
        self._kept = self._kept_loop = None
