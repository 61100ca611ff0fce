"""Fixtures for the booking tests: a clinic built in code, a fixed clock, fresh databases."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clinic.db import get_engine, migrate
from bot.clinic.facts import Clinic, parse_clinic

LONDON = ZoneInfo("Europe/London")
# A Wednesday morning: "Friday" is two days ahead, "next tues" six.
NOW = datetime(2025, 11, 19, 10, 0, tzinfo=LONDON)
PG_ADMIN_URLS = (
    os.environ.get("MASSAGEBOT_TEST_POSTGRES", ""),
    "postgresql://postgres@127.0.0.1:5432/postgres",
    "postgresql://root@127.0.0.1:5432/postgres",
    "postgresql://postgres@127.0.0.1:5432/test",
)


def clinic_data(**overrides: Any) -> dict[str, Any]:
    weekday = {"open": "09:00", "close": "18:00"}
    data: dict[str, Any] = {
        "name": "Test Back Clinic",
        "phone": "+44 20 7946 0123",
        "email": "hello@example.com",
        "address": "1 Example Street, Chelmsford CM1 1AA",
        "timezone": "Europe/London",
        "region": "GB",
        "opening_hours": {
            "monday": weekday,
            "tuesday": weekday,
            "wednesday": weekday,
            "thursday": weekday,
            "friday": weekday,
            "saturday": {"open": "09:00", "close": "13:00"},
            "sunday": None,
        },
        "services": [
            {"id": "back-30", "name": "Back massage (30 minutes)", "massage_type": "back",
             "duration_minutes": 30, "price": 35.0},
            {"id": "back-60", "name": "Back massage (60 minutes)", "massage_type": "back",
             "duration_minutes": 60, "price": 55.0},
        ],
        "therapists": [{"id": "alex", "name": "Alex"}, {"id": "sam", "name": "Sam"}],
        "booking": {
            "slot_interval_minutes": 15,
            "min_notice_minutes": 120,
            "max_days_ahead": 60,
            "closed_dates": ["2025-12-25", "2025-12-26"],
        },
    }  # fmt: skip
    data.update(overrides)
    return data


class Clock:
    """A settable clock, so rules and retries can be tested without sleeping."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture()
def clinic() -> Clinic:
    return parse_clinic(clinic_data(), source="test clinic")


@pytest.fixture()
def solo_clinic() -> Clinic:
    """One therapist: one booking per slot."""
    return parse_clinic(clinic_data(therapists=[{"id": "alex", "name": "Alex"}]))


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def db_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'booking.db'}"
    migrate(url)
    yield url
    get_engine(url).dispose()


def _pg_admin() -> tuple[Any, str] | None:
    import psycopg2

    for url in filter(None, PG_ADMIN_URLS):
        try:
            connection = psycopg2.connect(url, connect_timeout=3)
        except psycopg2.Error:
            continue
        connection.autocommit = True
        return connection, url
    return None


@pytest.fixture()
def pg_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for one test, dropped afterwards."""
    pytest.importorskip("psycopg2")
    admin = _pg_admin()
    if admin is None:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (set MASSAGEBOT_TEST_POSTGRES)")
    connection, admin_url = admin
    name = f"massagebot_test_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate(url)
        yield url
    finally:
        get_engine(url).dispose()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)
