"""A stalled database (another session holding a lock) makes a booking fail with a clear error
after DATABASE_TIMEOUT_SECONDS, with nothing written; once the lock is gone the same engine
books again. On PostgreSQL and on SQLite."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import psycopg2
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.clinic.booking.service import BookingService
from bot.clinic.db import database_timeout, get_engine, postgres_timeouts, session_scope
from bot.clinic.facts import Clinic
from bot.clinic.models import Booking, BookingSlot, OutboxMessage

NOW = datetime(2030, 3, 4, 8, 0, tzinfo=timezone.utc)  # a Monday morning


@pytest.fixture()
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Engines made from here on wait one second for the database."""
    monkeypatch.setenv("DATABASE_TIMEOUT_SECONDS", "1")
    get_engine.cache_clear()
    yield
    get_engine.cache_clear()


def finishes(call: Callable[[], Any], deadline: float = 60.0) -> Any:
    """`call()` in a thread: its result, or the error it raised. Without a database timeout it
    would wait for the lock until the test gives up here (a hang guard, not a speed check)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(deadline)
    assert not thread.is_alive(), "the booking waited for the lock instead of failing"
    return outcome.get("error", outcome.get("value"))


def rows(database_url: str) -> tuple[int, ...]:
    with session_scope(database_url) as session:
        return tuple(
            session.execute(select(func.count()).select_from(model)).scalar() or 0
            for model in (Booking, BookingSlot, OutboxMessage)
        )


def book(clinic: Clinic, database_url: str) -> Callable[[], Any]:
    start = datetime(2030, 3, 5, 10, 0, tzinfo=clinic.timezone)  # Tuesday 10:00
    service = BookingService(clinic, database_url, clock=lambda: NOW)
    return lambda: service.create(clinic.services[0].id, start, "Ada Lovelace", "ada@example.org")


@pytest.mark.parametrize(
    ("table", "mode"),
    [
        ("booking_slots", "EXCLUSIVE"),  # writes wait: the booking row goes in, its slots cannot
        ("bookings", "ACCESS EXCLUSIVE"),  # even reading availability waits
    ],
)
def test_a_locked_postgresql_table_fails_the_booking_and_writes_nothing(
    postgres_url: str, clinic: Clinic, short_timeout: None, table: str, mode: str
) -> None:
    create = book(clinic, postgres_url)
    holder = psycopg2.connect(make_url(postgres_url).render_as_string(hide_password=False))
    try:
        with holder.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN {mode} MODE")  # in a transaction left open
        error = finishes(create)
        assert isinstance(error, OperationalError), error
        assert "due to lock timeout" in str(error) or "due to statement timeout" in str(error)
    finally:
        holder.rollback()
        holder.close()
    assert rows(postgres_url) == (0, 0, 0)
    outcome = finishes(create)  # the same engine, the lock gone
    assert outcome.ok, outcome
    bookings, slots, _ = rows(postgres_url)
    assert bookings == 1 and slots >= 1


def test_a_long_statement_is_cancelled(postgres_url: str, short_timeout: None) -> None:
    with (
        pytest.raises(OperationalError, match="statement timeout"),
        session_scope(postgres_url) as session,
    ):
        session.execute(select(func.pg_sleep(30)))
    with session_scope(postgres_url) as session:  # the pool still works
        assert session.execute(select(1)).scalar() == 1


def test_a_locked_sqlite_database_fails_the_booking_and_writes_nothing(
    database_url: str, clinic: Clinic, short_timeout: None
) -> None:
    create = book(clinic, database_url)
    holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held
        error = finishes(create)
        assert isinstance(error, OperationalError), error
        assert "database is locked" in str(error)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert rows(database_url) == (0, 0, 0)
    outcome = finishes(create)
    assert outcome.ok, outcome
    bookings, slots, _ = rows(database_url)
    assert bookings == 1 and slots >= 1


def test_the_timeout_is_read_from_the_environment() -> None:
    assert database_timeout({}) == 5.0
    assert database_timeout({"DATABASE_TIMEOUT_SECONDS": " 2.5 "}) == 2.5
    for wrong in ("0", "-1", "soon", "nan", "inf"):
        with pytest.raises(ValueError, match="DATABASE_TIMEOUT_SECONDS must be a positive"):
            database_timeout({"DATABASE_TIMEOUT_SECONDS": wrong})


def test_postgresql_gets_every_timeout_and_keeps_the_urls_options() -> None:
    settings = postgres_timeouts(2.5, "-c search_path=clinic")
    assert settings["connect_timeout"] == 3
    assert settings["options"] == (
        "-c search_path=clinic -c statement_timeout=2500 -c lock_timeout=2500"
    )
    assert settings["keepalives"] == 1
    assert postgres_timeouts(0.5)["connect_timeout"] == 2  # libpq's least
