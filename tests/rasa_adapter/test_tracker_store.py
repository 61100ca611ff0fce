"""Our conversation store keeps what Rasa's SQL tracker store keeps, and reads it back the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from bot.rasa_adapter import persistence, tracker_store
from bot.rasa_adapter.tracker_store import SQLConversationStore

DOMAIN = Domain.from_dict({"slots": {"x": {"type": "text", "mappings": []}}})


def _session(*texts: str) -> list[Event]:
    events: list[Event] = [ActionExecuted("action_session_start"), SessionStarted()]
    for said in texts:
        events += [
            ActionExecuted("action_listen"),
            UserUttered(said, intent={"name": "greet", "confidence": 0.9}),
            ActionExecuted("utter_greet"),
            BotUttered("hello", metadata={"utter_action": "utter_greet"}),
        ]
    return events


def _rows(store: SQLTrackerStore) -> list[tuple]:
    with store.engine.connect() as connection:
        query = text(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
            "FROM events ORDER BY id"
        )
        return [tuple(row) for row in connection.execute(query)]


@pytest.fixture()
def stores(tmp_path: Path):
    ours = SQLConversationStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "ours.db"))
    rasa = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    yield ours, rasa
    for store in (ours, rasa):
        store.engine.dispose()


async def test_conversation_loads_as_rasas_store_loads_it(stores) -> None:
    ours, _ = stores
    rasas_view = SQLTrackerStore(DOMAIN, dialect="sqlite", db=ours.engine.url.database)
    tracker = DialogueStateTracker("c", DOMAIN.slots)
    for event in [*_session("one"), SlotSet("x", "kept"), *_session("two")]:
        tracker.update(event)
    await ours.save(tracker)

    loaded = await ours.retrieve("c")
    assert loaded.events == (await rasas_view.retrieve("c")).events  # the latest session
    full = await ours.retrieve_full_tracker("c")
    rasas_full = await rasas_view.retrieve_full_tracker("c")
    assert full.events == rasas_full.events == tracker.events
    assert full.current_slot_values() == rasas_full.current_slot_values()
    assert await ours.retrieve("nobody") is None
    assert await ours.keys() == await rasas_view.keys() == ["c"]
    rasas_view.engine.dispose()


async def test_saving_appends_exactly_the_rows_rasa_writes(stores) -> None:
    """A tracker read from the store appends only what it added, also after a new session
    started inside it; one made elsewhere is counted, as before."""
    ours, rasa = stores
    made_here = DialogueStateTracker("c", [])
    for event in _session("one"):
        made_here.update(event)
    await ours.save(made_here)
    # Nothing new: nothing written. (Rasa would write the last event again: it counts the
    # stored events from `session_started`, and `action_session_start` comes before it.)
    await ours.save(made_here)
    await rasa.save(made_here)
    assert _rows(ours) == _rows(rasa)

    later = [*_session("two")[2:], *_session("three")]  # then a new session
    tracker, rasas_tracker = await ours.retrieve("c"), await rasa.retrieve("c")
    assert tracker.__dict__[tracker_store.STORED_EVENTS] == len(made_here.events) - 1
    for event in later:
        tracker.update(event)
        rasas_tracker.update(event)
    await ours.save(tracker)
    await ours.save(tracker)
    await rasa.save(rasas_tracker)
    assert _rows(ours) == _rows(rasa)
    stored = [json.loads(row[-1]) for row in _rows(ours)]
    assert stored == [event.as_dict() for event in [made_here.events[0], *tracker.events]]


async def test_a_tracker_with_a_history_limit_is_counted_as_rasa_counts(stores) -> None:
    ours, rasa = stores
    events = _session("one", "two")
    for store in (ours, rasa):
        tracker = DialogueStateTracker("c", [], max_event_history=3)
        for event in events:
            tracker.update(event)
        await store.save(tracker)
    assert _rows(ours) == _rows(rasa)


def test_events_are_read_as_rasa_reads_them() -> None:
    stored = [event.as_dict() for event in [*_session("hi"), SlotSet("x", 1)]]
    stored += [{"event": "topic", "topic": "old"}, {"no event": True}]
    assert tracker_store.deserialise_events(stored) == deserialise_events(stored)
    assert tracker_store.event_class("user") is UserUttered
    assert tracker_store.event_class("user") is UserUttered  # remembered
    with pytest.raises(ValueError, match="Unknown event name"):
        tracker_store.deserialise_events([{"event": "nonsense"}])


async def test_sqlite_is_pooled_in_wal_mode(stores) -> None:
    ours, rasa = stores
    assert isinstance(ours.engine.pool, QueuePool)
    with ours.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    with rasa.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "delete"


def test_database_urls_are_rasas() -> None:
    settings = {
        "dialect": "postgresql",
        "host": "db.example:6543",
        "port": 5432,
        "db": "bot",
        "username": "u",
        "password": "p@ss",
        "query": {"sslmode": "require"},
    }
    ours = SQLConversationStore.get_db_url(**settings)
    assert str(ours) == str(SQLTrackerStore.get_db_url(**settings))
    assert ours.port == 6543  # the port given with the host wins, as in Rasa
    assert SQLConversationStore.get_db_url(host="postgresql://x/y") == "postgresql://x/y"


async def test_rasa_loads_it_by_class_path_as_persistence_names_it(tmp_path: Path) -> None:
    """endpoints.yml and TRACKER_STORE_URL give this store; staff tools find its database."""
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    section = persistence.tracker_store_endpoint(url)
    assert section["type"] == "bot.rasa_adapter.tracker_store.SQLConversationStore"
    store = TrackerStore.create(EndpointConfig.from_dict(dict(section)), domain=DOMAIN)
    assert type(store) is SQLConversationStore  # async: Rasa does not wrap it
    store.engine.dispose()

    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f"tracker_store:\n  type: {persistence.TRACKER_STORE_CLASS}\n  dialect: sqlite\n"
        f"  db: {tmp_path / 'kept.db'}\n"
    )
    assert persistence.tracker_store_url(endpoints, env={}) == f"sqlite:///{tmp_path / 'kept.db'}"
    endpoints.write_text("tracker_store:\n  type: redis\n")
    assert persistence.tracker_store_url(endpoints, env={}) is None


async def test_postgresql_connections_are_checked_and_time_limited(postgres_url: str) -> None:
    """After the database restarts, the pool's dead connections are noticed before use (no
    client message fails on one), and a stalled database fails after DATABASE_TIMEOUT_SECONDS
    instead of holding the message for ever."""
    from sqlalchemy import create_engine

    from tests.support.services import POSTGRES_ADMIN_URL

    store = SQLConversationStore(DOMAIN, host=postgres_url)
    try:
        await store.save(DialogueStateTracker.from_events("client", _session("hi")))
        with store.engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "5s"
            assert connection.execute(text("SHOW lock_timeout")).scalar() == "5s"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:  # every connection of the store dies
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"),
                {"db": store.engine.url.database},
            )
        admin.dispose()
        tracker = await store.retrieve("client")
        assert tracker is not None and tracker.latest_message.text == "hi"
    finally:
        store.engine.dispose()
