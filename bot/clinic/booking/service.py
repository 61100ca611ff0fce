"""Creating, cancelling and rescheduling bookings without ever double-booking a therapist.

The guarantee lives in the database: a booking's transaction inserts one `booking_slots` row per
slot it covers for one therapist, and UNIQUE (therapist_id, slot_start) makes a second insert
for the same therapist and slot fail, however many requests race. On failure the next therapist
is tried in a fresh transaction; when none is left, the client gets the nearest free times.
Reading availability first only orders the attempts, it never decides.

Clients act on a booking with its reference plus the contact they booked with; any mismatch
gets the same answer as an unknown reference, so nobody learns about someone else's booking,
and too many mismatches lock the look-up for a while (`lookups`), whatever the conversation.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clinic.booking.availability import Availability, occupied_slots, therapist_ids
from bot.clinic.booking.booking_system import BookingAdapter, DatabaseAdapter
from bot.clinic.booking.contact import same_contact, validate_contact, validate_name
from bot.clinic.booking.lookups import lookup_keys, record_failure, too_many
from bot.clinic.booking.records import STATUSES, BookingInfo
from bot.clinic.booking.rules import check_exact_start
from bot.clinic.booking.wording import already_booked
from bot.clinic.db import session_scope
from bot.clinic.facts import Clinic, Service
from bot.clinic.models import Booking, BookingSlot, utcnow
from bot.clinic.triage.model import Finding, most_urgent_first

REFERENCE_PREFIX = "MB-"
# No 0/O, 1/I/L: references are read aloud and typed from memory.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 6
MAX_NOTE_LENGTH = 1000

NOT_FOUND = (
    "I couldn't find a booking with that reference and contact. Please check both — they need "
    "to match what you gave when you booked."
)
SUCCESS = frozenset({"booked", "rescheduled", "cancelled", "confirmed", "found"})


def new_reference() -> str:
    return REFERENCE_PREFIX + "".join(
        secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH)
    )


def normalise_reference(text: str) -> str | None:
    """'mb 7k3q9p', 'MB-7K3Q9P' or '7K3Q9P' → 'MB-7K3Q9P'; None if it can't be one."""
    compact = re.sub(r"[\s\-_.]", "", (text or "").upper())
    if compact.startswith("MB"):
        compact = compact[2:]
    if len(compact) != REFERENCE_LENGTH or not compact.isalnum():
        return None
    return REFERENCE_PREFIX + compact


