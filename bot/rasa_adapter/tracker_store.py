"""The conversation store: Rasa's SQL tracker store, without the hot spots `make bench` found.

endpoints.yml names it by class path (`type: bot.rasa_adapter.tracker_store.SQLConversationStore`,
the way Rasa loads custom stores) with the same settings as Rasa's `SQL` store; `persistence`
gives it to TRACKER_STORE_URL too. Same tables, same rows, same trackers as Rasa's store; what
differs, measured with the bench:

- SQLite: SQLAlchemy 1.4 gives a file a `NullPool`, so Rasa opened and closed a connection for
  every read and every write of a conversation (a fifth of its CPU under load), and committed
  with a full fsync in rollback-journal mode. This store keeps a pool of connections in WAL
  mode with `synchronous=NORMAL`: a commit is then durable against a crash of the process (not
  of the whole machine, which is what PostgreSQL is for) and several times cheaper.
- Loading a conversation built an ORM object per stored event and looked up each event's class
  by walking all of `Event`'s subclasses; we read the JSON column only and remember the
  classes. These grow with the conversation, so they matter most for long ones.
- Loading and saving built the SQL query anew each time (SQLAlchemy then works out its cache
  key: a tenth of the CPU), and saving first counted the stored events to find the new ones.
  We build the queries once, and a tracker read from the store remembers how many of its events
  are stored, so saving only inserts the rest, in one statement.

These override methods of Rasa 3.6's `SQLTrackerStore` (`_retrieve`, `save`); the tests in
tests/rasa_adapter/test_tracker_store.py compare them with Rasa's own, so an upgrade that
changes them fails there first.
"""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

# On a tracker read from (or saved to) the store: how many of its events are stored.
STORED_EVENTS = "_massagebot_stored_events"

_event_classes: dict[str, type[Event]] = {}


def event_class(type_name: str) -> type[Event] | None:
    """Rasa's `Event.resolve_by_type`, remembered: it walks every subclass of `Event` for every
    event it deserialises, a fifth of the CPU of loading a long conversation."""
    found = _event_classes.get(type_name)
    if found is None:
        found = Event.resolve_by_type(type_name)
        if found is not None:
            _event_classes[type_name] = found
    return found


