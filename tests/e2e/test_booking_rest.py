"""End-to-end booking over REST: a real Rasa server and action server, then the database.

A button's payload is sent only where the bot showed that button (the bot ignores one it didn't
show with its last reply); everything else is typed, as a client would.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clinic.booking.availability import Availability
from bot.clinic.db import session_scope
from bot.clinic.facts import load_clinic
from bot.clinic.handoff import clinic_is_open
from bot.clinic.models import Booking, HandoffRequest, utcnow
from tests.support import ROOT
from tests.support.bots import RunningBot

pytestmark = pytest.mark.e2e

CONTACT = "07911 123456"


def sender() -> str:
    return f"e2e-booking-{uuid.uuid4().hex[:8]}"


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def payloads(replies: list[dict]) -> list[str]:
    return [b["payload"] for r in replies for b in r.get("buttons") or []]


def inform(**entities: str) -> str:
    return "/inform" + json.dumps(entities)


def book(bot: RunningBot, client: str) -> str:
    """A full booking through the form; returns the reference the bot gave."""
    clinic = load_clinic(ROOT / "data" / "clinic.yml")
    service = clinic.services[0]
    replies = bot.send("/schedule_appointment", client)
    assert inform(massage_type=service.id) in payloads(replies), replies

    replies = bot.send(inform(massage_type=service.id), client)
    offered = [p for p in payloads(replies) if '"date_time"' in p]
    assert offered, replies  # the earliest free times, as buttons
    # The time a client would tap, re-checked here so the test and the bot agree.
    availability = Availability(clinic, bot.database_url)
    earliest = availability.nearest_free_slots(
        service, utcnow() + timedelta(minutes=clinic.booking.min_notice_minutes), 1
    )[0]
    assert inform(date_time=earliest.isoformat()) in offered

    replies = bot.send(inform(date_time=earliest.isoformat()), client)
    assert "name" in texts(replies).lower(), replies
    replies = bot.send("Jo Bloggs", client)
    assert "phone number" in texts(replies).lower(), replies
    replies = bot.send(CONTACT, client)
    assert "therapist should know" in texts(replies), replies
    assert "/deny" in payloads(replies), replies  # "Nothing to add"
    replies = bot.send("/deny", client)
    summary = texts(replies)
    assert "Here's what I'll book" in summary and "Jo Bloggs" in summary, replies
    replies = bot.send("/affirm", client)
    text = texts(replies)
    assert "You're booked in" in text, replies
    return text.split("Your reference is ")[1].split(" ")[0]


def test_full_booking_is_stored(bot_server: RunningBot) -> None:
    client = sender()
    reference = book(bot_server, client)
    with session_scope(bot_server.database_url) as session:
        row = session.execute(select(Booking).where(Booking.reference == reference)).scalar_one()
        assert (row.client_name, row.contact, row.status) == (
            "Jo Bloggs",
            "+447911123456",
            "pending",
        )
        assert row.conversation_id == f"rest:{client}"


def test_cancel_with_reference_and_contact(bot_server: RunningBot) -> None:
    reference = book(bot_server, sender())
    client = sender()  # cancelling later, from another conversation
    replies = bot_server.send(f"I need to cancel {reference}", client)
    assert "phone number or e-mail" in texts(replies), replies
    wrong = bot_server.send("07400 123456", client)
    assert "couldn't find a booking" in texts(wrong), wrong
    bot_server.send(reference, client)
    replies = bot_server.send(CONTACT, client)
    assert f"({reference})?" in texts(replies), replies
    replies = bot_server.send("/affirm", client)
    assert "is cancelled" in texts(replies), replies
    with session_scope(bot_server.database_url) as session:
        status = session.execute(
            select(Booking.status).where(Booking.reference == reference)
        ).scalar_one()
    assert status == "cancelled"


def test_talk_to_a_person(bot_server: RunningBot) -> None:
    client = sender()
    open_now = clinic_is_open(load_clinic(ROOT / "data" / "clinic.yml"), utcnow())
    replies = bot_server.send("/human_handoff", client)
    if open_now:
        assert "take over" in texts(replies), replies
        assert bot_server.send("hello?", client) == []  # paused until staff resume it
    else:
        assert "call you back" in texts(replies), replies
        replies = bot_server.send(CONTACT, client)
        assert "call you back" in texts(replies), replies
    with session_scope(bot_server.database_url) as session:
        request = session.execute(
            select(HandoffRequest).where(HandoffRequest.conversation_id == f"rest:{client}")
        ).scalar_one()
    assert request.status == "open"


def test_after_work_offers_evening_times_typed_as_a_client_would(bot_server: RunningBot) -> None:
    client = sender()
    clinic = load_clinic(ROOT / "data" / "clinic.yml")
    service = clinic.services[0]
    replies = bot_server.send("/schedule_appointment", client)
    assert inform(massage_type=service.id) in payloads(replies), replies
    bot_server.send(inform(massage_type=service.id), client)
    replies = bot_server.send("next thursday after work please", client)
    offered = [
        json.loads(p.removeprefix("/inform"))["date_time"]
        for p in payloads(replies)
        if '"date_time"' in p
    ]
    assert len(offered) == 3, replies
    for start in map(datetime.fromisoformat, offered):
        local = start.astimezone(clinic.timezone)
        assert local.weekday() == 3 and local.hour >= 17, offered  # never 09:00
    assert "after 17:00" in texts(replies), replies
