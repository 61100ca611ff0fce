"""Forgetting a client on request: everything we store about them — and nobody else's.

`massagebot privacy forget --contact X` and/or `--conversation ID` (both repeatable) finds the
client's conversations: those staff name, and those where one of the client's contacts appears (a
booking's or hand-off's contact, a number typed in a message or said back by the bot, a contact
slot). It then deletes:

- bookings (their time slots go with them) and hand-off requests with the client's contact or in
  the client's conversations,
- outbox messages about those bookings or requests, or naming the contact,
- unanswered questions asked in those conversations or containing the contact,
- the conversations themselves from the tracker store (every event).

Exactly one client: a conversation that also holds someone else's contact details is **shared**
(every sender-less REST call lands in `rest:default`; two people may use one chat) and is never
deleted, nor followed to find more conversations — it is listed, for staff to handle by hand.
A shared conversation named with `--conversation` is refused. Contacts found in the client's own
conversations (their e-mail where they were found by phone) are followed, one step.

Everything in our database goes in one transaction; the tracker store (possibly another
database) is cleared afterwards. `--dry-run` lists, by id, what would go. Tracker stores: SQL
only (SQLite, PostgreSQL — Rasa's `events` table); conversations in another store (Redis, Mongo,
DynamoDB) must be deleted there by hand. Copies outside the bot — the clinic's booking system,
staff chat notifications, e-mail, backups — are listed in docs/security.md for staff to handle.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, delete, inspect, select, text
from sqlalchemy.orm import Session

from bot.clinic.booking.contact import validate_contact
from bot.clinic.booking.lookups import forget_contact
from bot.clinic.db import session_scope
from bot.clinic.models import (
    Booking,
    BookingSlot,
    HandoffRequest,
    OutboxMessage,
    UnansweredQuestion,
)
from bot.clinic.redaction import EMAIL, PHONE

CONTACT_SLOTS = frozenset({"client_contact", "manage_contact", "handoff_contact"})
# Conversations every sender-less caller shares: never one client's, whatever they contain.
SHARED_CONVERSATIONS = frozenset({"rest:default", "default"})


@dataclass
class ForgetReport:
    contacts: set[str] = field(default_factory=set)
    conversations: set[str] = field(default_factory=set)
    shared: set[str] = field(default_factory=set)
    bookings: list[str] = field(default_factory=list)
    handoffs: int = 0
    outbox: int = 0
    unanswered: int = 0
    tracker_events: int = 0
    tracker_store: str = "not checked"

    def lines(self) -> list[str]:
        lines = [
            f"conversations: {len(self.conversations)} {' '.join(sorted(self.conversations))}",
            f"bookings: {len(self.bookings)} {' '.join(self.bookings)}",
            f"hand-off requests: {self.handoffs}",
            f"outbox messages: {self.outbox}",
            f"unanswered questions: {self.unanswered}",
            f"conversation events ({self.tracker_store}): {self.tracker_events}",
        ]
        if self.shared:
            lines.append(
                f"left alone, shared with other clients: {' '.join(sorted(self.shared))} "
                "(they also hold someone else's details; remove this client's messages by hand)"
            )
        return [line.rstrip() for line in lines]


def normalise(contact: str, region: str) -> str | None:
    """The form contacts are stored in (E.164 phone, e-mail), case-folded; None if neither."""
    checked = validate_contact(contact, region)
    return str(checked.value).casefold() if checked.ok else None


def contacts_in(text: str, region: str) -> set[str]:
    """Every phone number or e-mail address a piece of free text contains, normalised."""
    found = {m.group() for m in EMAIL.finditer(text)} | {m.group() for m in PHONE.finditer(text)}
    return {n for n in (normalise(c, region) for c in found) if n}


class Forgetter:
    def __init__(self, database_url: str, tracker_url: str | None, region: str) -> None:
        self.database_url = database_url
        self.tracker_url = tracker_url
        self.region = region

    # --- finding -------------------------------------------------------------------------------

    def _tracker_conversations(self) -> dict[str, set[str]]:
        """Contacts seen in each stored conversation (typed, said back, or kept in a slot)."""
        found: dict[str, set[str]] = {}
        if not self.tracker_url:
            return found
        engine = create_engine(self.tracker_url, future=True)
        try:
            if not inspect(engine).has_table("events"):
                return found
            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT sender_id, type_name, data FROM events "
                        "WHERE type_name IN ('user', 'bot', 'slot')"
                    )
                )
                for sender, kind, data in rows:
                    event = json.loads(data)
                    if kind == "slot" and event.get("name") in CONTACT_SLOTS:
                        value = normalise(str(event.get("value") or ""), self.region)
                        seen = {value} if value else set()
                    elif kind in ("user", "bot"):  # typed, or said back in a booking summary
                        seen = contacts_in(event.get("text") or "", self.region)
                    else:
                        continue
                    if seen:
                        found.setdefault(sender, set()).update(seen)
        finally:
            engine.dispose()
        return found

    def find(
        self, session: Session, contacts: Iterable[str], conversations: Iterable[str]
    ) -> tuple[set[str], set[str], set[str]]:
        """(the client's contacts, their conversations, shared conversations left alone).

        Staff name the client by contact and/or conversation. A named conversation's contacts
        are the client's; so are contacts in conversations found through the client's contacts,
        one step. A found conversation that holds any contact not the client's is shared."""
        contacts, named = set(contacts), set(conversations)
        for conversation in named & SHARED_CONVERSATIONS:
            raise ValueError(
                f"'{conversation}' is shared by every REST call without a sender; "
                "forget the client by --contact instead"
            )
        held = {c: set(seen) for c, seen in self._tracker_conversations().items()}
        rows: list[tuple[str | None, str | None]] = [
            *session.execute(select(Booking.contact, Booking.conversation_id)).all(),
            *session.execute(select(HandoffRequest.contact, HandoffRequest.conversation_id)),
        ]
        for contact, conversation in rows:
            normalised = normalise(contact, self.region) if contact else None
            if conversation and normalised:
                held.setdefault(conversation, set()).add(normalised)
        for conversation in named:
            contacts |= held.get(conversation, set())
        found = {c for c, seen in held.items() if seen & contacts} | named
        shared = {
            c for c in found - named if c in SHARED_CONVERSATIONS or held.get(c, set()) - contacts
        }
        mine = found - shared
        # One step further: the client's other contact in their own conversations.
        for conversation in mine - named:
            contacts |= held.get(conversation, set())
        more = {c for c, seen in held.items() if seen & contacts} - mine - shared
        for conversation in more:
            if conversation in SHARED_CONVERSATIONS or held[conversation] - contacts:
                shared.add(conversation)
            else:
                mine.add(conversation)
        return contacts, mine, shared

    # --- deleting ------------------------------------------------------------------------------

    def forget(
        self,
        contact: str | Iterable[str] | None,
        conversation: str | Iterable[str] | None,
        dry_run: bool = False,
    ) -> ForgetReport:
        given = [contact] if isinstance(contact, str) else list(contact or [])
        named = {conversation} if isinstance(conversation, str) else set(conversation or [])
        start_contacts = set()
        for value in given:
            normalised = normalise(value, self.region)
            if normalised is None:
                raise ValueError(f"'{value}' is neither a phone number nor an e-mail address")
            start_contacts.add(normalised)
        report = ForgetReport()
        with session_scope(self.database_url) as session:
            contacts, conversations, shared = self.find(session, start_contacts, named)
            report.contacts, report.conversations, report.shared = contacts, conversations, shared
            bookings = [
                b
                for b in session.execute(select(Booking)).scalars()
                if (b.contact and b.contact.casefold() in contacts)
                or (b.conversation_id and b.conversation_id in conversations)
            ]
            handoffs = [
                h
                for h in session.execute(select(HandoffRequest)).scalars()
                if (h.contact and normalise(h.contact, self.region) in contacts)
                or (h.conversation_id and h.conversation_id in conversations)
            ]
            report.bookings = sorted(b.reference for b in bookings)
            report.handoffs = len(handoffs)
            markers = self._markers(bookings, handoffs, contacts, conversations)
            outbox = [
                m.id
                for m in session.execute(select(OutboxMessage)).scalars()
                if self._mentions(json.dumps(m.payload, ensure_ascii=False), markers)
            ]
            unanswered = [
                q.id
                for q in session.execute(select(UnansweredQuestion)).scalars()
                if (q.conversation and q.conversation in conversations)
                or contacts_in(q.text or "", self.region) & contacts
            ]
            report.outbox, report.unanswered = len(outbox), len(unanswered)
            if not dry_run:
                session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(outbox)))
                session.execute(
                    delete(UnansweredQuestion).where(UnansweredQuestion.id.in_(unanswered))
                )
                booking_ids = [b.id for b in bookings]
                session.execute(delete(BookingSlot).where(BookingSlot.booking_id.in_(booking_ids)))
                session.execute(delete(Booking).where(Booking.id.in_(booking_ids)))
                session.execute(
                    delete(HandoffRequest).where(HandoffRequest.id.in_([h.id for h in handoffs]))
                )
                for contact in contacts:
                    forget_contact(session, contact)
            else:
                session.rollback()
        report.tracker_events, report.tracker_store = self._forget_conversations(
            conversations, dry_run
        )
        return report

    def _markers(
        self,
        bookings: list[Booking],
        handoffs: list[HandoffRequest],
        contacts: set[str],
        conversations: set[str],
    ) -> list[str]:
        markers = [b.reference for b in bookings] + [b.contact for b in bookings]
        markers += [h.contact for h in handoffs if h.contact]
        markers += list(contacts) + list(conversations)
        return [m.casefold() for m in markers if m]

    @staticmethod
    def _mentions(payload: str, markers: list[str]) -> bool:
        folded = payload.casefold()
        return any(re.search(rf"(?<![\w]){re.escape(m)}(?![\w])", folded) for m in markers)

    def _forget_conversations(self, conversations: set[str], dry_run: bool) -> tuple[int, str]:
        if not self.tracker_url:
            return 0, "not an SQL store: delete the conversations there by hand"
        engine = create_engine(self.tracker_url, future=True)
        where = "sender_id IN :ids"
        try:
            if not conversations or not inspect(engine).has_table("events"):
                return 0, engine.url.get_backend_name()
            ids = bindparam("ids", expanding=True)
            with engine.begin() as connection:
                count = connection.execute(
                    text(f"SELECT COUNT(*) FROM events WHERE {where}").bindparams(ids),
                    {"ids": sorted(conversations)},
                ).scalar_one()
                if not dry_run:
                    connection.execute(
                        text(f"DELETE FROM events WHERE {where}").bindparams(ids),
                        {"ids": sorted(conversations)},
                    )
            return int(count), engine.url.get_backend_name()
        finally:
            engine.dispose()


