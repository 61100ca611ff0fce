"""Free slots from opening hours, session length, slot grid and therapists, minus bookings."""

from __future__ import annotations

from datetime import date

from bot.clinic.booking.availability import Availability, occupied_slots
from bot.clinic.booking.service import BookingService
from bot.clinic.facts import Clinic
from tests.support.clinics import Clock, local, utc


def test_grid_respects_hours_length_and_notice(
    clinic: Clinic, database_url: str, clock: Clock
) -> None:
    availability = Availability(clinic, database_url, clock)
    long = clinic.service("back-60")
    assert long is not None
    friday = availability.free_slots(long, date(2025, 11, 21))
    assert friday[0] == local(2025, 11, 21, 9, 0)
    assert friday[-1] == local(2025, 11, 21, 17, 0)
    assert len(friday) == (17 - 9) * 4 + 1
    # Today (Wednesday 10:00) with 2 hours' notice: the first start is 12:00.
    assert availability.free_slots(long, date(2025, 11, 19))[0] == local(2025, 11, 19, 12, 0)
    assert availability.free_slots(long, date(2025, 11, 23)) == []  # Sunday
    assert availability.free_slots(long, date(2025, 12, 25)) == []  # closed date


def test_occupied_slots_cover_the_whole_session(clinic: Clinic) -> None:
    slots = occupied_slots(clinic, local(2025, 11, 21, 10, 0), 50)
    assert slots == [utc(2025, 11, 21, 10, m) for m in (0, 15, 30, 45)]


def test_a_booking_blocks_overlapping_starts_for_its_therapist(
    solo_clinic: Clinic, database_url: str, clock: Clock
) -> None:
    service = BookingService(solo_clinic, database_url, clock=clock)
    booked = service.create("back-60", local(2025, 11, 21, 10, 0), "Jo Bloggs", "07911 123456")
    assert booked.ok
    availability = Availability(solo_clinic, database_url, clock)
    short = solo_clinic.service("back-30")
    assert short is not None
    free = set(availability.free_slots(short, date(2025, 11, 21)))
    assert local(2025, 11, 21, 9, 30) in free  # ends 10:00, just as the booking starts
    for minute in (9, 45), (10, 0), (10, 15), (10, 30), (10, 45):
        assert local(2025, 11, 21, *minute) not in free
    assert local(2025, 11, 21, 11, 0) in free


def test_nearest_free_slots_either_side(
    solo_clinic: Clinic, database_url: str, clock: Clock
) -> None:
    service = BookingService(solo_clinic, database_url, clock=clock)
    assert service.create("back-30", local(2025, 11, 21, 15, 0), "Jo Bloggs", "07911 123456").ok
    availability = Availability(solo_clinic, database_url, clock)
    short = solo_clinic.service("back-30")
    assert short is not None
    nearest = availability.nearest_free_slots(short, local(2025, 11, 21, 15, 0))
    # 14:45 would overlap; 14:15 and 15:45 tie at 45 minutes away and the earlier one wins.
    assert nearest == [
        local(2025, 11, 21, 14, 15),
        local(2025, 11, 21, 14, 30),
        local(2025, 11, 21, 15, 30),
    ]


def test_nearest_free_slots_from_a_closed_day_or_after_hours(
    clinic: Clinic, database_url: str, clock: Clock
) -> None:
    availability = Availability(clinic, database_url, clock)
    short = clinic.service("back-30")
    assert short is not None
    sunday = availability.nearest_free_slots(short, local(2025, 11, 23, 11, 0))
    # Saturday's last 30-minute start (12:30) is 22.5 hours away, Monday 09:00 only 22.
    assert sunday == [local(2025, 11, 22, 12, 30), local(2025, 11, 24, 9, 0),
                      local(2025, 11, 24, 9, 15)]  # fmt: skip
    late = availability.nearest_free_slots(short, local(2025, 11, 21, 20, 0), n=2)
    assert late == [local(2025, 11, 21, 17, 15), local(2025, 11, 21, 17, 30)]


def test_nearest_free_slots_stay_within_the_booking_window(
    clinic: Clinic, database_url: str, clock: Clock
) -> None:
    availability = Availability(clinic, database_url, clock)
    short = clinic.service("back-30")
    assert short is not None
    too_soon = availability.nearest_free_slots(short, local(2025, 11, 19, 10, 0))
    assert too_soon[0] == local(2025, 11, 19, 12, 0)
    too_far = availability.nearest_free_slots(short, local(2026, 6, 1, 10, 0))
    assert all(s.date() <= date(2026, 1, 18) for s in too_far) and len(too_far) == 3
