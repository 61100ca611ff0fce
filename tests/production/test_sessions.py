"""Long conversations continue in a new session every SESSION_MESSAGE_LIMIT messages, without
losing slots, a form in progress, a hand-off, or any stored message."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_adapter import sessions
from tests.conftest import ROOT, free_port
from tests.production.support import (
    action_server,
    bot_env,
    payloads,
    prepare_database,
    rasa_servers,
    sender,
    texts,
)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def conversation(domain: Domain, messages: int) -> DialogueStateTracker:
    tracker = DialogueStateTracker("c", domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    for i in range(messages):
        tracker.update(UserUttered(f"question {i}", {"name": "ask_benefits", "confidence": 1.0}))
        tracker.update(ActionExecuted("action_answer_faq"))
        tracker.update(BotUttered(f"answer {i}"))
        tracker.update(ActionExecuted("action_listen"))
    return tracker


def test_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sessions.ENV, raising=False)
    assert sessions.limit_from_env() == sessions.DEFAULT_LIMIT
    monkeypatch.setenv(sessions.ENV, "0")
    assert sessions.limit_from_env() == 0
    for bad in ("ten", "-1", "2.5"):
        monkeypatch.setenv(sessions.ENV, bad)
        with pytest.raises(sessions.SessionConfigError, match=sessions.ENV):
            sessions.limit_from_env()


def test_a_new_session_starts_only_at_a_safe_moment(domain: Domain) -> None:
    tracker = conversation(domain, 3)
    assert sessions.messages_in_session(tracker) == 3
    assert not sessions.should_start_new_session(tracker, 4)
    assert not sessions.should_start_new_session(tracker, 0)  # 0: no limit
    assert sessions.should_start_new_session(tracker, 3)

    tracker.update(ActiveLoop("booking_form"))
    assert not sessions.should_start_new_session(tracker, 3)  # never inside a form
    tracker.update(ActiveLoop(None))
    tracker.update(ConversationPaused())
    assert not sessions.should_start_new_session(tracker, 3)  # never while staff have the chat


def test_the_new_session_keeps_slots_and_the_last_bot_action(domain: Domain) -> None:
    tracker = conversation(domain, 3)
    tracker.update(SlotSet("client_name", "Ada"))
    tracker.update(ActionExecuted("utter_anything_else"))
    for event in sessions.new_session_events(tracker):
        tracker.update(event, domain)

    assert sessions.messages_in_session(tracker) == 0
    assert tracker.get_slot("client_name") == "Ada"
    states = tracker.past_states(domain)
    assert states[-2]["prev_action"]["action_name"] == "utter_anything_else"
    assert states[-1]["prev_action"]["action_name"] == "action_listen"
    assert tracker.events[1].text == "question 0"  # the earlier session is still there


def stored_events(tracker_db: Path, client: str) -> list[dict]:
    with sqlite3.connect(tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (client,)
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


@pytest.mark.e2e
def test_long_conversation_over_several_sessions(tmp_path: Path, model: Path) -> None:
    database_url = prepare_database(f"sqlite:///{tmp_path / 'massagebot.db'}")
    tracker_db = tmp_path / "tracker.db"
    env = bot_env(
        database_url, TRACKER_STORE_URL=f"sqlite:///{tracker_db}", SESSION_MESSAGE_LIMIT="3"
    )
    client = sender()
    action_port = free_port()
    sent: list[str] = []

    with (
        action_server(tmp_path, env, action_port),
        rasa_servers(tmp_path, model, action_port, [env]) as (rasa,),
    ):

        def send(text: str) -> str:
            sent.append(text)
            reply = texts(rasa.send(text, client))
            assert reply.strip(), text
            return reply

        for question in ("hello", "does massage help back pain?", "how many sessions?"):
            send(question)
        # Message 4 opens a new session; the booking form then runs past the limit unbroken.
        asked_service = rasa.send("/schedule_appointment", client)
        sent.append("/schedule_appointment")
        service = next(p for p in payloads(asked_service) if "massage_type" in p)
        sent.append(service)
        time_choice = next(p for p in payloads(rasa.send(service, client)) if "date_time" in p)
        assert "name" in send(time_choice).lower()
        send('/inform{"name": "Ada Lovelace"}')
        send('/inform{"contact": "ada@example.org"}')
        assert "Ada Lovelace" in send("/deny")
        done = send("/affirm")
        assert "MB-" in done
        # The form has ended: the next message starts a new session, which keeps the booking.
        assert "open" in send("what are your opening hours?").lower()

    events = stored_events(tracker_db, f"rest:{client}")
    assert [e["text"] for e in events if e["event"] == "user"] == sent  # nothing lost or doubled
    starts = [i for i, e in enumerate(events) if e["event"] == "session_started"]
    assert len(starts) == 3  # the first message, message 4, and after the form
    last_session = events[starts[-1] :]
    carried = {e["name"]: e["value"] for e in last_session if e["event"] == "slot"}
    assert carried.get("booking_reference") and carried["booking_reference"] in done


def test_launcher_refuses_a_bad_limit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.rasa_adapter.server import main

    monkeypatch.setenv(sessions.ENV, "thirty")
    assert main(["--model", "nowhere"]) == 2
    assert "SESSION_MESSAGE_LIMIT must be a whole number" in capsys.readouterr().err
