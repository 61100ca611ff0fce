"""A Redis lock store that really serialises a conversation across Rasa instances.

Rasa 3.6's `RedisLockStore` issues tickets by reading the lock, adding a ticket and writing it
back: two instances receiving messages of one conversation at the same moment can both get the
same ticket, process the messages at the same time, and the SQL tracker store then drops one
message's events (it appends "events it has not stored yet", counted, not identified). Our
scale-out test reproduced that; Rasa's maintainers know the issue (their fix went to the paid
edition). This store keeps Rasa's ticket idea but makes every step atomic in Redis:

- a ticket is `INCR next` plus a marker key that expires after the lock lifetime, in one Lua call;
- a ticket is served when `serving` reaches it; tickets whose marker expired (an instance that
  died mid-message) are skipped, so a crash never blocks a conversation for longer than that;
- releasing deletes the marker and moves `serving` on, again in one call;
- a ticket taken while Redis stalled is abandoned once Redis answers again: a call that timed out
  may still run when Redis resumes (it was already sent), and its ticket, which nobody waits
  for, would hold the conversation for the whole lock lifetime. Each ticket is taken with a
  token of its own; abandoning the token deletes the ticket's marker, or, if the ticket has not
  been taken yet, makes sure it never is.

Waiters poll every 20 ms (Rasa's store polls every second, which a client feels). It is selected
by `persistence` when REDIS_URL is set, as
`type: bot.rasa_adapter.lock_store.AtomicRedisLockStore`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

IDLE_SECONDS = 3600  # counters of a quiet conversation are forgotten after this
POLL_SECONDS = 0.02

# KEYS: next, serving, token; ARGV: marker prefix, lifetime ms, idle seconds
# → ticket number, or -1 if the token was abandoned before the ticket was taken
_ISSUE = """
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local ticket = redis.call('INCR', KEYS[1])
redis.call('SET', ARGV[1] .. ticket, '1', 'PX', ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ticket) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ticket, 'PX', ARGV[2])
return ticket
"""

# KEYS: token; ARGV: marker prefix, lifetime ms. The token's ticket (if taken) is skipped from
# now on; a ticket not taken yet never will be.
_ABANDON = """
local ticket = redis.call('GET', KEYS[1])
if ticket and ticket ~= 'abandoned' then redis.call('DEL', ARGV[1] .. ticket) end
redis.call('SET', KEYS[1], 'abandoned', 'PX', ARGV[2])
return 1
"""
ABANDON_FOR_SECONDS = 600  # how long to keep trying to reach Redis to abandon a ticket

# KEYS: serving; ARGV: marker prefix, my ticket → 1 my turn, 0 wait, -1 my ticket expired
_TURN = """
local mine = tonumber(ARGV[2])
if redis.call('EXISTS', ARGV[1] .. mine) == 0 then return -1 end
local serving = tonumber(redis.call('GET', KEYS[1]) or ARGV[2])
while serving < mine and redis.call('EXISTS', ARGV[1] .. serving) == 0 do
  serving = serving + 1
end
redis.call('SET', KEYS[1], serving, 'KEEPTTL')
if serving == mine then return 1 end
return 0
"""

# KEYS: serving; ARGV: marker prefix, my ticket
_RELEASE = """
redis.call('DEL', ARGV[1] .. ARGV[2])
if tonumber(redis.call('GET', KEYS[1]) or '0') == tonumber(ARGV[2]) then
  redis.call('INCR', KEYS[1])
