"""Hot spots of Rasa 3.6 that our launcher fixes, found by profiling `make bench`.

- Every custom action's response is checked with `jsonschema.validate(result, schema)`, which
  first re-validates the *schema itself* against the JSON Schema meta-schema: with jsonschema 4
  that was over a third of the Rasa server's CPU under load. We compile the validator once; the
  response is checked exactly as before and an invalid one still raises the same error.
- The default SQLite tracker store opens a new connection for every read and write and commits
  with a full fsync in rollback-journal mode. We give it a connection pool, WAL and
  `synchronous=NORMAL`: a commit is then durable against a crash of the process (not of the
  whole machine, which is what PostgreSQL is for) and several times cheaper.
- Every action call opened a new HTTP connection to the action server; we keep them alive.
- Loading a conversation built an ORM object per stored event and looked up each event's class
  by walking all of `Event`'s subclasses; we read the JSON column only and remember the
  classes. These grow with the conversation, so they matter most for long ones.
- Loading and saving a conversation built its SQL query anew each time (SQLAlchemy then works
  out the query's cache key, a tenth of the CPU), and saving first counted the stored events
  to find the new ones. We build the queries once, and a tracker read from the store remembers
  how many of its events are stored, so saving only inserts the rest, in one statement.

All of these patch Rasa 3.6 internals; tests/rasa_adapter/test_speedups.py checks the behaviour
stays the same, so a Rasa upgrade that changes them fails there first.
"""

from __future__ import annotations

import logging
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Rasa's own functions, recorded the first time we patch and never overwritten, so patching
# again (or a test putting things back) can never wrap a patch in itself.
_originals: dict[str, Any] = {}


@lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, instead of on every action call
    return cls(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """Rasa's `RemoteAction._validate_action_result` with a compiled validator."""
    from jsonschema import ValidationError
    from rasa.shared.constants import DOCS_BASE_URL

    try:
        _action_result_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def tune_tracker_store(tracker_store: Any) -> None:
    """A pooled engine in WAL mode for an SQLite tracker store (no-op for any other store).

    SQLAlchemy 1.4 gives SQLite files a `NullPool`, so Rasa opened and closed a connection for
    every read and every write of a conversation: a fifth of its CPU under load.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.orm import sessionmaker
    from sqlalchemy.pool import QueuePool

    store = tracker_store
    while hasattr(store, "_tracker_store"):  # Rasa wraps stores (fail-safe, awaitable)
        store = store._tracker_store
    engine = getattr(store, "engine", None)
    if engine is None or engine.dialect.name != "sqlite" or not hasattr(store, "sessionmaker"):
        return
    pooled = create_engine(
        engine.url,
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=4,
        connect_args={"check_same_thread": False, "timeout": 10},
    )
    event.listen(pooled, "connect", sqlite_pragmas)
    store.engine, store.sessionmaker = pooled, sessionmaker(bind=pooled)
    engine.dispose()
    logger.debug("SQLite tracker store: pooled connections, WAL")


_event_classes: dict[str, Any] = {}


def _resolve_event_type(type_name: str, default: Any = None) -> Any:
    """Rasa's `Event.resolve_by_type`, remembering what it found: the original walks every
    subclass of `Event` for every event it deserialises, a fifth of the CPU spent on a long
    conversation."""
    found = _event_classes.get(type_name)
    if found is not None:
        return found
    found = _originals["resolve"](type_name, default)
    if found is not None and found is not default:
        _event_classes[type_name] = found
    return found


# On a tracker read from (or saved to) the SQL store: how many of its events are stored.
_STORED = "_massagebot_stored_events"


def _events_query(store: Any, all_sessions: bool) -> Any:
    """Rasa's `SQLTrackerStore._event_query` (the JSON of a sender's events, of the latest
    session unless `all_sessions`), built once per store with the sender as a parameter."""
    import sqlalchemy as sa
    from rasa.shared.core.events import SessionStarted

    key = f"_massagebot_events_query_{all_sessions}"
    query = store.__dict__.get(key)
    if query is None:
        events = store.SQLEvent.__table__.c
        sender = sa.bindparam("sender_id")
        query = sa.select(events.data).where(events.sender_id == sender)
        if not all_sessions:
            session_start = (
                sa.select(sa.func.max(events.timestamp))
                .where(events.sender_id == sender, events.type_name == SessionStarted.type_name)
                .scalar_subquery()
            )
            query = query.where(sa.or_(events.timestamp >= session_start, session_start.is_(None)))
        query = query.order_by(events.id)
        store.__dict__[key] = query
    return query


async def _retrieve(self: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
    """Rasa's `SQLTrackerStore._retrieve`, reading only the events' JSON column instead of
    building an ORM object per event."""
    import json

    from rasa.shared.core.trackers import DialogueStateTracker

    query = _events_query(self, fetch_events_from_all_sessions)
    with self.session_scope() as session:
        rows = session.execute(query, {"sender_id": sender_id})
        events = [json.loads(data) for (data,) in rows]
    if not (self.domain and events):
        return None
    tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
    if not fetch_events_from_all_sessions:  # what `save` compares with
        tracker.__dict__[_STORED] = len(events)
    return tracker


async def _save(self: Any, tracker: Any) -> None:
    """Rasa's `SQLTrackerStore.save`: appends the events the store does not have yet.

    Rasa counts the stored events of the latest session to find them; a tracker this store
    read or saved knows the count already (one conversation is handled by one server at a
    time: the lock store sees to that). Others are counted as before.
    """
    import itertools
    import json

    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    await self.stream_events(tracker)
    stored = tracker.__dict__.get(_STORED)
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
    tracker.__dict__[_STORED] = len(tracker.events)


def import_before_rasa() -> None:
    """Settle an import before Rasa loads TensorFlow; call it before importing Rasa.

    TensorFlow 2.12 imports JAX, if installed, only to offer TFLite conversion of JAX models,
    and carries on without it (`except ImportError`). Rasa never converts models, so we block
    the import (Python's documented `sys.modules[name] = None`): ~65 MB and ~1 s less.

    (skops, Rasa's loader for the logistic regression, is not imported at all with our
    `nlu.intent_classifier`; imported after TensorFlow it would scan all loaded modules for
    each scikit-learn type, which took seconds.)
    """
    if "jax" not in sys.modules:
        sys.modules["jax"] = None  # type: ignore[assignment]


_preloaded: dict[str, Any] = {}


def _model_key(model_path: Any) -> str:
    return str(Path(model_path).resolve())


def _load_model(model_path: Any) -> Any:
    """Rasa's `MessageProcessor._load_model`, answered from `preload_model` for its model."""
    loaded = _preloaded.get(_model_key(model_path))
    if loaded is not None:
        return loaded
    return _originals["load_model"](model_path)


def preload_model(model_path: str) -> None:
    """Load the model in the launcher, before Sanic forks its workers (`SANIC_WORKERS`).

    Each worker used to load the model for itself after the fork: the workers started one after
    the other on a busy machine and each held its own copy (~600 MB). Forked after the load, they
    start at once and share the model's memory copy-on-write. `gc.freeze()` (Python's advice
    for this) keeps the garbage collector from writing to the shared objects, which would copy
    them into every worker after all.
    """
    import gc

    from rasa.core.processor import MessageProcessor

    _originals.setdefault("load_model", MessageProcessor.__dict__["_load_model"].__func__)
    _preloaded[_model_key(model_path)] = _originals["load_model"](model_path)
    MessageProcessor._load_model = staticmethod(_load_model)  # type: ignore[method-assign]
    gc.freeze()


def install() -> None:
    """Patch Rasa (idempotent)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import Event

    _originals.setdefault("validate", RemoteAction._validate_action_result)
    _originals.setdefault("resolve", Event.resolve_by_type)
    from bot.rasa_adapter import model_speedups

    _originals.setdefault("retrieve", SQLTrackerStore._retrieve)
    _originals.setdefault("save", SQLTrackerStore.save)
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_resolve_event_type)  # type: ignore[method-assign]
    SQLTrackerStore._retrieve = _retrieve  # type: ignore[method-assign]
    SQLTrackerStore.save = _save  # type: ignore[method-assign]
    model_speedups.install()


class _KeptSession:
    """`async with` yields the shared session and leaves it open for the next call."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *_: Any) -> None:
        return None


def keep_connections(endpoint: Any) -> None:
    """Reuse HTTP connections to the action server.

    Rasa's `EndpointConfig.request` builds a new `aiohttp.ClientSession` — a new TCP connection
    — for every action call. One session per endpoint keeps them alive; idle connections are
    dropped after 4 s, before the action server's 5 s keep-alive would close them under us.
    """
    import aiohttp

    if endpoint is None or getattr(endpoint, "_massagebot_kept", None) is not None:
        return
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    state: dict[str, Any] = {}

    def session() -> Any:  # what Rasa's `EndpointConfig.session` builds, kept
        current = state.get("session")
        if current is None or current.closed:
            auth = None
            if endpoint.basic_auth:
                auth = aiohttp.BasicAuth(
                    endpoint.basic_auth["username"], endpoint.basic_auth["password"]
                )
            current = aiohttp.ClientSession(
                headers=endpoint.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(limit=32, keepalive_timeout=4),
            )
            state["session"] = current
        return _KeptSession(current)

    endpoint.session = session
    endpoint._massagebot_kept = state


async def tune_agent_on_start(app: Any, _loop: Any) -> None:
    """A Sanic `after_server_start` listener: the agent (and its stores) exist by then."""
    agent = getattr(app.ctx, "agent", None)
    if agent is not None:
        tune_tracker_store(agent.tracker_store)
        keep_connections(getattr(agent, "action_endpoint", None))
