"""The .ics invite parses back with icalendar and carries the right, time-zone-aware times."""

from __future__ import annotations

from datetime import timedelta, timezone

from icalendar import Calendar

from bot.clinic.booking.invite import build_invite
from bot.clinic.booking.service import BookingService
from bot.clinic.facts import Clinic
from tests.support.clinics import Clock, local, utc


def parse(ics: bytes) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(ics)
    [event] = [c for c in calendar.walk("VEVENT")]
    return calendar, event


def test_client_invite_round_trips(clinic: Clinic, database_url: str, clock: Clock) -> None:
    outcome = BookingService(clinic, database_url, clock=clock).create(
        "back-60", local(2025, 11, 21, 15, 0), "Jo Bloggs", "jo@example.com", note="lower back"
    )
    booking = outcome.booking
    assert booking is not None
    calendar, event = parse(build_invite(booking, clinic, "client", now=clock.now))
    assert str(calendar["method"]) == "REQUEST"
    start, end = event["dtstart"].dt, event["dtend"].dt  # type: ignore[index]
    assert start == local(2025, 11, 21, 15, 0) == utc(2025, 11, 21, 15, 0)
    assert end - start == timedelta(minutes=60)
    assert start.tzinfo is not None and event["dtstart"].params["TZID"] == "Europe/London"  # type: ignore[index]
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    assert str(event["uid"]) == f"{booking.reference.lower()}@example.com"  # type: ignore[index]
    assert str(event["summary"]) == "Back massage (60 minutes) at Test Back Clinic"  # type: ignore[index]
    assert str(event["location"]).startswith("1 Example Street")  # type: ignore[index]
    assert str(event["organizer"]) == "mailto:hello@example.com"  # type: ignore[index]
    assert str(event["attendee"]) == "mailto:jo@example.com"  # type: ignore[index]
    assert str(event["status"]) == "TENTATIVE"  # type: ignore[index]
    assert booking.reference in str(event["description"])  # type: ignore[index]


def test_clinic_invite_has_the_client_details(
    clinic: Clinic, database_url: str, clock: Clock
) -> None:
    booking = (
        BookingService(clinic, database_url, clock=clock)
        .create("back-30", local(2025, 11, 24, 9, 30), "Jo Bloggs", "07911 123456", note="neck")
        .booking
    )
    assert booking is not None
    _, event = parse(build_invite(booking, clinic, "clinic"))
    summary, description = str(event["summary"]), str(event["description"])  # type: ignore[index]
    assert "Jo Bloggs" in summary and booking.reference in summary
    assert "+447911123456" in description and "neck" in description
    assert "attendee" not in event  # a phone contact has no calendar address


def test_summer_time_and_cancellation(clinic: Clinic, database_url: str, clock: Clock) -> None:
    clock.now = local(2026, 6, 1, 9, 0)
    service = BookingService(clinic, database_url, clock=clock)
    booking = service.create(
        "back-30", local(2026, 6, 3, 11, 0), "Jo Bloggs", "jo@example.com"
    ).booking
    assert booking is not None
    _, event = parse(build_invite(booking, clinic))
    assert event["dtstart"].dt.astimezone(timezone.utc) == utc(2026, 6, 3, 10, 0)  # type: ignore[index]
    cancelled = service.cancel(booking.reference, "jo@example.com").booking
    assert cancelled is not None
    calendar, event = parse(build_invite(cancelled, clinic))
    assert str(calendar["method"]) == "CANCEL"
    assert str(event["status"]) == "CANCELLED"  # type: ignore[index]
    assert int(event["sequence"]) == 1  # type: ignore[index]