end
return 1
"""


# Seconds a Redis call may take (Rasa's own Redis store waits 10): the lock store is on every
# message's path, so a stalled Redis must fail it well within a client's patience.
SOCKET_TIMEOUT_SECONDS = 5.0


class AtomicRedisLockStore(LockStore):
    """Per-conversation FIFO lock in Redis, safe with several Rasa instances and workers."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        use_ssl: bool = False,
        key_prefix: str | None = None,
        **_: Any,
    ) -> None:
        import redis.asyncio

        if endpoint_config is not None:
            settings = dict(endpoint_config.kwargs)
            host = endpoint_config.url or host
            port = int(settings.get("port", port))
            db = int(settings.get("db", db))
            username = settings.get("username", username)
            password = settings.get("password", password)
            use_ssl = bool(settings.get("use_ssl", use_ssl))
            key_prefix = settings.get("key_prefix", key_prefix)
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        self.redis = redis.asyncio.Redis(
            host=host, port=port, db=db, username=username, password=password, ssl=use_ssl,
            # A stalled Redis fails the message (the client is told it was not taken) instead
            # of holding it for ever (a timeout is not retried: that would double the wait); a
            # connection Redis dropped (a restart) is retried once on a new one.
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )  # fmt: skip
        self.prefix = f"{key_prefix}:lock2:" if key_prefix else "lock2:"
        self._issue = self.redis.register_script(_ISSUE)
        self._turn = self.redis.register_script(_TURN)
        self._release = self.redis.register_script(_RELEASE)
        self._abandon = self.redis.register_script(_ABANDON)
        self._abandoning: set[asyncio.Task] = set()
        super().__init__()

    def _keys(self, conversation_id: str) -> tuple[str, str, str]:
        base = f"{self.prefix}{conversation_id}"
        return f"{base}:next", f"{base}:serving", f"{base}:ticket:"

    def _token_key(self, conversation_id: str, token: str) -> str:
        return f"{self.prefix}{conversation_id}:token:{token}"

    async def issue(self, conversation_id: str, lifetime: float, token: str = "") -> int:
        next_key, serving_key, marker = self._keys(conversation_id)
        milliseconds = max(1, int(lifetime * 1000))
        token_key = self._token_key(conversation_id, token or secrets.token_hex(8))
        return int(
            await self._issue(
                keys=[next_key, serving_key, token_key],
                args=[marker, milliseconds, IDLE_SECONDS],
            )
        )

    async def my_turn(self, conversation_id: str, ticket: int) -> int:
        _, serving_key, marker = self._keys(conversation_id)
        return int(await self._turn(keys=[serving_key], args=[marker, ticket]))

    async def release(self, conversation_id: str, ticket: int) -> None:
        _, serving_key, marker = self._keys(conversation_id)
        await self._release(keys=[serving_key], args=[marker, ticket])

    async def abandon(self, conversation_id: str, token: str, lifetime: float) -> None:
        """The ticket taken with `token` no longer holds the conversation (see the module)."""
        _, _, marker = self._keys(conversation_id)
        await self._abandon(
            keys=[self._token_key(conversation_id, token)],
            args=[marker, max(1, int(lifetime * 1000))],
        )

    def abandon_later(self, conversation_id: str, token: str, lifetime: float) -> None:
        """Abandon the ticket as soon as Redis answers again, in the background."""

        async def keep_trying() -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + ABANDON_FOR_SECONDS
            while loop.time() < deadline:
                try:
                    await self.abandon(conversation_id, token, lifetime)
                    return
                except RedisError:
                    await asyncio.sleep(0.5)
            logger.warning("Could not abandon a lock ticket: Redis did not answer")

        task = asyncio.get_running_loop().create_task(keep_trying())
        self._abandoning.add(task)
        task.add_done_callback(self._abandoning.discard)

    @asynccontextmanager
    async def lock(  # type: ignore[override]
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = POLL_SECONDS,
    ) -> AsyncIterator[TicketLock]:
        token = secrets.token_hex(8)
        try:
            ticket = await self.issue(conversation_id, lock_lifetime, token)
            while True:
                turn = await self.my_turn(conversation_id, ticket)
                if turn == 1:
                    break
                if turn == -1:  # our own marker expired while we waited
                    raise LockError(
                        f"Waited longer than {lock_lifetime} s for conversation "
                        f"'{conversation_id}'; the message was not processed."
                    )
                await asyncio.sleep(min(wait_time_in_seconds, POLL_SECONDS))
        except RedisError:
            # Redis stalled or went away: the message fails (the client is told), and the ticket
            # it may have taken is let go once Redis is back, not after the whole lifetime.
            self.abandon_later(conversation_id, token, lock_lifetime)
            raise
        try:
            yield TicketLock(conversation_id)
        finally:
            try:
                await self.release(conversation_id, ticket)
            except RedisError as error:
                # The message was handled (and its answer is on its way): not a reason to tell
                # the client otherwise.
                logger.warning("Could not release a conversation's lock (%s)", error)
                self.abandon_later(conversation_id, token, lock_lifetime)

    # Rasa's synchronous ticket API is not used with this store (everything goes through
    # `lock`); these keep the abstract interface satisfied without pretending to work.
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return None

    def delete_lock(self, conversation_id: str) -> None:
        return None

    def save_lock(self, lock: TicketLock) -> None:
        return None