# --- staff command line ---------------------------------------------------------------------------


def _forget_command(settings: Any, args: argparse.Namespace) -> int:
    from bot.clinic.db import migrate
    from bot.clinic.facts import load_clinic
    from bot.rasa_adapter.persistence import tracker_store_url

    if not args.contact and not args.conversation:
        print("error: give --contact and/or --conversation", file=sys.stderr)
        return 2
    tracker_url = tracker_store_url(args.endpoints)
    if tracker_url is None:
        print(
            "note: the tracker store in endpoints.yml is not SQL; delete the client's "
            "conversations there by hand",
            file=sys.stderr,
        )
    migrate(settings.database_url)
    region = load_clinic(settings.clinic_file).region
    forgetter = Forgetter(settings.database_url, tracker_url, region)
    try:
        report = forgetter.forget(args.contact, args.conversation, dry_run=args.dry_run)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(("Would delete" if args.dry_run else "Deleted") + " everything stored about the client:")
    for line in report.lines():
        print(f"  {line}")
    if not args.dry_run:
        print("Also remove them from the clinic's booking system and staff chat if notified.")
    return 0


def register(commands: Any) -> None:
    """Adds `privacy forget` to the main CLI's sub-commands."""
    privacy = commands.add_parser("privacy", help="clients' personal data").add_subparsers(
        required=True
    )
    forget = privacy.add_parser(
        "forget", help="delete everything stored about a client (bookings, chats, hand-offs)"
    )
    forget.add_argument(
        "--contact", action="append", help="their phone number or e-mail address (repeatable)"
    )
    forget.add_argument(
        "--conversation",
        action="append",
        help="a conversation id as staff tools show it, e.g. webchat:5f2c… (repeatable)",
    )
    forget.add_argument("--dry-run", action="store_true", help="report, delete nothing")
    forget.add_argument(
        "--endpoints", type=Path, default=None, help="endpoints.yml (for the tracker store)"
    )
    forget.set_defaults(handler=_forget_command)
