"""Guessing a booking's reference and contact: the cancel/reschedule forms stop after three wrong
answers, but that count lives in one conversation; a client who starts a new conversation (a new
widget session, another channel) for every guess must still be stopped."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.manage_booking import ValidateCancelBookingForm
from bot.clinic.booking.lookups import MAX_FAILED_LOOKUPS, WINDOW
from bot.clinic.booking.service import BookingService
from bot.clinic.db import session_scope
from bot.clinic.facts import Clinic
from bot.clinic.models import Booking, FailedLookup
from tests.support.trackers import make_tracker

REFERENCE = "MB-7K3Q9P"
CONTACT = "+447911123456"
START = datetime(2031, 3, 4, 10, 0, tzinfo=timezone.utc)


def add_booking(database_url: str, reference: str = REFERENCE) -> None:
    with session_scope(database_url) as session:
        booking = Booking(
            reference=reference, service_id="back-30", therapist_id="t1", start_at=START,
            end_at=START + timedelta(minutes=30), client_name="Ana Lopez", contact=CONTACT,
            contact_kind="phone", status="pending", conversation_id="webchat:ana", sequence=0,
        )  # fmt: skip
        session.add(booking)


def test_wrong_contacts_lock_the_booking_for_a_while(clinic: Clinic, database_url: str) -> None:
    add_booking(database_url)
    now = [START - timedelta(days=3)]
    service = BookingService(clinic, database_url, clock=lambda: now[0])
    for guess in [f"07911 12345{digit}" for digit in range(MAX_FAILED_LOOKUPS)]:
        assert service.lookup(REFERENCE, guess).code == "not_found"
    assert service.lookup(REFERENCE, "07911 123456").code == "locked"  # even the right one
    assert service.cancel(REFERENCE, "07911 123456").code == "locked"
    assert service.reschedule(REFERENCE, "07911 123456", START + timedelta(days=1)).code == (
        "locked"
    )
    now[0] += WINDOW + timedelta(minutes=1)
    assert service.lookup(REFERENCE, "07911 123456").code == "found"


def test_guessing_references_for_one_contact_is_limited_too(
    clinic: Clinic, database_url: str
) -> None:
    add_booking(database_url)
    service = BookingService(clinic, database_url, clock=lambda: START - timedelta(days=3))
    for guess in ("MB-AAAAAA", "MB-BBBBBB", "MB-CCCCCC", "MB-DDDDDD", "MB-EEEEEE"):
        assert service.lookup(guess, CONTACT).code == "not_found"
    assert service.lookup(REFERENCE, CONTACT).code == "locked"


def test_failed_lookups_hold_no_reference_or_contact(clinic: Clinic, database_url: str) -> None:
    service = BookingService(clinic, database_url)
    service.lookup(REFERENCE, "07911 123450")
    with session_scope(database_url) as session:
        keys = list(session.execute(select(FailedLookup.key)).scalars())
    assert len(keys) == 2
    assert not any("7K3Q9P" in key or "7911" in key for key in keys)


async def test_a_new_conversation_per_guess_does_not_reset_the_count(bot_env: str) -> None:
    """The form's own three-strikes count restarts with every conversation; this one doesn't."""
    add_booking(bot_env)
    form = ValidateCancelBookingForm()

    async def answer(contact: str, sender: str, dispatcher: CollectingDispatcher) -> dict:
        tracker = make_tracker(
            "inform",
            text=contact,
            slots={"manage_reference": REFERENCE, "requested_slot": "manage_contact"},
            sender_id=sender,
        )
        events = await form.run(dispatcher, tracker, {})
        return {event["name"]: event["value"] for event in events if event["event"] == "slot"}

    for number in range(MAX_FAILED_LOOKUPS):
        wrong = f"07911 12345{number}"  # never the booking's 07911 123456
        values = await answer(wrong, f"webchat:guess-{number}", CollectingDispatcher())
        assert values["manage_contact"] is None and values["manage_failures"] == 1
    dispatcher = CollectingDispatcher()
    values = await answer("07911 123456", "webchat:a-fresh-conversation", dispatcher)
    assert values.get("manage_booking") is None and values["manage_stopped"] == "done"
    assert "too many attempts" in dispatcher.messages[-1]["text"]
