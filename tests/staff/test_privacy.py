"""`massagebot privacy forget`: a client's bookings, hand-offs, questions, notifications and
conversations are deleted — found through their contact or a conversation — and nobody else's."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, func, select, text

from bot.clinic.db import session_scope
from bot.clinic.models import (
    Booking,
    BookingSlot,
    HandoffRequest,
    OutboxMessage,
    UnansweredQuestion,
)
from bot.clinic.outbox import enqueue
from bot.staff.cli import main
from bot.staff.privacy import Forgetter, contacts_in

DOMAIN = Domain.from_dict({"slots": {"client_contact": {"type": "text", "mappings": []}}})
START = datetime(2030, 3, 4, 10, 0, tzinfo=timezone.utc)


def add_booking(session, reference: str, contact: str, conversation: str, hour: int) -> None:  # type: ignore[no-untyped-def]
    start = START + timedelta(hours=hour)
    booking = Booking(
        reference=reference, service_id="back-30", therapist_id="t1", start_at=start,
        end_at=start + timedelta(minutes=30), client_name="Client", contact=contact,
        contact_kind="phone" if contact.startswith("+") else "email",
        status="pending", conversation_id=conversation, sequence=0,
    )  # fmt: skip
    session.add(booking)
    session.flush()
    session.add(BookingSlot(booking_id=booking.id, therapist_id="t1", slot_start=start))
    enqueue(session, "booking", "booking.created", {"booking": {"reference": reference}})


def save_conversation(url: str, sender: str, *texts: str, contact_slot: str | None = None) -> None:
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=url.removeprefix("sqlite:///"))
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    for message in texts:
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(message))
        tracker.update(BotUttered("ok"))
    if contact_slot:
        tracker.update(SlotSet("client_contact", contact_slot))
    asyncio.run(store.save(tracker))
    store.engine.dispose()


ANN = "+447911123456"
BOB = "bob@example.org"
QUESTIONS = (  # text, conversation: the second is Ann's number typed in someone's question
    ("is it ok in pregnancy", "ann-asked"),
    ("text me at +44 7911 123456", "someone"),
    ("do you do hot stones", "bob"),
)


@pytest.fixture()
def stores(faq_database: str, tmp_path: Path) -> tuple[str, str]:
    """Two clients' data: Ann (phone) in three conversations, Bob (e-mail) in one."""
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    save_conversation(tracker_url, "ann-booked", "I'd like to book", contact_slot=ANN)
    save_conversation(tracker_url, "ann-asked", "call me on 07911 123 456 please")
    save_conversation(tracker_url, "ann-handoff", "can I talk to someone")
    save_conversation(
        tracker_url, "bob", "hi, bob@example.org here", contact_slot="bob@example.org"
    )
    with session_scope(faq_database) as session:
        add_booking(session, "MB-AAAAAA", ANN, "ann-booked", 0)
        add_booking(session, "MB-BBBBBB", "bob@example.org", "bob", 1)
        session.add(HandoffRequest(conversation_id="ann-handoff", contact="07911123456"))
        session.add(HandoffRequest(conversation_id="bob", contact=None))
        for question, conversation in QUESTIONS:
            session.add(
                UnansweredQuestion(text=question, reason="no_entry", conversation=conversation)
            )
    return faq_database, tracker_url


def counts(database_url: str, tracker_url: str) -> dict[str, int]:
    with session_scope(database_url) as session:
        found = {
            model.__tablename__: session.execute(select(func.count()).select_from(model)).scalar()
            for model in (Booking, BookingSlot, HandoffRequest, OutboxMessage, UnansweredQuestion)
        }
    engine = create_engine(tracker_url)
    with engine.connect() as connection:
        for sender, number in connection.execute(
            text("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id")
        ):
            found[sender] = number
    engine.dispose()
    return found


def test_contacts_are_found_in_free_text() -> None:
    assert contacts_in("ring 07911 123 456 or mail Ann@Example.org", "GB") == {
        "+447911123456",
        "ann@example.org",
    }


def test_forget_by_contact_follows_every_link(stores: tuple[str, str]) -> None:
    database_url, tracker_url = stores
    before = counts(database_url, tracker_url)
    report = Forgetter(database_url, tracker_url, "GB").forget("+44 (0)7911 123456", None)
    assert report.conversations == {"ann-booked", "ann-asked", "ann-handoff"}
    assert report.bookings == ["MB-AAAAAA"]
    after = counts(database_url, tracker_url)
    assert after == {
        "bookings": 1, "booking_slots": 1, "handoff_requests": 1, "outbox": 1,
        "unanswered_questions": 1, "bob": before["bob"],
    }  # fmt: skip
    assert report.tracker_events == sum(before[s] for s in report.conversations)
    with session_scope(database_url) as session:
        assert session.execute(select(Booking.reference)).scalar_one() == "MB-BBBBBB"


def test_forget_by_conversation_finds_the_contact(stores: tuple[str, str]) -> None:
    database_url, tracker_url = stores
    report = Forgetter(database_url, tracker_url, "GB").forget(None, "bob")
    assert report.contacts == {"bob@example.org"}
    assert (report.bookings, report.handoffs, report.outbox, report.unanswered) == (
        ["MB-BBBBBB"], 1, 1, 1,
    )  # fmt: skip
    assert "bob" not in counts(database_url, tracker_url)


def test_dry_run_and_cli(
    stores: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url, tracker_url = stores
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_url)
    before = counts(database_url, tracker_url)
    assert main(["privacy", "forget", "--contact", "07911123456", "--dry-run"]) == 0
    assert "Would delete" in capsys.readouterr().out
    assert counts(database_url, tracker_url) == before
    assert main(["privacy", "forget", "--contact", "not a contact"]) == 2
    assert main(["privacy", "forget"]) == 2
    assert main(["privacy", "forget", "--conversation", "ann-asked"]) == 0
    output = capsys.readouterr().out
    assert "bookings: 1 MB-AAAAAA" in output and "conversations: 3" in output
