"""The Redis lock store: one message of a conversation at a time, across instances."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.lock_store import LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_adapter.lock_store import AtomicRedisLockStore
from bot.rasa_adapter.persistence import lock_store_endpoint


def _store(redis_space: tuple[str, str]) -> AtomicRedisLockStore:
    url, prefix = redis_space
    store = LockStore.create(EndpointConfig.from_dict(lock_store_endpoint(url, prefix)))
    assert isinstance(store, AtomicRedisLockStore)
    return store


def test_rasas_redis_store_hands_out_one_ticket_twice(redis_space: tuple[str, str]) -> None:
    """Why our lock store exists: two instances reading the lock before either writes it back."""
    url, prefix = redis_space
    host, port = url.split("//")[1].split("/")[0].split(":")
    first = RedisLockStore(host=host, port=int(port), db=0, key_prefix=prefix)
    second = RedisLockStore(host=host, port=int(port), db=0, key_prefix=prefix)
    lock_a, lock_b = first.get_or_create_lock("c"), second.get_or_create_lock("c")
    ticket_a, ticket_b = lock_a.issue_ticket(60), lock_b.issue_ticket(60)
    first.save_lock(lock_a)
    second.save_lock(lock_b)
    assert ticket_a == ticket_b  # both instances now believe it is their turn


async def test_one_holder_at_a_time_in_arrival_order(redis_space: tuple[str, str]) -> None:
    instances = [_store(redis_space), _store(redis_space)]  # as if two Rasa servers
    inside: list[int] = []
    order: list[int] = []
    overlap = False

    async def message(number: int) -> None:
        nonlocal overlap
        async with instances[number % 2].lock("conversation"):
            inside.append(number)
            overlap = overlap or len(inside) > 1
            order.append(number)
            await asyncio.sleep(0.01)
            inside.remove(number)

    tasks = []
    for number in range(20):
        tasks.append(asyncio.create_task(message(number)))
        await asyncio.sleep(0.01)  # tickets are drawn in this order
    await asyncio.gather(*tasks)
    assert not overlap
    assert order == list(range(20))


async def test_other_conversations_do_not_wait(redis_space: tuple[str, str]) -> None:
    store = _store(redis_space)

    async def other() -> None:
        async with store.lock("free"):
            pass

    async with store.lock("busy"):
        await asyncio.wait_for(other(), timeout=1)


async def test_a_crashed_holder_blocks_only_until_its_lifetime(
    redis_space: tuple[str, str],
) -> None:
    store = _store(redis_space)
    await store.issue("c", lifetime=0.3)  # an instance took a ticket and died
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with store.lock("c", lock_lifetime=5):
        waited = loop.time() - started
    assert 0.2 < waited < 2


async def test_a_waiter_whose_ticket_expired_gives_up(redis_space: tuple[str, str]) -> None:
    store = _store(redis_space)
    holder = await store.issue("c", lifetime=5)
    with pytest.raises(LockError):
        async with store.lock("c", lock_lifetime=0.2):
            pass
    await store.release("c", holder)
    async with store.lock("c"):  # and the conversation carries on afterwards
        pass


async def test_a_stalled_redis_fails_the_message_instead_of_holding_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Redis that takes connections but never answers (stopped, say): the lock call fails
    after the socket timeout (the client is then told the message was not taken)."""
    import socket

    import redis

    from bot.rasa_adapter import lock_store

    monkeypatch.setattr(lock_store, "SOCKET_TIMEOUT_SECONDS", 0.5)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes connections; nobody ever reads them
        store = AtomicRedisLockStore(host="127.0.0.1", port=silent.getsockname()[1])
        with pytest.raises(redis.exceptions.TimeoutError):
            await asyncio.wait_for(store.issue("client", 10), timeout=60)  # a hang guard
        await store.redis.close()


async def test_a_lock_redis_could_not_release_does_not_fail_the_message(
    redis_space: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis stalls just after the message was handled: the client still gets the answer (the
    ticket expires by itself), rather than being told the message was not taken."""
    import redis

    store = _store(redis_space)

    async def stalled(*_: object) -> None:
        raise redis.exceptions.TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(store, "release", stalled)
    handled = []
    async with store.lock("client", lock_lifetime=1):
        handled.append(True)
    assert handled == [True]
    await store.redis.close()


async def test_a_ticket_taken_while_redis_stalled_is_abandoned(
    redis_space: tuple[str, str],
) -> None:
    """A ticket call that timed out can still run once Redis resumes; nobody waits for that
    ticket, so abandoning its token must free the conversation (not after the lifetime), and a
    ticket call that runs only after the abandon must take nothing."""
    store = _store(redis_space)
    ghost = await store.issue("client", 600, token="ghost")  # ran after the client gave up
    await store.abandon("client", "ghost", 600)
    async with store.lock("client", lock_lifetime=600):  # not held for 600 s by the ghost
        pass
    await store.abandon("client", "late", 600)  # abandoned before its call ran
    assert await store.issue("client", 600, token="late") == -1
    assert ghost > 0
    await store.redis.close()


async def test_a_redis_error_while_waiting_lets_the_ticket_go(
    redis_space: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    store = _store(redis_space)
    real_turn = store.my_turn

    async def stalled(*_: object) -> int:
        raise redis.exceptions.TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(store, "my_turn", stalled)
    with pytest.raises(redis.exceptions.TimeoutError):
        async with store.lock("client", lock_lifetime=600):
            pass
    monkeypatch.setattr(store, "my_turn", real_turn)

    async def next_message() -> None:
        async with store.lock("client", lock_lifetime=600):
            pass

    await asyncio.wait_for(next_message(), timeout=60)  # a hang guard: the ghost lives 600 s
    await store.redis.close()
