"""Plain, session-free views of stored rows, safe to pass to Rasa actions, the CLI and webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clinic.facts import Clinic
from bot.clinic.models import Booking
from bot.clinic.triage.model import Finding

STATUSES = ("pending", "confirmed", "cancelled")


@dataclass(frozen=True)
class BookingInfo:
    id: int
    reference: str
    service_id: str
    service_name: str
    therapist_id: str | None
    start: datetime  # clinic time zone
    end: datetime
    client_name: str
    contact: str
    contact_kind: str
    note: str
    status: str
    conversation_id: str | None
    sequence: int
    created_at: datetime
    # What the client mentioned about their health in the conversation, most urgent first.
    health_concerns: tuple[Finding, ...] = ()

    @classmethod
    def from_row(cls, row: Booking, clinic: Clinic) -> BookingInfo:
        service = clinic.service(row.service_id)
        tz = clinic.timezone
        return cls(
            id=row.id,
            reference=row.reference,
            service_id=row.service_id,
            service_name=service.name if service else row.service_id,
            therapist_id=row.therapist_id,
            start=row.start_at.astimezone(tz),
            end=row.end_at.astimezone(tz),
            client_name=row.client_name,
            contact=row.contact,
            contact_kind=row.contact_kind,
            note=row.note or "",
            status=row.status,
            conversation_id=row.conversation_id,
            sequence=row.sequence or 0,
            created_at=row.created_at,
            health_concerns=tuple(
                Finding.from_dict(raw)
                for raw in row.health_concerns or []
                if isinstance(raw, dict) and raw.get("concept")
            ),
        )

    def as_payload(self) -> dict[str, Any]:
        """The JSON shape sent to the clinic's booking system."""
        return {
            "reference": self.reference,
            "status": self.status,
            "service": {"id": self.service_id, "name": self.service_name},
            "therapist_id": self.therapist_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "client": {
                "name": self.client_name,
                "contact": self.contact,
                "contact_kind": self.contact_kind,
            },
            "note": self.note,
            "health_concerns": [f.as_dict() for f in self.health_concerns],
            "conversation_id": self.conversation_id,
            "sequence": self.sequence,
            "created_at": self.created_at.isoformat(),
        }