@dataclass(frozen=True)
class BookingOutcome:
    """`code` for the bot's logic; `message` for the client when something didn't happen."""

    code: str
    message: str = ""
    booking: BookingInfo | None = None
    alternatives: tuple[datetime, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.code in SUCCESS


class BookingService:
    def __init__(
        self,
        clinic: Clinic,
        database_url: str,
        adapter: BookingAdapter | None = None,
        clock: Callable[[], datetime] = utcnow,
        reference_factory: Callable[[], str] = new_reference,
    ) -> None:
        self.clinic = clinic
        self.database_url = database_url
        self.adapter = adapter or DatabaseAdapter()
        self.clock = clock
        self.reference_factory = reference_factory
        self.availability = Availability(clinic, database_url, clock)

    # --- clients ------------------------------------------------------------------------------

    def create(
        self,
        service_id: str,
        start: datetime,
        client_name: str,
        contact: str,
        note: str = "",
        conversation_id: str | None = None,
        health_concerns: Iterable[Finding] = (),
    ) -> BookingOutcome:
        """Book `service_id` at `start`. `health_concerns`: what the client mentioned in the
        conversation (the slot `health_concerns`, read back with `Finding.from_dict`); stored on
        the booking, most urgent first, for the therapist and staff to see."""
        service = self.clinic.service(service_id)
        if service is None:
            return BookingOutcome("invalid", "Please choose one of our services.")
        name = validate_name(client_name)
        if not name.ok:
            return BookingOutcome("invalid", name.reason)
        checked = validate_contact(contact, self.clinic.region)
        if not checked.ok:
            return BookingOutcome("invalid", checked.reason)
        problem = self._rule_problem(service, start)
        if problem:
            return problem

        values = {
            "service_id": service.id,
            "start_at": start,
            "end_at": start + timedelta(minutes=service.duration_minutes),
            "client_name": name.value,
            "contact": checked.value,
            "contact_kind": checked.kind,
            "note": (note or "").strip()[:MAX_NOTE_LENGTH] or None,
            "health_concerns": [
                f.as_dict() for f in most_urgent_first(f for f in health_concerns if f.is_concern)
            ]
            or None,
            "status": "pending",
            "conversation_id": conversation_id,
            "sequence": 0,
        }
        slots = occupied_slots(self.clinic, start, service.duration_minutes)
        for therapist in self._therapist_order(service, start):
            info = self._try_insert(values, therapist, slots)
            if info is not None:
                return BookingOutcome("booked", booking=info)
        return self._taken(service, start)

    def lookup(self, reference: str, contact: str) -> BookingOutcome:
        with session_scope(self.database_url) as session:
            row = self._verified(session, reference, contact)
            if isinstance(row, BookingOutcome):
                return row
            return BookingOutcome("found", booking=BookingInfo.from_row(row, self.clinic))

    def cancel(self, reference: str, contact: str) -> BookingOutcome:
        with session_scope(self.database_url) as session:
            row = self._verified(session, reference, contact, lock=True)
            if isinstance(row, BookingOutcome):
                return row
            return self._cancel_row(session, row)

    def reschedule(self, reference: str, contact: str, new_start: datetime) -> BookingOutcome:
        """Move a booking: old slots freed and new ones taken in one transaction, so the client
        never ends up with both or neither."""
        with session_scope(self.database_url) as session:
            row = self._verified(session, reference, contact)
            if isinstance(row, BookingOutcome):
                return row
            booking_id, service_id = row.id, row.service_id
            blocked = self._unchangeable(row)
        if blocked:
            return blocked
        service = self.clinic.service(service_id)
        if service is None:
            return BookingOutcome(
                "invalid",
                "That service is no longer offered online — please call us to change it.",
            )
        problem = self._rule_problem(service, new_start, exclude_booking_id=booking_id)
        if problem:
            return problem
        slots = occupied_slots(self.clinic, new_start, service.duration_minutes)
        for therapist in self._therapist_order(service, new_start, booking_id):
            try:
                with session_scope(self.database_url) as session:
                    row = session.execute(
                        select(Booking).where(Booking.id == booking_id).with_for_update()
                    ).scalar_one()
                    blocked = self._unchangeable(row)
                    if blocked:
                        return blocked
                    session.execute(delete(BookingSlot).where(BookingSlot.booking_id == row.id))
                    session.add_all(
                        BookingSlot(booking_id=row.id, therapist_id=therapist, slot_start=s)
                        for s in slots
                    )
                    session.flush()
                    row.start_at = new_start
                    row.end_at = new_start + timedelta(minutes=service.duration_minutes)
                    row.therapist_id = therapist
                    row.status = "pending"
                    row.sequence = (row.sequence or 0) + 1
                    row.updated_at = self.clock()
                    session.flush()
                    info = BookingInfo.from_row(row, self.clinic)
                    self.adapter.record(
                        session, "booking.rescheduled", info, self.clinic, self.clock()
                    )
                return BookingOutcome("rescheduled", booking=info)
            except IntegrityError:
                continue
        return self._taken(service, new_start, exclude_booking_id=booking_id)

    # --- staff --------------------------------------------------------------------------------

    def list_bookings(
        self, status: str | None = None, upcoming_only: bool = False
    ) -> list[BookingInfo]:
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        query = select(Booking).order_by(Booking.start_at, Booking.id)
        if status:
            query = query.where(Booking.status == status)
        if upcoming_only:
            query = query.where(Booking.end_at > self.clock())
        with session_scope(self.database_url) as session:
            return [BookingInfo.from_row(r, self.clinic) for r in session.execute(query).scalars()]

    def get(self, reference: str) -> BookingInfo | None:
        ref = normalise_reference(reference)
        if ref is None:
            return None
        with session_scope(self.database_url) as session:
            row = session.execute(
                select(Booking).where(Booking.reference == ref)
            ).scalar_one_or_none()
            return BookingInfo.from_row(row, self.clinic) if row else None

    def confirm(self, reference: str) -> BookingOutcome:
        with session_scope(self.database_url) as session:
            row = self._by_reference(session, reference, lock=True)
            if row is None:
                return BookingOutcome("not_found", f"No booking with reference {reference}.")
            if row.status == "cancelled":
                return BookingOutcome("already_cancelled", "That booking was cancelled.")
            if row.status == "confirmed":
                return BookingOutcome("confirmed", booking=BookingInfo.from_row(row, self.clinic))
            row.status = "confirmed"
            row.sequence = (row.sequence or 0) + 1
            row.updated_at = self.clock()
            session.flush()
            info = BookingInfo.from_row(row, self.clinic)
            self.adapter.record(session, "booking.confirmed", info, self.clinic, self.clock())
            return BookingOutcome("confirmed", booking=info)

    def staff_cancel(self, reference: str) -> BookingOutcome:
        """Staff may cancel any booking (the client phoned, say) without the contact check."""
        with session_scope(self.database_url) as session:
            row = self._by_reference(session, reference, lock=True)
            if row is None:
                return BookingOutcome("not_found", f"No booking with reference {reference}.")
            return self._cancel_row(session, row, staff=True)

    # --- internals ----------------------------------------------------------------------------

    def _rule_problem(
        self, service: Service, start: datetime, exclude_booking_id: int | None = None
    ) -> BookingOutcome | None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        rejected = check_exact_start(self.clinic, start, self.clock(), service.duration_minutes)
        if rejected is None:
            return None
        message = rejected.reason
        alternatives = self.availability.nearest_free_slots(
            service, start, 3, exclude_booking_id=exclude_booking_id
        )
        return BookingOutcome("unavailable", message, alternatives=tuple(alternatives))

    def _taken(
        self, service: Service, start: datetime, exclude_booking_id: int | None = None
    ) -> BookingOutcome:
        alternatives = self.availability.nearest_free_slots(
            service, start, 3, exclude_booking_id=exclude_booking_id
        )
        message = already_booked(start.astimezone(self.clinic.timezone))
        if not alternatives:
            message += " I couldn't find another free time within our booking window."
        return BookingOutcome("taken", message, alternatives=tuple(alternatives))

    def _therapist_order(
        self, service: Service, start: datetime, exclude_booking_id: int | None = None
    ) -> list[str]:
        """Therapists who look free first; the rest after, as the constraint has the last word."""
        free = self.availability.free_therapists(
            service, start, exclude_booking_id=exclude_booking_id
        )
        return free + [t for t in therapist_ids(self.clinic) if t not in free]

    def _try_insert(
        self, values: dict[str, Any], therapist: str, slots: list[datetime]
    ) -> BookingInfo | None:
        """One transaction: booking + its slots + the hand-off record. None if the therapist is
        taken; a (vanishingly rare) reference collision just draws a new reference."""
        for _ in range(5):
            reference = self.reference_factory()
            try:
                with session_scope(self.database_url) as session:
                    now = self.clock()
                    row = Booking(
                        reference=reference,
                        therapist_id=therapist,
                        created_at=now,
                        updated_at=now,
                        **values,
                    )
                    session.add(row)
                    session.flush()
                    session.add_all(
                        BookingSlot(booking_id=row.id, therapist_id=therapist, slot_start=s)
                        for s in slots
                    )
                    session.flush()
                    info = BookingInfo.from_row(row, self.clinic)
                    self.adapter.record(session, "booking.created", info, self.clinic, self.clock())
                return info
            except IntegrityError:
                if not self._reference_exists(reference):
                    return None
        raise RuntimeError("could not draw an unused booking reference")

    def _reference_exists(self, reference: str) -> bool:
        with session_scope(self.database_url) as session:
            return bool(
                session.execute(select(exists().where(Booking.reference == reference))).scalar()
            )

    def _by_reference(self, session: Session, reference: str, lock: bool = False) -> Booking | None:
        ref = normalise_reference(reference)
        if ref is None:
            return None
        query = select(Booking).where(Booking.reference == ref)
        if lock:
            query = query.with_for_update()
        booking: Booking | None = session.execute(query).scalar_one_or_none()
        return booking

    def _owned(
        self, session: Session, reference: str, contact: str, lock: bool = False
    ) -> Booking | None:
        row = self._by_reference(session, reference, lock=lock)
        # Compare even when there is no row, so a wrong reference and a wrong contact take
        # about as long to answer.
        matches = same_contact(row.contact if row else "", contact, self.clinic.region)
        return row if row is not None and matches else None

    def _verified(
        self, session: Session, reference: str, contact: str, lock: bool = False
    ) -> Booking | BookingOutcome:
        """The booking if reference and contact match it; wrong pairs are counted
        (`lookups`), and after too many the booking can only be changed by phone."""
        now = self.clock()
        keys = lookup_keys(normalise_reference(reference), contact, self.clinic.region)
        if too_many(session, keys, now):
            return BookingOutcome(
                "locked",
                "There have been too many attempts for that booking, so I can't look it up "
                f"here for now — please call us on {self.clinic.phone}.",
            )
        row = self._owned(session, reference, contact, lock=lock)
        if row is None:
            record_failure(session, keys, now)
            return BookingOutcome("not_found", NOT_FOUND)
        return row

    def _unchangeable(self, row: Booking) -> BookingOutcome | None:
        if row.status == "cancelled":
            return BookingOutcome("already_cancelled", "That booking has already been cancelled.")
        if row.start_at <= self.clock():
            return BookingOutcome(
                "started",
                f"That appointment has already started, so I can't change it here — please "
                f"call us on {self.clinic.phone}.",
            )
        return None

    def _cancel_row(self, session: Session, row: Booking, staff: bool = False) -> BookingOutcome:
        if row.status == "cancelled":
            return BookingOutcome("already_cancelled", "That booking has already been cancelled.")
        if not staff and row.start_at <= self.clock():
            blocked = self._unchangeable(row)
            assert blocked is not None
            return blocked
        session.execute(delete(BookingSlot).where(BookingSlot.booking_id == row.id))
        row.status = "cancelled"
        row.sequence = (row.sequence or 0) + 1
        row.updated_at = self.clock()
        session.flush()
        info = BookingInfo.from_row(row, self.clinic)
        self.adapter.record(session, "booking.cancelled", info, self.clinic, self.clock())
        return BookingOutcome("cancelled", booking=info)
