"""50 clients racing for one slot: the database constraint lets exactly one through.

Run on SQLite (a temporary file, several connections) and on PostgreSQL (a fresh database).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from bot.clinic.booking.service import BookingOutcome, BookingService
from bot.clinic.db import get_engine, session_scope
from bot.clinic.facts import Clinic
from bot.clinic.models import Booking, BookingSlot
from tests.support.clinics import Clock, local

ATTEMPTS = 50
SLOT = local(2025, 11, 21, 15, 0)


def race(
    clinic: Clinic, url: str, clock: Clock, starts: list[datetime], service_id: str = "back-60"
) -> list[BookingOutcome]:
    """Every attempt waits at a barrier, then all call `create` at once, each with its own
    service object and therefore its own sessions and connections."""
    barrier = threading.Barrier(len(starts))

    def attempt(index: int) -> BookingOutcome:
        service = BookingService(clinic, url, clock=clock)
        barrier.wait()
        return service.create(
            service_id, starts[index], f"Client {chr(65 + index % 26)}", f"c{index}@example.com"
        )

    with ThreadPoolExecutor(max_workers=len(starts)) as pool:
        return list(pool.map(attempt, range(len(starts))))


def stored(url: str) -> tuple[int, int]:
    with session_scope(url) as session:
        bookings = session.execute(select(func.count()).select_from(Booking)).scalar_one()
        slots = session.execute(select(func.count()).select_from(BookingSlot)).scalar_one()
        return int(bookings), int(slots)


class ConstraintViolations:
    """Counts unique-constraint errors the database raised: proof that losers were stopped by
    the constraint on insert, not turned away by an earlier read."""

    def __init__(self, url: str) -> None:
        self.count = 0
        self.lock = threading.Lock()
        event.listen(get_engine(url), "handle_error", self._seen)

    def _seen(self, context: object) -> None:
        if isinstance(getattr(context, "sqlalchemy_exception", None), IntegrityError):
            with self.lock:
                self.count += 1


def check_exactly_one(clinic: Clinic, url: str, clock: Clock) -> None:
    violations = ConstraintViolations(url)
    outcomes = race(clinic, url, clock, [SLOT] * ATTEMPTS)
    booked = [o for o in outcomes if o.code == "booked"]
    assert len(booked) == 1, [o.code for o in outcomes]
    assert all(o.code == "taken" for o in outcomes if o.code != "booked")
    assert stored(url) == (1, 4)
    assert violations.count == ATTEMPTS - 1


def test_fifty_attempts_one_booking_sqlite(
    solo_clinic: Clinic, database_url: str, clock: Clock
) -> None:
    check_exactly_one(solo_clinic, database_url, clock)


@pytest.mark.services
def test_fifty_attempts_one_booking_postgres(
    solo_clinic: Clinic, postgres_url: str, clock: Clock
) -> None:
    check_exactly_one(solo_clinic, postgres_url, clock)


def test_overlapping_starts_also_race_safely(
    solo_clinic: Clinic, database_url: str, clock: Clock
) -> None:
    # 14:15, 14:30, 14:45, 15:00: different starts, but every hour-long session covers
    # 15:00–15:15, so still only one can win.
    starts = [SLOT - timedelta(minutes=15 * (i % 4)) for i in range(20)]
    outcomes = race(solo_clinic, database_url, clock, starts)
    assert sum(o.code == "booked" for o in outcomes) == 1


def test_two_therapists_two_bookings_sqlite(
    clinic: Clinic, database_url: str, clock: Clock
) -> None:
    outcomes = race(clinic, database_url, clock, [SLOT] * ATTEMPTS)
    winners = [o.booking for o in outcomes if o.code == "booked"]
    assert len(winners) == 2
    assert {w.therapist_id for w in winners if w} == {"alex", "sam"}


@pytest.mark.services
def test_two_therapists_two_bookings_postgres(
    clinic: Clinic, postgres_url: str, clock: Clock
) -> None:
    outcomes = race(clinic, postgres_url, clock, [SLOT] * ATTEMPTS)
    assert sum(o.code == "booked" for o in outcomes) == 2
    assert stored(postgres_url) == (2, 8)
