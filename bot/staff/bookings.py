"""Staff commands for bookings, hand-offs and the outbox.

`register(subparsers)` adds them to the main CLI's argparse sub-commands. Every command sets
`func(args)` (and `handler(settings, args)`, the main CLI's convention) returning the exit
code: 0 on success, 2 with a one-line `error: …` on stderr when something is wrong (unknown
reference, bad configuration).
"""

from __future__ import annotations

import argparse
import functools
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.clinic.advice import LEVEL_NAMES, staff_note
from bot.clinic.booking.booking_system import adapter_from_config
from bot.clinic.booking.config import BookingConfig, BookingConfigError
from bot.clinic.booking.invite import AUDIENCES, build_invite
from bot.clinic.booking.records import STATUSES, BookingInfo
from bot.clinic.booking.service import BookingService
from bot.clinic.db import migrate, session_scope
from bot.clinic.facts import Clinic, ClinicConfigError, load_clinic
from bot.clinic.handoff import HandoffService
from bot.clinic.models import OutboxMessage
from bot.clinic.outbox import OutboxDeliverer
from bot.settings import Settings
from bot.staff.conversations import resume_conversation

Command = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A problem to report to staff as `error: …` with exit code 2."""


@dataclass(frozen=True)
class _Context:
    settings: Settings
    clinic: Clinic
    config: BookingConfig

    def bookings(self) -> BookingService:
        return BookingService(
            self.clinic, self.settings.database_url, adapter_from_config(self.config)
        )

    def handoffs(self) -> HandoffService:
        return HandoffService(self.clinic, self.settings.database_url, self.config)


def _context() -> _Context:
    settings = Settings.from_env()
    try:
        clinic = load_clinic(settings.clinic_file)
    except FileNotFoundError as error:
        raise CommandError(f"clinic file not found: {settings.clinic_file}") from error
    config = BookingConfig.from_env()
    migrate(settings.database_url)  # idempotent: staff never meet a missing table
    return _Context(settings, clinic, config)


def _command(function: Callable[[argparse.Namespace, _Context], int]) -> Command:
    @functools.wraps(function)
    def run(args: argparse.Namespace) -> int:
        try:
            return function(args, _context())
        except (CommandError, BookingConfigError, ClinicConfigError) as error:
            print(f"error: {error}", file=sys.stderr)
        except SQLAlchemyError as error:
            print(f"error: database problem: {error.__class__.__name__}: {error}", file=sys.stderr)
        return 2

    return run


def table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    """Plain, left-aligned columns: readable in a terminal and easy to grep."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def _when(moment: datetime | None, clinic: Clinic) -> str:
    return f"{moment.astimezone(clinic.timezone):%Y-%m-%d %H:%M}" if moment else ""


# --- bookings ---------------------------------------------------------------------------------


@_command
def bookings_list(args: argparse.Namespace, ctx: _Context) -> int:
    found = ctx.bookings().list_bookings(status=args.status, upcoming_only=args.upcoming)
    if not found:
        print("No bookings.")
        return 0
    print(
        table(
            [
                (b.reference, b.status, _when(b.start, ctx.clinic), b.service_name,
                 b.therapist_id, b.client_name, b.contact, _mentioned(b))
                for b in found
            ],
            ("REFERENCE", "STATUS", "START", "SERVICE", "THERAPIST", "CLIENT", "CONTACT",
             "MENTIONED"),
        )
    )  # fmt: skip
    return 0


def _mentioned(booking: BookingInfo) -> str:
    """The health concerns in a few words for the list: 'pregnancy (doctor first)'."""
    return ", ".join(
        f"{f.concept.replace('_', ' ')} ({LEVEL_NAMES[f.level]})" for f in booking.health_concerns
    )


@_command
def bookings_show(args: argparse.Namespace, ctx: _Context) -> int:
    booking = ctx.bookings().get(args.reference)
    if booking is None:
        raise CommandError(f"no booking with reference {args.reference}")
    rows = [
        ("Reference", booking.reference),
        ("Status", booking.status),
        ("Start", _when(booking.start, ctx.clinic)),
        ("End", _when(booking.end, ctx.clinic)),
        ("Service", booking.service_name),
        ("Therapist", booking.therapist_id or ""),
        ("Client", booking.client_name),
        ("Contact", booking.contact),
        ("Note", booking.note),
        ("Health", staff_note(booking.health_concerns) or "nothing mentioned"),
        ("Conversation", booking.conversation_id or ""),
        ("Booked at", _when(booking.created_at, ctx.clinic)),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label + ':':<{width + 1}} {value}")
    return 0


@_command
def bookings_confirm(args: argparse.Namespace, ctx: _Context) -> int:
    outcome = ctx.bookings().confirm(args.reference)
    if not outcome.ok:
        raise CommandError(outcome.message)
    assert outcome.booking is not None
    print(f"Confirmed {outcome.booking.reference} ({_when(outcome.booking.start, ctx.clinic)}).")
    return 0


@_command
def bookings_cancel(args: argparse.Namespace, ctx: _Context) -> int:
    outcome = ctx.bookings().staff_cancel(args.reference)
    if not outcome.ok:
        raise CommandError(outcome.message)
    assert outcome.booking is not None
    print(f"Cancelled {outcome.booking.reference}; its time is free again.")
    return 0


@_command
def bookings_ics(args: argparse.Namespace, ctx: _Context) -> int:
    booking = ctx.bookings().get(args.reference)
    if booking is None:
        raise CommandError(f"no booking with reference {args.reference}")
    sys.stdout.write(build_invite(booking, ctx.clinic, audience=args.audience).decode("utf-8"))
    return 0


# --- hand-offs --------------------------------------------------------------------------------


