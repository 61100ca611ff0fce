"""How the Rasa server calls the action server: Rasa's `EndpointConfig`, keeping connections.

Rasa's `EndpointConfig.request` builds a new `aiohttp.ClientSession` — a new TCP connection —
for every action call. `ActionEndpoint` keeps one session per event loop: connections stay
alive between calls, and idle ones are dropped after 4 s, before the action server's 5 s
keep-alive would close them under us. Requests, headers, authentication, timeouts and errors are
Rasa's own.

The server (`server.read_endpoints`) and the staff shell build the action endpoint with this
class; Rasa then calls it like its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

# Idle connections are closed after this, below the action server's keep-alive (5 s).
KEEPALIVE_SECONDS = 4
MAX_CONNECTIONS = 32


class ActionEndpoint(EndpointConfig):
    """Rasa's `EndpointConfig` whose requests share one HTTP session (kept connections)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: aiohttp.ClientSession | None = None
        self._kept_loop: asyncio.AbstractEventLoop | None = None

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
        return type(self)(
            self.url,
            self.params,
            self.headers,
            self.basic_auth,
            self.token,
            self.token_name,
            self.cafile,
            **self.kwargs,
        )

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
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
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
