"""Human hand-off requests: stored, staff notified through the outbox, call-back when closed."""

from __future__ import annotations

from sqlalchemy import select

from bot.clinic.booking.config import BookingConfig
from bot.clinic.db import session_scope
from bot.clinic.facts import Clinic
from bot.clinic.handoff import HandoffService, clinic_is_open
from bot.clinic.models import OutboxMessage
from tests.support.clinics import Clock, local

WITH_WEBHOOK = BookingConfig.from_env(
    {"HANDOFF_WEBHOOK_URL": "http://127.0.0.1:9/staff", "HANDOFF_WEBHOOK_SECRET": "s"}
)


def outbox(database_url: str) -> list[OutboxMessage]:
    with session_scope(database_url) as session:
        return list(session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_request_while_open_notifies_staff(clinic: Clinic, database_url: str, clock: Clock) -> None:
    service = HandoffService(clinic, database_url, WITH_WEBHOOK, clock=clock)
    outcome = service.request(
        "conv-7", transcript="client: my back hurts\nbot: …\nclient: talk to a person",
        contact="07911 123456", reason="asked",
    )  # fmt: skip
    assert outcome.clinic_open and not outcome.needs_contact
    assert "take over" in outcome.message
    assert outcome.request.contact == "+447911123456"
    [message] = outbox(database_url)
    assert (message.target, message.event) == ("handoff", "handoff.requested")
    assert message.payload["handoff"]["conversation_id"] == "conv-7"
    assert "talk to a person" in message.payload["handoff"]["transcript"]
    assert "Request #" in message.payload["text"]
    assert message.next_attempt_at == clock.now


def test_request_when_closed_promises_a_call_back(
    clinic: Clinic, database_url: str, clock: Clock
) -> None:
    clock.now = local(2025, 11, 22, 15, 0)  # Saturday afternoon: closed until Monday
    service = HandoffService(clinic, database_url, BookingConfig(), clock=clock)
    assert not clinic_is_open(clinic, clock.now)
    outcome = service.request("conv-8", transcript="help")
    assert not outcome.clinic_open and outcome.needs_contact
    assert "call you back when we open (Monday 24 November at 09:00)" in outcome.message
    assert "phone number" in outcome.message
    assert outbox(database_url) == []  # no staff webhook configured: staff see it in the CLI
    updated = service.add_contact(outcome.request.id, "07911 123456")
    assert updated is not None and updated.contact == "+447911123456"


def test_list_and_resolve(clinic: Clinic, database_url: str, clock: Clock) -> None:
    service = HandoffService(clinic, database_url, clock=clock)
    first = service.request("a").request
    second = service.request("b").request
    assert [h.id for h in service.list_requests()] == [first.id, second.id]
    resolved = service.resolve(first.id)
    assert resolved is not None and resolved.status == "resolved"
    assert [h.id for h in service.list_requests()] == [second.id]
    assert len(service.list_requests(status=None)) == 2
    assert service.resolve(9999) is None