@_command
def handoffs_list(args: argparse.Namespace, ctx: _Context) -> int:
    found = ctx.handoffs().list_requests(status=None if args.all else "open")
    if not found:
        print("No open hand-off requests." if not args.all else "No hand-off requests.")
        return 0
    rows = []
    for h in found:
        last_line = h.transcript.strip().splitlines()[-1] if h.transcript.strip() else ""
        rows.append(
            (h.id, h.status, _when(h.created_at, ctx.clinic), "open" if h.clinic_open else "closed",
             h.contact or "-", h.conversation_id or "-", last_line[:60])
        )  # fmt: skip
    print(table(rows, ("ID", "STATUS", "CREATED", "CLINIC", "CONTACT", "CONVERSATION", "LAST")))
    return 0


@_command
def handoffs_resolve(args: argparse.Namespace, ctx: _Context) -> int:
    info = ctx.handoffs().resolve(args.id)
    if info is None:
        raise CommandError(f"no hand-off request #{args.id}")
    print(f"Resolved hand-off #{info.id}.")
    if args.no_resume or not info.conversation_id:
        return 0
    if not ctx.config.rasa_url:
        print("Set RASA_URL to resume the bot for that conversation automatically.")
        return 0
    try:
        resume_conversation(ctx.config.rasa_url, ctx.config.rasa_token, info.conversation_id)
    except Exception as error:  # the request is resolved either way; say what didn't work
        raise CommandError(f"resolved, but resuming the conversation failed: {error}") from error
    print(f"The bot has resumed conversation {info.conversation_id}.")
    return 0


# --- outbox -----------------------------------------------------------------------------------


@_command
def outbox_deliver(args: argparse.Namespace, ctx: _Context) -> int:
    deliverer = OutboxDeliverer(
        ctx.settings.database_url, ctx.config.targets(), timeout_seconds=ctx.config.timeout_seconds
    )
    if args.loop:
        stop = threading.Event()
        try:
            deliverer.run_forever(stop, interval_seconds=args.interval)
        except KeyboardInterrupt:
            stop.set()
        return 0
    report = deliverer.deliver_due(limit=args.limit)
    print(f"Delivered {report.delivered}, failed {report.failed} (will retry).")
    return 0


@_command
def outbox_list(args: argparse.Namespace, ctx: _Context) -> int:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if args.status:
        query = query.where(OutboxMessage.status == args.status)
    with session_scope(ctx.settings.database_url) as session:
        rows = [
            (m.id, m.status, m.target, m.event, m.attempts, _when(m.next_attempt_at, ctx.clinic),
             (m.last_error or "")[:60])
            for m in session.execute(query).scalars()
        ]  # fmt: skip
    if not rows:
        print("The outbox is empty.")
        return 0
    print(table(rows, ("ID", "STATUS", "TARGET", "EVENT", "ATTEMPTS", "NEXT", "LAST ERROR")))
    return 0


# --- wiring -----------------------------------------------------------------------------------


def _bind(parser: argparse.ArgumentParser, command: Command) -> None:
    """`func(args)` for stand-alone use; `handler(settings, args)` for the main CLI's dispatch."""
    parser.set_defaults(func=command, handler=lambda _settings, args: command(args))


def register(subparsers: argparse._SubParsersAction) -> None:
    bookings = subparsers.add_parser("bookings", help="list, confirm or cancel bookings")
    sub = bookings.add_subparsers(dest="bookings_command", required=True)
    listing = sub.add_parser("list", help="bookings, soonest first")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--upcoming", action="store_true", help="hide finished appointments")
    _bind(listing, bookings_list)
    show = sub.add_parser("show", help="one booking in full, with what the client mentioned")
    show.add_argument("reference")
    _bind(show, bookings_show)
    confirm = sub.add_parser("confirm", help="confirm a pending booking")
    confirm.add_argument("reference")
    _bind(confirm, bookings_confirm)
    cancel = sub.add_parser("cancel", help="cancel a booking and free its time")
    cancel.add_argument("reference")
    _bind(cancel, bookings_cancel)
    ics = sub.add_parser("ics", help="print a booking's calendar invite (.ics)")
    ics.add_argument("reference")
    ics.add_argument("--for", dest="audience", choices=AUDIENCES, default="clinic")
    _bind(ics, bookings_ics)

    handoffs = subparsers.add_parser("handoffs", help="clients waiting for a person")
    sub = handoffs.add_subparsers(dest="handoffs_command", required=True)
    listing = sub.add_parser("list", help="open requests (all with --all)")
    listing.add_argument("--all", action="store_true")
    _bind(listing, handoffs_list)
    resolve = sub.add_parser("resolve", help="mark a request done and resume the bot")
    resolve.add_argument("id", type=int)
    resolve.add_argument("--no-resume", action="store_true", help="leave the bot paused")
    _bind(resolve, handoffs_resolve)

    outbox = subparsers.add_parser("outbox", help="webhook notifications waiting to be sent")
    sub = outbox.add_subparsers(dest="outbox_command", required=True)
    deliver = sub.add_parser("deliver", help="send what is due now")
    deliver.add_argument("--limit", type=int, default=100)
    deliver.add_argument("--loop", action="store_true", help="keep delivering until stopped")
    deliver.add_argument("--interval", type=float, default=15.0, help="seconds between rounds")
    _bind(deliver, outbox_deliver)
    listing = sub.add_parser("list", help="notifications and their delivery state")
    listing.add_argument("--status", choices=("pending", "delivered"))
    _bind(listing, outbox_list)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (`python -m bot.staff.bookings …`); `massagebot` has them too."""
    parser = argparse.ArgumentParser(prog="massagebot", description=__doc__.splitlines()[0])
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
