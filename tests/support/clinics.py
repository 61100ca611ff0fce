"""A clinic built in code with known opening hours, services and therapists (two of them), and a
settable clock fixed on a Wednesday morning in London: booking rules can be tested exactly,
whatever the sample clinic in data/clinic.yml says."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from tests.support import ROOT

SAMPLE_CLINIC_FILE = ROOT / "data" / "clinic.yml"
LONDON = ZoneInfo("Europe/London")
# A Wednesday morning: "Friday" is two days ahead, "next tues" six.
NOW = datetime(2025, 11, 19, 10, 0, tzinfo=LONDON)


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


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)
