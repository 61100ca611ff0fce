"""Handing bookings over to the clinic, through the adapter chosen in configuration.

- `database` (default): the booking stays `pending` in our database and staff confirm it with
  `bookings confirm REF`; nothing leaves the machine.
- `webhook`: every change (created, rescheduled, cancelled, confirmed) is written to the outbox
  in the booking's own transaction and POSTed, signed, to the clinic's booking system — with
  retries, so a booking made while that system is down reaches it later.

Adapters run inside the booking transaction: if recording the hand-off fails, the booking is
rolled back too, so there is never a booking the clinic won't hear about.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from bot.clinic.booking.config import BOOKING_TARGET, BookingConfig
from bot.clinic.booking.invite import build_invite
from bot.clinic.booking.records import BookingInfo
from bot.clinic.facts import Clinic
from bot.clinic.outbox import enqueue

EVENTS = ("booking.created", "booking.rescheduled", "booking.cancelled", "booking.confirmed")


class BookingAdapter(Protocol):
    name: str

    def record(
        self, session: Session, event: str, booking: BookingInfo, clinic: Clinic, now: datetime
    ) -> None:
        """Called inside the transaction that made the change."""


class DatabaseAdapter:
    """Staff work from the stored bookings; nothing else to do."""

    name = "database"

    def record(
        self, session: Session, event: str, booking: BookingInfo, clinic: Clinic, now: datetime
    ) -> None:
        return None


class WebhookAdapter:
    """Queue a signed JSON POST (with the clinic's .ics invite) to the booking system."""

    name = "webhook"

    def record(
        self, session: Session, event: str, booking: BookingInfo, clinic: Clinic, now: datetime
    ) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown booking event {event}")
        enqueue(
            session,
            BOOKING_TARGET,
            event,
            {
                "clinic": clinic.name,
                "booking": booking.as_payload(),
                "ics": build_invite(booking, clinic, audience="clinic", now=now).decode("utf-8"),
            },
            now=now,
        )


def adapter_from_config(config: BookingConfig) -> BookingAdapter:
    return WebhookAdapter() if config.adapter == "webhook" else DatabaseAdapter()
