"""`massagebot privacy forget` deletes exactly one client: never a conversation that other
clients share (every sender-less REST call lands in `rest:default`), never another client's
bookings reached through one; `--dry-run` names what would go."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, select, text

from bot.clinic.db import session_scope
from bot.clinic.models import Booking, BookingSlot, HandoffRequest
from bot.staff.cli import main
from bot.staff.privacy import Forgetter

DOMAIN = Domain.from_dict({"slots": {"client_contact": {"type": "text", "mappings": []}}})
START = datetime(2030, 3, 4, 10, 0, tzinfo=timezone.utc)
ANA = "+447911123456"
BOB = "+447400123456"


def save_conversation(url: str, sender: str, *texts: str, contact_slot: str | None = None) -> None:
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=url.removeprefix("sqlite:///"))
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    for message in texts:
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(message, input_channel="rest"))
        tracker.update(BotUttered("ok"))
    if contact_slot:
        tracker.update(SlotSet("client_contact", contact_slot))
    asyncio.run(store.save(tracker))
    store.engine.dispose()


def add_booking(database_url: str, reference: str, contact: str, conversation: str) -> None:
    with session_scope(database_url) as session:
        start = START + timedelta(hours=int(reference[-3:]) + ord(reference[3]))
        booking = Booking(
            reference=reference, service_id="back-30", therapist_id="t1", start_at=start,
            end_at=start + timedelta(minutes=30), client_name="Client", contact=contact,
            contact_kind="phone", status="pending", conversation_id=conversation, sequence=0,
        )  # fmt: skip
        session.add(booking)
        session.flush()
        session.add(BookingSlot(booking_id=booking.id, therapist_id="t1", slot_start=start))


def conversations(tracker_url: str) -> set[str]:
    engine = create_engine(tracker_url)
    with engine.connect() as connection:
        found = {
            row[0] for row in connection.execute(text("SELECT DISTINCT sender_id FROM events"))
        }
    engine.dispose()
    return found


def references(database_url: str) -> set[str]:
    with session_scope(database_url) as session:
        return set(session.execute(select(Booking.reference)).scalars())


@pytest.fixture()
def shared(faq_database: str, tmp_path: Path) -> tuple[str, str]:
    """Ana and Bob both used the REST channel without a sender (so both are in `rest:default`),
    and each also chatted on the website."""
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    save_conversation(tracker_url, "rest:default", "book me, 07911 123456", "and me: 07400 123456")
    save_conversation(tracker_url, "webchat:ana1", "hi, I'm Ana", contact_slot=ANA)
    save_conversation(tracker_url, "webchat:bob1", "hi, I'm Bob", contact_slot=BOB)
    add_booking(faq_database, "MB-ANA001", ANA, "rest:default")
    add_booking(faq_database, "MB-BOB001", BOB, "rest:default")
    add_booking(faq_database, "MB-BOB002", BOB, "webchat:bob1")
    return faq_database, tracker_url


def test_forgetting_ana_leaves_bob_alone(shared: tuple[str, str]) -> None:
    database_url, tracker_url = shared
    report = Forgetter(database_url, tracker_url, "GB").forget(ANA, None)
    assert report.conversations == {"webchat:ana1"}
    assert report.shared == {"rest:default"}
    assert report.bookings == ["MB-ANA001"]
    assert references(database_url) == {"MB-BOB001", "MB-BOB002"}
    assert conversations(tracker_url) == {"rest:default", "webchat:bob1"}


def test_a_shared_conversation_is_never_a_way_in(shared: tuple[str, str]) -> None:
    database_url, tracker_url = shared
    with pytest.raises(ValueError, match="shared"):
        Forgetter(database_url, tracker_url, "GB").forget(None, "rest:default")
    assert references(database_url) == {"MB-ANA001", "MB-BOB001", "MB-BOB002"}


def test_a_conversation_with_someone_elses_contact_is_left_alone(
    faq_database: str, tmp_path: Path
) -> None:
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    save_conversation(tracker_url, "webchat:ana1", "call me on 07911 123456")
    save_conversation(tracker_url, "webchat:mixed", "I'm 07911 123456, my friend is 07400 123456")
    with session_scope(faq_database) as session:
        session.add(HandoffRequest(conversation_id="webchat:mixed", contact=BOB))
    report = Forgetter(faq_database, tracker_url, "GB").forget(ANA, None)
    assert report.conversations == {"webchat:ana1"}
    assert report.shared == {"webchat:mixed"}
    assert report.handoffs == 0  # Bob's request stays
    assert conversations(tracker_url) == {"webchat:mixed"}


def test_dry_run_lists_what_would_go_by_id(
    shared: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url, tracker_url = shared
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_url)
    assert main(["privacy", "forget", "--contact", "07911 123456", "--dry-run"]) == 0
    output = capsys.readouterr().out
    assert "webchat:ana1" in output and "MB-ANA001" in output
    assert "rest:default" in output and "left alone" in output
    assert "MB-BOB" not in output and "webchat:bob1" not in output
    assert references(database_url) == {"MB-ANA001", "MB-BOB001", "MB-BOB002"}
    assert conversations(tracker_url) == {"rest:default", "webchat:ana1", "webchat:bob1"}
