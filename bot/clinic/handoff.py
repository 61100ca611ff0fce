"""Human hand-off: a client asks for a person, staff are told, and the bot steps aside.

The request is stored together with its staff notification (an outbox row, when
HANDOFF_WEBHOOK_URL is set) in one transaction, so a notification is never lost even if the
staff chat tool is briefly unreachable. Outside opening hours nobody can answer live, so the
client is promised a call-back instead; while the clinic is open the bot pauses the conversation
until staff resolve the request (`massagebot handoffs resolve`, which resumes it through Rasa's
HTTP API: `bot.staff.conversations.resume_conversation`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.clinic.booking.config import HANDOFF_TARGET, BookingConfig
from bot.clinic.booking.contact import validate_contact
from bot.clinic.booking.rules import clinic_open_at, next_opening
from bot.clinic.booking.wording import describe_start
from bot.clinic.db import session_scope
from bot.clinic.facts import Clinic
from bot.clinic.models import HandoffRequest, utcnow
from bot.clinic.outbox import enqueue

MAX_TRANSCRIPT = 4000


@dataclass(frozen=True)
class HandoffInfo:
    id: int
    conversation_id: str | None
    contact: str | None
    transcript: str
    reason: str | None
    clinic_open: bool
    status: str
    created_at: datetime
    resolved_at: datetime | None

    @classmethod
    def from_row(cls, row: HandoffRequest) -> HandoffInfo:
        return cls(
            id=row.id,
            conversation_id=row.conversation_id,
            contact=row.contact,
            transcript=row.transcript,
            reason=row.reason,
            clinic_open=row.clinic_open,
            status=row.status,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
        )


@dataclass(frozen=True)
class HandoffOutcome:
    """What the bot tells the client; `needs_contact` when a call-back has no number yet."""

    request: HandoffInfo
    clinic_open: bool
    message: str
    needs_contact: bool


def clinic_is_open(clinic: Clinic, now: datetime) -> bool:
    return clinic_open_at(clinic, now)


class HandoffService:
    def __init__(
        self,
        clinic: Clinic,
        database_url: str,
        config: BookingConfig | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.clinic = clinic
        self.database_url = database_url
        self.config = config or BookingConfig()
        self.clock = clock

    def request(
        self,
        conversation_id: str | None,
        transcript: str = "",
        contact: str | None = None,
        reason: str | None = None,
    ) -> HandoffOutcome:
        now = self.clock()
        open_now = clinic_is_open(self.clinic, now)
        checked = validate_contact(contact, self.clinic.region) if contact else None
        stored_contact = checked.value if checked and checked.ok else (contact or None)
        excerpt = (transcript or "")[-MAX_TRANSCRIPT:]
        with session_scope(self.database_url) as session:
            row = HandoffRequest(
                conversation_id=conversation_id,
                contact=stored_contact,
                transcript=excerpt,
                reason=reason,
                clinic_open=open_now,
                status="open",
                created_at=now,
            )
            session.add(row)
            session.flush()
            info = HandoffInfo.from_row(row)
            if self.config.handoff_webhook is not None:
                enqueue(session, HANDOFF_TARGET, "handoff.requested", self._payload(info), now)
        return HandoffOutcome(
            request=info,
            clinic_open=open_now,
            message=self._message(open_now, stored_contact, now),
            needs_contact=not open_now and not stored_contact,
        )

    def add_contact(self, request_id: int, contact: str) -> HandoffInfo | None:
        """The client gave a call-back number after the request was made."""
        checked = validate_contact(contact, self.clinic.region)
        value = checked.value if checked.ok else contact
        with session_scope(self.database_url) as session:
            row = session.get(HandoffRequest, request_id)
            if row is None:
                return None
            row.contact = value
            session.flush()
            info = HandoffInfo.from_row(row)
            if self.config.handoff_webhook is not None:
                payload = self._payload(info)
                enqueue(session, HANDOFF_TARGET, "handoff.contact_added", payload, self.clock())
            return info

    def list_requests(self, status: str | None = "open") -> list[HandoffInfo]:
        query = select(HandoffRequest).order_by(HandoffRequest.created_at, HandoffRequest.id)
        if status:
            query = query.where(HandoffRequest.status == status)
        with session_scope(self.database_url) as session:
            return [HandoffInfo.from_row(r) for r in session.execute(query).scalars()]

    def resolve(self, request_id: int) -> HandoffInfo | None:
        with session_scope(self.database_url) as session:
            session.execute(
                update(HandoffRequest)
                .where(HandoffRequest.id == request_id, HandoffRequest.status == "open")
                .values(status="resolved", resolved_at=self.clock())
                .execution_options(synchronize_session=False)
            )
            row = session.get(HandoffRequest, request_id)
            return HandoffInfo.from_row(row) if row else None

    def _payload(self, info: HandoffInfo) -> dict[str, Any]:
        local = info.created_at.astimezone(self.clinic.timezone)
        when = "now" if info.clinic_open else "a call-back (clinic closed)"
        text = (
            f"A client asked to talk to a person ({when}). Request #{info.id}, "
            f"contact: {info.contact or 'not given'}, conversation: {info.conversation_id}."
        )
        return {
            "text": text,  # lets chat tools with incoming webhooks show it as is
            "clinic": self.clinic.name,
            "handoff": {
                "id": info.id,
                "conversation_id": info.conversation_id,
                "contact": info.contact,
                "reason": info.reason,
                "clinic_open": info.clinic_open,
                "created_at": local.isoformat(),
                "transcript": info.transcript,
            },
        }

    def _message(self, open_now: bool, contact: str | None, now: datetime) -> str:
        if open_now:
            return (
                "I've asked one of our team to take over — they'll reply here shortly. "
                f"If it's urgent you can also call us on {self.clinic.phone}."
            )
        opening = next_opening(self.clinic, now)
        today = now.astimezone(self.clinic.timezone).date()
        when = (
            f" when we open ({describe_start(opening, today)})"
            if opening
            else " as soon as we're back"
        )
        if contact:
            return f"We're closed right now, so one of our team will call you back{when}."
        return (
            f"We're closed right now, so one of our team will call you back{when}. "
            "What's the best phone number to reach you on?"
        )
