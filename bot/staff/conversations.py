"""Conversations as staff see them: resuming one through Rasa's HTTP API, and moving stored
conversations to ids keyed by channel.

`massagebot conversations migrate-ids [--dry-run]` rewrites conversations stored before ids
carried their channel (`5f2c…` → `webchat:5f2c…`, `+4479…` → `twilio:+4479…`): in the tracker
store (Rasa's `events` table, SQLite or PostgreSQL) and in our tables (bookings, hand-off
requests, unanswered questions, and hand-off notices still waiting in the outbox), so staff tools,
privacy requests and the running bot agree.
Each conversation's channel is the one its first client message came through (Rasa stores it with
every message); conversations without one are guessed from the id (`bot.clinic.conversations`).
It is idempotent: keyed ids are left alone, so running it twice changes nothing. A conversation
whose new id is already in use (the client came back after the upgrade, before the migration) is
reported and left as it is.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from sqlalchemy import create_engine, inspect, select, text, update

from bot.clinic.conversations import channel_of, legacy_key
from bot.clinic.db import migrate, session_scope
from bot.clinic.models import Booking, HandoffRequest, OutboxMessage, UnansweredQuestion


def resume_conversation(
    rasa_url: str, token: str, conversation_id: str, timeout: float = 10.0
) -> None:
    """Un-pause the bot for a conversation staff have finished with (Rasa's HTTP API).

    The id is escaped whole (`webchat:a/b` → `webchat%3Aa%2Fb`): ids once came from clients,
    and an unescaped `/`, `?` or `#` would address another route. The token goes in a header,
    never in the URL that proxies and access logs keep.

    A hand-off during opening hours pauses the conversation inside the hand-off action, so no
    `action_listen` follows it; without one, Rasa's rules (which start after listening) would
    match nothing and the client's next message would get no answer. So the resume is followed
    by `action_listen`, as if the bot had just listened."""
    if not rasa_url:
        raise RuntimeError("RASA_URL is not set, so the conversation can't be resumed from here")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.post(
        f"{rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe='')}/tracker/events",
        json=[{"event": "resume"}, {"event": "action", "name": "action_listen"}],
        headers=headers,
        timeout=timeout,
    )
    response.raise_for_status()


# --- migrate-ids --------------------------------------------------------------------------------


@dataclass
class MigrationReport:
    tracker: dict[str, str] = field(default_factory=dict)  # old id → new id
    clashes: list[str] = field(default_factory=list)
    mixed: list[str] = field(default_factory=list)  # messages from more than one channel
    rows: Counter[str] = field(default_factory=Counter)


def tracker_channels(tracker_url: str) -> dict[str, list[str]]:
    """Each un-keyed conversation in the tracker store → the channels of its client messages,
    in order."""
    engine = create_engine(tracker_url, future=True)
    found: dict[str, list[str]] = {}
    try:
        if not inspect(engine).has_table("events"):
            return {}
        with engine.connect() as connection:
            for sender, kind, data in connection.execute(
                text("SELECT sender_id, type_name, data FROM events ORDER BY id")
            ):
                if channel_of(sender):
                    continue
                channels = found.setdefault(sender, [])
                if kind == "user":
                    channel = (json.loads(data) or {}).get("input_channel")
                    if channel:
                        channels.append(str(channel))
    finally:
        engine.dispose()
    return found


def migrate_ids(
    database_url: str, tracker_url: str | None, dry_run: bool = False
) -> MigrationReport:
    report = MigrationReport()
    channels = tracker_channels(tracker_url) if tracker_url else {}
    mapping = {old: legacy_key(old, found[0] if found else None) for old, found in channels.items()}
    report.mixed = sorted(sender for sender, found in channels.items() if len(set(found)) > 1)
    if tracker_url and mapping:
        engine = create_engine(tracker_url, future=True)
        try:
            with engine.begin() as connection:
                existing = {
                    row[0]
                    for row in connection.execute(text("SELECT DISTINCT sender_id FROM events"))
                }
                for old, new in sorted(mapping.items()):
                    if new in existing:
                        report.clashes.append(old)
                        continue
                    report.tracker[old] = new
                    if not dry_run:
                        connection.execute(
                            text("UPDATE events SET sender_id = :new WHERE sender_id = :old"),
                            {"new": new, "old": old},
                        )
        finally:
            engine.dispose()
    known = {**mapping, **report.tracker}
    for old in report.clashes:
        known.pop(old, None)  # left as it is in the tracker: our rows keep matching it
    with session_scope(database_url) as session:
        for model, column in (
            (Booking, Booking.conversation_id),
            (HandoffRequest, HandoffRequest.conversation_id),
            (UnansweredQuestion, UnansweredQuestion.conversation),
        ):
            for (value,) in session.execute(select(column).distinct()).all():
                if not value or channel_of(value) or value in report.clashes:
                    continue
                new = known.get(value) or legacy_key(value, None)
                count = session.execute(
                    update(model)
                    .where(column == value)
                    .values({column.key: new})
                    .execution_options(synchronize_session=False)
                ).rowcount
                report.rows[model.__tablename__] += count
        _migrate_pending_notices(session, known, report)
        if dry_run:
            session.rollback()
    return report


def _migrate_pending_notices(session: Any, known: dict[str, str], report: MigrationReport) -> None:
    """A hand-off notice not yet delivered names its conversation: staff would get an id that
    no longer exists. Delivered ones are history and stay as they were sent."""
    pending = select(OutboxMessage).where(OutboxMessage.status == "pending")
    for message in session.execute(pending).scalars():
        handoff = (message.payload or {}).get("handoff") or {}
        old = handoff.get("conversation_id")
        if not old or channel_of(old) or old in report.clashes:
            continue
        new = known.get(old) or legacy_key(old, None)
        payload = json.loads(json.dumps(message.payload))  # a new value, so the JSON is saved
        payload["handoff"]["conversation_id"] = new
        if isinstance(payload.get("text"), str):
            said = f"conversation: {old}."
            payload["text"] = payload["text"].replace(said, f"conversation: {new}.")
        message.payload = payload
        report.rows[OutboxMessage.__tablename__] += 1
    session.flush()


def _migrate_command(settings: Any, args: argparse.Namespace) -> int:
    from bot.rasa_adapter.persistence import tracker_store_url

    migrate(settings.database_url)
    tracker_url = tracker_store_url(args.endpoints)
    if tracker_url is None:
        print(
            "error: the tracker store in endpoints.yml is not SQL; only SQL tracker stores "
            "(SQLite, PostgreSQL) can be migrated here",
            file=sys.stderr,
        )
        return 2
    report = migrate_ids(settings.database_url, tracker_url, dry_run=args.dry_run)
    verb = "Would move" if args.dry_run else "Moved"
    print(f"{verb} {len(report.tracker)} conversation(s) in the tracker store to keyed ids:")
    for old, new in sorted(report.tracker.items()):
        print(f"  {old} -> {new}")
    for table, count in sorted(report.rows.items()):
        print(f"{verb} {count} row(s) of {table}")
    if report.mixed:
        print("Conversations with messages from more than one channel (kept with the channel of")
        print("their first message; the rest came from another client or a test):")
        for sender in report.mixed:
            print(f"  {sender}")
    if report.clashes:
        print("Left alone, their new id is already in use (check them by hand):")
        for sender in report.clashes:
            print(f"  {sender}")
    return 0


def register(commands: Any) -> None:
    """Adds `conversations migrate-ids` to the main CLI's sub-commands."""
    conversations = commands.add_parser(
        "conversations", help="stored conversations and their ids"
    ).add_subparsers(required=True)
    migrate_parser = conversations.add_parser(
        "migrate-ids", help="key conversations stored by older versions by their channel"
    )
    migrate_parser.add_argument("--dry-run", action="store_true", help="report, change nothing")
    migrate_parser.add_argument(
        "--endpoints", type=Path, default=None, help="endpoints.yml (for the tracker store)"
    )
    migrate_parser.set_defaults(handler=_migrate_command)