def deserialise_events(stored: list[dict[str, Any]]) -> list[Event]:
    """Rasa's `events.deserialise_events`, with the event classes remembered."""
    events = []
    for data in stored:
        name = data.get("event")
        cls = event_class(name) if name is not None else None
        event = cls._from_parameters(data) if cls is not None else None
        if event is not None:
            events.append(event)
        elif name is not None:
            logger.warning("Could not read a stored %r event", name)
    return events


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class SQLConversationStore(SQLTrackerStore):
    """Rasa's `SQLTrackerStore` (same settings, tables and results), faster; see the module."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (
            None,
            "",
            ":memory:",
        ):
            self._pool_sqlite()
        elif self.engine.dialect.name == "postgresql" and self.engine.driver == "psycopg2":
            self._guard_postgresql()
        self._queries: dict[bool, Any] = {}

    @staticmethod
    def get_db_url(
        dialect: str = "sqlite",
        host: str | None = None,
        port: int | None = None,
        db: str = "rasa.db",
        username: str | None = None,
        password: str | None = None,
        login_db: str | None = None,
        query: dict | None = None,
    ) -> Any:
        """Rasa's URL, built with `URL.create` (Rasa's `URL(...)` is deprecated in SQLAlchemy 1.4
        and warns at every start)."""
        if host and "://" in host:
            return host
        if host:
            from urllib.parse import urlsplit

            parsed = urlsplit(f"scheme://{host}")
            port = parsed.port or port
            host = parsed.hostname or host
        return sa.engine.URL.create(
            dialect,
            username=username,
            password=password,
            host=host,
            port=port,
            database=login_db or db,
            query=query or {},
        )

    def _pool_sqlite(self) -> None:
        """A pooled engine in WAL mode instead of Rasa's connection per read and write."""
        from sqlalchemy.orm import sessionmaker
        from sqlalchemy.pool import QueuePool

        pooled = sa.create_engine(
            self.engine.url,
            poolclass=QueuePool,
            pool_size=4,
            max_overflow=4,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
        sa.event.listen(pooled, "connect", sqlite_pragmas)
        self.engine.dispose()
        self.engine, self.sessionmaker = pooled, sessionmaker(bind=pooled)
        logger.debug("SQLite conversation store: pooled connections, WAL")

    def _guard_postgresql(self) -> None:
        """Rasa's engine, with connections pinged before use (after a database restart the pool
        holds dead ones, and each would fail a client's message) and DATABASE_TIMEOUT_SECONDS
        for connecting, locks and statements, as the clinic's own engine has them."""
        from rasa.core.tracker_store import create_engine_kwargs
        from sqlalchemy.orm import sessionmaker

        from bot.clinic.db import database_timeout, postgres_timeouts

        kwargs = create_engine_kwargs(self.engine.url)  # Rasa's pool size, schema
        connect_args = kwargs.pop("connect_args", {})
        options = " ".join(
            str(given)
            for given in (
                self.engine.dialect.create_connect_args(self.engine.url)[1].get("options"),
                connect_args.get("options"),
            )
            if given
        )
        guarded = sa.create_engine(
            self.engine.url,
            pool_pre_ping=True,
            **kwargs,
            connect_args={**connect_args, **postgres_timeouts(database_timeout(), options)},
        )
        self.engine.dispose()
        self.engine, self.sessionmaker = guarded, sessionmaker(bind=guarded)

    def _events_query(self, all_sessions: bool) -> Any:
        """Rasa's `_event_query` (the JSON of a sender's events, of the latest session unless
        `all_sessions`), built once with the sender as a parameter."""
        query = self._queries.get(all_sessions)
        if query is None:
            events = self.SQLEvent.__table__.c
            sender = sa.bindparam("sender_id")
            query = sa.select(events.data).where(events.sender_id == sender)
            if not all_sessions:
                session_start = (
                    sa.select(sa.func.max(events.timestamp))
                    .where(
                        events.sender_id == sender,
                        events.type_name == SessionStarted.type_name,
                    )
                    .scalar_subquery()
                )
                query = query.where(
                    sa.or_(events.timestamp >= session_start, session_start.is_(None))
                )
            query = query.order_by(events.id)
            self._queries[all_sessions] = query
        return query

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """Rasa's `_retrieve`, reading only the events' JSON column."""
        query = self._events_query(fetch_events_from_all_sessions)
        with self.session_scope() as session:
            rows = session.execute(query, {"sender_id": sender_id})
            stored = [json.loads(data) for (data,) in rows]
        if not (self.domain and stored):
            return None
        tracker = DialogueStateTracker.from_events(
            sender_id, deserialise_events(stored), self.domain.slots
        )
        if not fetch_events_from_all_sessions:  # what `save` compares with
            tracker.__dict__[STORED_EVENTS] = len(stored)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's `save`: appends the events the store does not have yet.

        Rasa counts the stored events of the latest session to find them; a tracker this store
        read or saved knows the count already (one conversation is handled by one server at a
        time: the lock store sees to that). Others are counted as before.
        """
        await self.stream_events(tracker)
        stored = tracker.__dict__.get(STORED_EVENTS)
        known = stored is not None and stored <= len(tracker.events)
        with self.session_scope() as session:
            if known and tracker._max_event_history is None:
                new = itertools.islice(tracker.events, stored, None)
            else:
                new = self._additional_events(session, tracker)
            rows = []
            for event in new:
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {})
                        .get("intent", {})
                        .get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
                session.commit()
        tracker.__dict__[STORED_EVENTS] = len(tracker.events)
