"""The security review's conversation take-overs, replayed against the trained bot: a stranger
answering a widget client's booking form over REST, a second socket joining the client's
session, and staff resuming a conversation whose id has characters that mean something in a URL.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest
import requests
from sqlalchemy import create_engine, select, text

from bot.clinic.db import session_scope
from bot.clinic.models import HandoffRequest
from bot.staff.cli import main
from tests.support import ROOT
from tests.support.bots import RunningBot, send_rest
from tests.support.scripted_app import WidgetClient

pytestmark = pytest.mark.e2e


def conversations_saying(bot: RunningBot, words: str) -> set[str]:
    """The conversations (tracker sender ids) in which a client typed `words`."""
    engine = create_engine(f"sqlite:///{bot.tracker_db}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT sender_id, data FROM events WHERE type_name = 'user'")
            ).all()
    finally:
        engine.dispose()
    return {sender for sender, data in rows if json.loads(data).get("text") == words}


def widget(bot: RunningBot) -> WidgetClient:
    client = WidgetClient(bot.url).connect()
    client.request_session()
    return client


def test_rest_cannot_answer_a_widget_clients_booking_form(bot_server: RunningBot) -> None:
    ana = widget(bot_server)
    try:
        ana.say("I'd like to book a back massage")
        ana.settle(3)  # the rest of the bot's turn
        answered = len(ana.replies)
        for sender in (ana.session_id, f"webchat:{ana.session_id}"):
            send_rest(bot_server.url, "Eve Stranger", sender)
        ana.settle(2)
        assert len(ana.replies) == answered  # nothing of Eve's turn reached Ana's widget
        ana.say("Ana Lopez")
        ana.settle(2)
    finally:
        ana.close()
    anas = conversations_saying(bot_server, "I'd like to book a back massage")
    eves = conversations_saying(bot_server, "Eve Stranger")
    [ana_conversation] = anas & conversations_saying(bot_server, "Ana Lopez")
    assert ana_conversation not in eves
    assert all(conversation.startswith("rest:") for conversation in eves)


def test_a_second_socket_hears_nothing_of_a_clients_conversation(bot_server: RunningBot) -> None:
    ana, eve = widget(bot_server), WidgetClient(bot_server.url).connect()
    try:
        eve.request_session(session_id=ana.session_id)
        assert eve.session_id != ana.session_id
        ana.say("what are the benefits of massage?")
        ana.settle(2)
        eve.settle(1)
        assert ana.replies and eve.replies == []
        eve.say("yes please", session_id=ana.session_id)  # typing into Ana's session
        eve.settle(2)
    finally:
        ana.close()
        eve.close()
    [ana_conversation] = conversations_saying(bot_server, "what are the benefits of massage?")
    assert ana_conversation not in conversations_saying(bot_server, "yes please")


def test_staff_resume_a_paused_conversation_with_an_awkward_id(
    bot_server: RunningBot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sender = f"ana/{uuid.uuid4().hex[:6]}?x=1#top"
    replies = send_rest(bot_server.url, "can I talk to a real person please", sender)
    if "best phone number" in " ".join(r.get("text", "") for r in replies):
        send_rest(bot_server.url, "07911 123456", sender)
    conversation = f"rest:{sender}"
    if send_rest(bot_server.url, "hello?", sender):
        # Outside opening hours the bot promises a call-back and carries on; staff pause it.
        paused = requests.post(
            f"{bot_server.url}/conversations/{quote(conversation, safe='')}/tracker/events",
            json={"event": "pause"},
            headers={"Authorization": f"Bearer {bot_server.api_token}"},
            timeout=30,
        )
        assert paused.status_code == 200, paused.text
    assert send_rest(bot_server.url, "hello?", sender) == []  # paused for staff
    with session_scope(bot_server.database_url) as session:
        request_id = session.execute(
            select(HandoffRequest.id).where(HandoffRequest.conversation_id == conversation)
        ).scalar_one()
    monkeypatch.setenv("DATABASE_URL", bot_server.database_url)
    monkeypatch.setenv("CLINIC_FILE", str(ROOT / "data" / "clinic.yml"))
    monkeypatch.setenv("RASA_URL", bot_server.url)
    monkeypatch.setenv("RASA_TOKEN", bot_server.api_token)
    assert main(["handoffs", "resolve", str(request_id)]) == 0, capsys.readouterr().err
    assert f"resumed conversation {conversation}" in capsys.readouterr().out
    assert send_rest(bot_server.url, "hello", sender) != []  # the bot answers again
