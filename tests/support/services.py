"""PostgreSQL and Redis on loopback, as CI provides them: a fresh database or a private key
space per test. A test that needs them FAILS with a message saying what to start when they
don't answer; it never skips, so a green run means they were tested.

`python -m tests.support.services` checks both and exits 1 with that message (`.ci/run`).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.clinic.db import get_engine, migrate

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class ServiceUnavailable(RuntimeError):
    """A service the tests need does not answer."""


def _where(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or ''}".rstrip(":")


def _reason(error: Exception) -> str:
    """The driver's own first line, without SQLAlchemy's wrapping."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def postgres_unreachable(error: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"PostgreSQL not reachable at {_where(POSTGRES_ADMIN_URL)} ({_reason(error)}). "
        "Start it (e.g. `service postgresql start`), or point TEST_POSTGRES_ADMIN_URL at a "
        "server where the tests may create and drop databases."
    )


def redis_unreachable(error: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"Redis not reachable at {_where(TEST_REDIS_URL)} ({_reason(error)}). Start it (e.g. "
        "`service redis-server start`), or point TEST_REDIS_URL at one."
    )


@contextmanager
def fresh_postgres(migrated: bool = True) -> Iterator[str]:
    """A new database (with our schema unless `migrated=False`), dropped afterwards together with
    any connection still open to it."""
    admin = create_engine(
        POSTGRES_ADMIN_URL,
        isolation_level="AUTOCOMMIT",
        future=True,
        connect_args={"connect_timeout": 5},
    )
    name = f"massagebot_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        raise postgres_unreachable(error) from error
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        if migrated:
            migrate(url)
        yield url
    finally:
        get_engine(url).dispose()
        get_engine.cache_clear()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def redis_client() -> Any:
    """A client of the test Redis that has answered a PING."""
    import redis

    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=5)
    try:
        client.ping()
    except Exception as error:
        client.close()
        raise redis_unreachable(error) from error
    return client


@contextmanager
def redis_space() -> Iterator[tuple[str, str]]:
    """(REDIS_URL, key prefix): keys under the prefix are deleted afterwards."""
    client = redis_client()
    prefix = f"test{uuid.uuid4().hex[:12]}"
    try:
        yield TEST_REDIS_URL, prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


def check() -> list[str]:
    """What does not answer, as messages for a person (empty when both do)."""
    problems = []
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 5})
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
        admin.dispose()
    except Exception as error:
        problems.append(str(postgres_unreachable(error)))
    try:
        redis_client().close()
    except ServiceUnavailable as error:
        problems.append(str(error))
    return problems


def main() -> int:
    problems = check()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(
            f"PostgreSQL ({_where(POSTGRES_ADMIN_URL)}) and Redis ({_where(TEST_REDIS_URL)}) answer"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
