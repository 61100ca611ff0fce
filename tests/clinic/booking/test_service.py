"""Storing bookings: references, capacity, access control on cancel and reschedule."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot.clinic.booking.booking_system import WebhookAdapter
from bot.clinic.booking.service import (
    NOT_FOUND,
    REFERENCE_ALPHABET,
    BookingService,
    new_reference,
    normalise_reference,
)
from bot.clinic.db import session_scope
from bot.clinic.facts import Clinic
from bot.clinic.models import Booking, BookingSlot, OutboxMessage
from tests.support.clinics import Clock, local, utc

FRIDAY_3PM = local(2025, 11, 21, 15, 0)
JO = ("Jo Bloggs", "07911 123456")
SAM = ("Sam Smith", "sam@example.com")


def count(database_url: str, model: type) -> int:
    with session_scope(database_url) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_references_are_short_unambiguous_and_random() -> None:
    references = {new_reference() for _ in range(500)}
    assert len(references) == 500
    for reference in references:
        assert re.fullmatch(r"MB-[A-Z2-9]{6}", reference)
        assert not set(reference[3:]) & set("01OIL")
        assert set(reference[3:]) <= set(REFERENCE_ALPHABET)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("MB-7K3Q9P", "MB-7K3Q9P"), ("mb 7k3q9p", "MB-7K3Q9P"), ("7K3Q9P", "MB-7K3Q9P"),
     ("MB-7K3Q9", None), ("", None), ("MB-7K3Q9P!", None)],
)  # fmt: skip
def test_normalise_reference(text: str, expected: str | None) -> None:
    assert normalise_reference(text) == expected


def test_create_stores_normalised_details_in_utc(
    clinic: Clinic, database_url: str, clock: Clock
) -> None:
    service = BookingService(clinic, database_url, clock=clock)
    outcome = service.create(
        "back-60", FRIDAY_3PM, "jo bloggs", "07911 123 456", note=" lower left side ",
        conversation_id="conv-1",
    )  # fmt: skip
    assert outcome.ok and outcome.code == "booked"
    booking = outcome.booking
    assert booking is not None
    assert booking.start == FRIDAY_3PM and booking.end == local(2025, 11, 21, 16, 0)
    assert (booking.client_name, booking.contact, booking.contact_kind) == (
        "Jo Bloggs", "+447911123456", "phone",
    )  # fmt: skip
    assert booking.note == "lower left side"
    assert booking.status == "pending" and booking.therapist_id == "alex"
    with session_scope(database_url) as session:
        row = session.execute(select(Booking)).scalar_one()
        assert row.start_at == utc(2025, 11, 21, 15, 0)
        assert row.conversation_id == "conv-1"
        slots = session.execute(select(BookingSlot.slot_start)).scalars().all()
        assert sorted(slots) == [utc(2025, 11, 21, 15, m) for m in (0, 15, 30, 45)]


def test_create_refuses_what_the_rules_forbid_with_alternatives(
    clinic: Clinic, database_url: str, clock: Clock
) -> None:
    service = BookingService(clinic, database_url, clock=clock)
    sunday = service.create("back-30", local(2025, 11, 23, 11, 0), *JO)
    assert sunday.code == "unavailable" and "Sundays" in sunday.message
    assert len(sunday.alternatives) == 3
    off_grid = service.create("back-30", local(2025, 11, 21, 15, 5), *JO)
    assert off_grid.code == "unavailable" and "every 15 minutes" in off_grid.message
    assert service.create("nope", FRIDAY_3PM, *JO).code == "invalid"
    assert "name" in service.create("back-30", FRIDAY_3PM, "123", JO[1]).message
    assert "phone" in service.create("back-30", FRIDAY_3PM, JO[0], "123").message
    assert count(database_url, Booking) == 0


def test_capacity_two_therapists_then_alternatives(
    clinic: Clinic, database_url: str, clock: Clock
) -> None:
    service = BookingService(clinic, database_url, clock=clock)
    first = service.create("back-60", FRIDAY_3PM, *JO)
    second = service.create("back-60", FRIDAY_3PM, *SAM)
    third = service.create("back-60", FRIDAY_3PM, "Ann Other", "ann@example.com")
    assert first.ok and second.ok
    assert {first.booking.therapist_id, second.booking.therapist_id} == {"alex", "sam"}  # type: ignore[union-attr]
    assert third.code == "taken" and not third.ok
    assert "already booked" in third.message
    # The nearest hour-long gaps: ending as the others start, starting as they end.
    assert list(third.alternatives) == [
        local(2025, 11, 21, 13, 45), local(2025, 11, 21, 14, 0), local(2025, 11, 21, 16, 0),
    ]  # fmt: skip
    # An overlapping (not identical) start is taken too: both therapists are busy until 16:00.
    overlap = service.create("back-30", local(2025, 11, 21, 15, 30), "Ann Other", "ann@example.com")
    assert overlap.code == "taken"
    assert count(database_url, Booking) == 2


def test_cancel_needs_reference_and_the_same_contact(
    clinic: Clinic, database_url: str, clock: Clock
) -> None:
    service = BookingService(clinic, database_url, clock=clock)
    jo = service.create("back-60", FRIDAY_3PM, *JO).booking
    sam = service.create("back-60", local(2025, 11, 21, 10, 0), *SAM).booking
    assert jo is not None and sam is not None

    wrong_contact = service.cancel(jo.reference, "07400 123456")
    wrong_reference = service.cancel("MB-ZZZZZZ", JO[1])
    someone_elses = service.cancel(sam.reference, JO[1])  # Jo tries Sam's reference
    malformed = service.cancel("hello", JO[1])
    for outcome in (wrong_contact, wrong_reference, someone_elses, malformed):
        assert outcome.code == "not_found" and outcome.message == NOT_FOUND
        assert outcome.booking is None  # nothing about the booking leaks
    assert service.lookup(jo.reference, "+44 7911 123456").ok

    cancelled = service.cancel(jo.reference.lower().replace("-", " "), "+44 7911 123456")
    assert cancelled.code == "cancelled"
    assert service.cancel(jo.reference, JO[1]).code == "already_cancelled"
    assert service.get(sam.reference).status == "pending"  # type: ignore[union-attr]
    # The time is free again.
    assert service.create("back-60", FRIDAY_3PM, "Ann Other", "ann@example.com").ok


def test_reschedule_moves_atomically_and_checks_ownership(
    solo_clinic: Clinic, database_url: str, clock: Clock
) -> None:
    service = BookingService(solo_clinic, database_url, clock=clock)
    jo = service.create("back-60", FRIDAY_3PM, *JO).booking
    sam = service.create("back-60", local(2025, 11, 21, 11, 0), *SAM).booking
    assert jo is not None and sam is not None

    assert service.reschedule(jo.reference, SAM[1], local(2025, 11, 24, 10, 0)).code == "not_found"
    assert service.reschedule(sam.reference, JO[1], local(2025, 11, 24, 10, 0)).code == "not_found"

    # Onto Sam's time: refused, and Jo keeps the original booking.
    clash = service.reschedule(jo.reference, JO[1], local(2025, 11, 21, 11, 30))
    assert clash.code == "taken" and clash.alternatives
    assert service.get(jo.reference).start == FRIDAY_3PM  # type: ignore[union-attr]

    # Overlapping its own current time is fine: the old slots are released in the same step.
    moved = service.reschedule(jo.reference, "07911123456", local(2025, 11, 21, 15, 30))
    assert moved.code == "rescheduled"
    assert moved.booking.start == local(2025, 11, 21, 15, 30)  # type: ignore[union-attr]
    assert moved.booking.sequence == 1  # type: ignore[union-attr]
    with session_scope(database_url) as session:
        slots = session.execute(
            select(BookingSlot.slot_start).where(BookingSlot.booking_id == jo.id)
        ).scalars()
        assert sorted(slots) == [utc(2025, 11, 21, 15, m) for m in (30, 45)] + [
            utc(2025, 11, 21, 16, m) for m in (0, 15)
        ]
    # 15:00 is free again for someone else (15:00–15:30 fits before 15:30).
    assert service.create("back-30", FRIDAY_3PM, "Ann Other", "ann@example.com").ok
    bad = service.reschedule(jo.reference, JO[1], local(2025, 11, 23, 10, 0))
    assert bad.code == "unavailable" and "Sundays" in bad.message


def test_no_changes_once_started_or_cancelled(
    clinic: Clinic, database_url: str, clock: Clock
) -> None:
    service = BookingService(clinic, database_url, clock=clock)
    jo = service.create("back-30", FRIDAY_3PM, *JO).booking
    assert jo is not None
    clock.now = local(2025, 11, 21, 15, 10)
    assert service.cancel(jo.reference, JO[1]).code == "started"
    assert service.reschedule(jo.reference, JO[1], local(2025, 11, 24, 10, 0)).code == "started"
    assert service.staff_cancel(jo.reference).code == "cancelled"  # staff can
    assert service.reschedule(jo.reference, JO[1], local(2025, 11, 24, 10, 0)).code == (
        "already_cancelled"
    )


def test_staff_confirm_and_list(clinic: Clinic, database_url: str, clock: Clock) -> None:
    service = BookingService(clinic, database_url, clock=clock)
    jo = service.create("back-30", FRIDAY_3PM, *JO).booking
    assert jo is not None
    assert [b.reference for b in service.list_bookings(status="pending")] == [jo.reference]
    assert service.confirm(jo.reference).code == "confirmed"
    assert service.list_bookings(status="pending") == []
    assert service.get(jo.reference).status == "confirmed"  # type: ignore[union-attr]
    assert service.confirm("MB-ZZZZZZ").code == "not_found"
    with pytest.raises(ValueError):
        service.list_bookings(status="weird")


def test_webhook_adapter_writes_the_outbox_in_the_same_transaction(
    solo_clinic: Clinic, database_url: str, clock: Clock
) -> None:
    service = BookingService(solo_clinic, database_url, adapter=WebhookAdapter(), clock=clock)
    jo = service.create("back-30", FRIDAY_3PM, *JO).booking
    assert jo is not None
    # A failed attempt (slot taken) leaves neither a booking nor a notification behind.
    assert service.create("back-30", FRIDAY_3PM, *SAM).code == "taken"
    service.cancel(jo.reference, JO[1])
    with session_scope(database_url) as session:
        events = session.execute(select(OutboxMessage.event).order_by(OutboxMessage.id)).scalars()
        assert list(events) == ["booking.created", "booking.cancelled"]
        first = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().first()
        assert first is not None
        assert first.payload["booking"]["reference"] == jo.reference
        assert first.payload["booking"]["start"] == "2025-11-21T15:00:00+00:00"
        assert "BEGIN:VCALENDAR" in first.payload["ics"]
    assert count(database_url, Booking) == 1


def test_reference_collision_draws_again(clinic: Clinic, database_url: str, clock: Clock) -> None:
    draws = iter(["MB-AAAAAA", "MB-AAAAAA", "MB-BBBBBB"])
    service = BookingService(
        clinic, database_url, clock=clock, reference_factory=lambda: next(draws)
    )
    assert service.create("back-30", FRIDAY_3PM, *JO).booking.reference == "MB-AAAAAA"  # type: ignore[union-attr]
    second = service.create("back-30", local(2025, 11, 21, 16, 0), *SAM)
    assert second.booking.reference == "MB-BBBBBB"  # type: ignore[union-attr]
