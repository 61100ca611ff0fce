"""The database schema: every table the bot and the staff CLI share."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from bot.clinic import clock
from bot.clinic.db import Base


def utcnow() -> datetime:
    """Now, in UTC; tests can fix it (bot/clinic/clock.py)."""
    return clock.now()


class FaqEntry(Base):
    """One curated answer; `entity`/`value` narrow it to a sub-topic of the intent."""

    __tablename__ = "faq_entries"

    id = Column(String(80), primary_key=True)
    intent = Column(String(64), nullable=False, index=True)
    entity = Column(String(64), nullable=True)
    value = Column(String(64), nullable=True)
    title = Column(String(80), nullable=False)
    answer = Column(Text, nullable=False)
    follow_ups = Column(JSON, nullable=False, default=list)
    source = Column(String(120), nullable=False)
    health_advice = Column(Boolean, nullable=False, default=False)
    position = Column(Integer, nullable=False, default=0)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class UnansweredQuestion(Base):
    """A message the bot could not answer, kept for staff to curate new FAQ entries from."""

    __tablename__ = "unanswered_questions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    text = Column(Text, nullable=False)
    intent = Column(String(64), nullable=True)
    confidence = Column(Float, nullable=True)
    reason = Column(String(32), nullable=False)
    conversation = Column(String(160), nullable=True)  # `<channel>:<id>`, see conversations.py
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    resolved = Column(Boolean, nullable=False, default=False)


# --- Booking, hand-off and outbox (issue 3) -------------------------------------------------
# Appended as its own section; these tables are created by revision 0002_booking.


class UTCDateTime(TypeDecorator):
    """Always UTC and always aware on the way out.

    SQLite keeps no offset, so naive values read back would be ambiguous; normalising to UTC on
    the way in also makes the UNIQUE slot constraint compare instants, not wall-clock strings.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Booking(Base):
    """An appointment request; `status` is pending until staff (or the clinic system) confirm."""

    __tablename__ = "bookings"

    id = Column(Integer, primary_key=True, autoincrement=True)
    reference = Column(String(16), nullable=False, unique=True)
    service_id = Column(String(64), nullable=False)
    therapist_id = Column(String(64), nullable=True)
    start_at = Column(UTCDateTime, nullable=False, index=True)
    end_at = Column(UTCDateTime, nullable=False)
    client_name = Column(String(120), nullable=False)
    contact = Column(String(254), nullable=False)
    contact_kind = Column(String(8), nullable=False)
    note = Column(Text, nullable=True)
    # What the client mentioned about their health in the conversation (bot.clinic.triage
    # Finding.as_dict() each), so the therapist sees it before the appointment.
    health_concerns = Column(JSON, nullable=True)
    status = Column(String(16), nullable=False, default="pending", index=True)
    conversation_id = Column(String(160), nullable=True)  # `<channel>:<id>`
    # Bumped on every change so calendar clients replace the earlier invite (iCalendar SEQUENCE).
    sequence = Column(Integer, nullable=False, default=0)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow)


class BookingSlot(Base):
    """One row per therapist per slot interval a live booking occupies.

    The UNIQUE (therapist_id, slot_start) constraint is what makes a double booking impossible,
    whatever the number of concurrent writers; cancelling deletes the rows to free the time.
    """

    __tablename__ = "booking_slots"
    __table_args__ = (
        UniqueConstraint("therapist_id", "slot_start", name="uq_booking_slots_therapist_start"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    booking_id = Column(
        Integer, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True
    )
    therapist_id = Column(String(64), nullable=False)
    slot_start = Column(UTCDateTime, nullable=False, index=True)


class OutboxMessage(Base):
    """A notification to deliver, written in the same transaction as the change it reports."""

    __tablename__ = "outbox"

    id = Column(Integer, primary_key=True, autoincrement=True)
    delivery_id = Column(String(36), nullable=False, unique=True)
    target = Column(String(32), nullable=False)
    event = Column(String(64), nullable=False)
    payload = Column(JSON, nullable=False)
    status = Column(String(16), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    last_error = Column(Text, nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    delivered_at = Column(UTCDateTime, nullable=True)


class HandoffRequest(Base):
    """A client asked for a person; staff resolve it (and resume the bot) from the CLI."""

    __tablename__ = "handoff_requests"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(160), nullable=True, index=True)  # `<channel>:<id>`
    contact = Column(String(254), nullable=True)
    transcript = Column(Text, nullable=False, default="")
    reason = Column(String(64), nullable=True)
    clinic_open = Column(Boolean, nullable=False, default=True)
    status = Column(String(16), nullable=False, default="open", index=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    resolved_at = Column(UTCDateTime, nullable=True)


class FailedLookup(Base):
    """A wrong reference + contact pair, counted per reference and per contact (hashed) so a
    client can't reset the count by starting a new conversation (`booking.lookups`)."""

    __tablename__ = "failed_lookups"

    id = Column(Integer, primary_key=True, autoincrement=True)
    key = Column(String(64), nullable=False, index=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
