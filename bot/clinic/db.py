"""Engines built lazily from configuration, and short-lived sessions per request.

Every engine waits for the database at most DATABASE_TIMEOUT_SECONDS (default 5) — for a
connection, a lock or a statement — and then fails with the driver's error, which the caller
turns into a polite answer; the transaction is rolled back, so a stalled database leaves nothing
half-written. Pooled connections are pinged before use, so a database that comes back is used
again without restarting anything.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine, make_url
from sqlalchemy.orm import Session, declarative_base, sessionmaker

Base = declarative_base()


TIMEOUT_VARIABLE = "DATABASE_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT_SECONDS = 5.0


def database_timeout(env: Mapping[str, str] | None = None) -> float:
    """Seconds a database call may wait (connect, lock, statement) before it counts as failed."""
    raw = (os.environ if env is None else env).get(TIMEOUT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{TIMEOUT_VARIABLE} must be a positive number of seconds, e.g. 5")
    return value


@lru_cache(maxsize=8)
def get_engine(url: str, timeout: float | None = None) -> Engine:
    """One pooled engine per URL, created on first use rather than at import time; `timeout`
    defaults to DATABASE_TIMEOUT_SECONDS as it is when the engine is made."""
    parsed = make_url(url)
    seconds = database_timeout() if timeout is None else timeout
    kwargs: dict[str, Any] = {"future": True, "pool_pre_ping": True}
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Several processes (Rasa, the action server, staff CLI) share one file: wait for a lock
        # a while instead of failing at once, but not for ever.
        kwargs["connect_args"] = {"timeout": seconds, "check_same_thread": False}
    elif backend == "postgresql" and parsed.get_driver_name() == "psycopg2":
        kwargs["connect_args"] = postgres_timeouts(seconds, parsed.query.get("options"))
    engine = create_engine(url, **kwargs)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(seconds))
    return engine


def postgres_timeouts(
    seconds: float, options: str | tuple[str, ...] | None = None
) -> dict[str, Any]:
    """libpq settings: give up connecting, waiting for a lock or running a statement after
    `seconds`; and notice a server that vanished (a dead host, a cut network) through TCP
    keepalives instead of waiting on its socket for ever. Options from the URL are kept."""
    ms = max(1, round(seconds * 1000))
    own = f"-c statement_timeout={ms} -c lock_timeout={ms}"
    given = " ".join(options) if isinstance(options, tuple) else (options or "")
    return {
        "connect_timeout": max(2, math.ceil(seconds)),  # libpq: whole seconds, 2 at least
        "options": f"{given} {own}".strip(),
        "keepalives": 1,
        "keepalives_idle": max(1, math.ceil(seconds)),
        "keepalives_interval": 1,
        "keepalives_count": 3,
        "tcp_user_timeout": ms,
    }


def _sqlite_pragmas(seconds: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={max(1, round(seconds * 1000))}")
        cursor.close()

    return on_connect


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction per unit of work: committed on success, rolled back on any error."""
    factory = sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema up to date with Alembic (creates the database on first run)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["engine"] = get_engine(url)
    command.upgrade(config, revision)
