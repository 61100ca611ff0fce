"""`massagebot conversations migrate-ids`: conversations stored before ids carried their channel
are moved to keyed ids, in the tracker store and in our tables, once and consistently."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, select, text

from bot.clinic.db import session_scope
from bot.clinic.models import HandoffRequest, OutboxMessage, UnansweredQuestion
from bot.staff.cli import main
from bot.staff.conversations import migrate_ids

WIDGET = "5f2c9b0e6d1a4c3b8a7f6e5d4c3b2a19"


def save(url: str, sender: str, *turns: tuple[str, str]) -> None:
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=url.removeprefix("sqlite:///"))
    tracker = DialogueStateTracker(sender, [])
    tracker.update(SessionStarted())
    for channel, message in turns:
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(message, input_channel=channel))
        tracker.update(BotUttered("ok"))
    asyncio.run(store.save(tracker))
    store.engine.dispose()


def senders(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT DISTINCT sender_id FROM events"))
        found = {row[0] for row in rows}
    engine.dispose()
    return found


def our_ids(database_url: str) -> set[tuple[str, str | None]]:
    with session_scope(database_url) as session:
        handoffs = session.execute(select(HandoffRequest.conversation_id)).scalars()
        questions = session.execute(select(UnansweredQuestion.conversation)).scalars()
        return {("handoff", c) for c in handoffs} | {("question", c) for c in questions}


@pytest.fixture()
def stores(faq_database: str, tmp_path: Path) -> tuple[str, str]:
    tracker = f"sqlite:///{tmp_path / 'tracker.db'}"
    save(tracker, WIDGET, ("socketio", "hi"), ("socketio", "book me"))
    save(tracker, "+447911123456", ("twilio", "hello"))
    save(tracker, "whatsapp:+447911123456", ("twilio", "hello"))
    save(tracker, "ana-script", ("rest", "what are your hours?"))
    save(tracker, "taken", ("socketio", "hi"), ("rest", "Eve here"))  # REST wrote into a chat
    save(tracker, "quiet")  # a session start, no message
    save(tracker, "bob", ("rest", "hi"))
    save(tracker, "rest:bob", ("rest", "hi again"))  # Bob came back after the upgrade
    with session_scope(faq_database) as session:
        session.add(HandoffRequest(conversation_id="+447911123456", contact=None, transcript=""))
        session.add(HandoffRequest(conversation_id="bob", contact=None, transcript=""))
        session.add(UnansweredQuestion(text="hours?", reason="no_entry", conversation=WIDGET))
        session.add(UnansweredQuestion(text="x", reason="no_entry", conversation="orphan"))
    return faq_database, tracker


def test_conversations_move_to_keyed_ids(stores: tuple[str, str]) -> None:
    database_url, tracker = stores
    report = migrate_ids(database_url, tracker)
    assert report.tracker == {
        WIDGET: f"webchat:{WIDGET}",
        "+447911123456": "twilio:+447911123456",
        "ana-script": "rest:ana-script",
        "taken": "webchat:taken",
        "quiet": "rest:quiet",
    }
    assert report.mixed == ["taken"]
    assert report.clashes == ["bob"]
    assert senders(tracker) == {
        f"webchat:{WIDGET}", "twilio:+447911123456", "whatsapp:+447911123456",
        "rest:ana-script", "webchat:taken", "rest:quiet", "bob", "rest:bob",
    }  # fmt: skip
    assert our_ids(database_url) == {
        ("handoff", "twilio:+447911123456"),
        ("handoff", "bob"),  # left with its unmigrated conversation
        ("question", f"webchat:{WIDGET}"),
        ("question", "rest:orphan"),  # not in the tracker: guessed from the id
    }


def test_a_second_run_changes_nothing(stores: tuple[str, str]) -> None:
    database_url, tracker = stores
    migrate_ids(database_url, tracker)
    before = (senders(tracker), our_ids(database_url))
    again = migrate_ids(database_url, tracker)
    assert again.tracker == {} and sum(again.rows.values()) == 0
    assert (senders(tracker), our_ids(database_url)) == before


def test_dry_run_from_the_command_line(
    stores: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url, tracker = stores
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TRACKER_STORE_URL", tracker)
    before = (senders(tracker), our_ids(database_url))
    assert main(["conversations", "migrate-ids", "--dry-run"]) == 0
    output = capsys.readouterr().out
    assert f"{WIDGET} -> webchat:{WIDGET}" in output
    assert "taken" in output and "bob" in output
    assert (senders(tracker), our_ids(database_url)) == before
    assert main(["conversations", "migrate-ids"]) == 0
    assert "rest:quiet" in senders(tracker)


def notice(conversation: str, status: str) -> OutboxMessage:
    return OutboxMessage(
        delivery_id=f"{conversation}-{status}",
        target="handoff",
        event="handoff.requested",
        status=status,
        payload={
            "text": f"A client asked to talk to a person (now). conversation: {conversation}.",
            "handoff": {"id": 1, "conversation_id": conversation},
        },
    )


def test_hand_off_notices_waiting_in_the_outbox_name_the_new_id(stores: tuple[str, str]) -> None:
    database_url, tracker = stores
    with session_scope(database_url) as session:
        session.add(notice("+447911123456", "pending"))
        session.add(notice(WIDGET, "delivered"))  # already sent: history stays as it was
    report = migrate_ids(database_url, tracker)
    assert report.rows["outbox"] == 1
    with session_scope(database_url) as session:
        payloads = {m.status: m.payload for m in session.execute(select(OutboxMessage)).scalars()}
    assert payloads["pending"]["handoff"]["conversation_id"] == "twilio:+447911123456"
    assert payloads["pending"]["text"].endswith("conversation: twilio:+447911123456.")
    assert payloads["delivered"]["handoff"]["conversation_id"] == WIDGET
    assert migrate_ids(database_url, tracker).rows["outbox"] == 0  # idempotent
