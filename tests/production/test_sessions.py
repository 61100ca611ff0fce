"""A long conversation through the trained bot, with SESSION_MESSAGE_LIMIT=3: new sessions start
at safe moments, the booking form runs on across one, and no stored message is lost or doubled."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bot.rasa_adapter.serve import free_port
from tests.support.bots import payloads, prepare_database, sender, texts
from tests.support.deployments import action_server, deployment_env, rasa_servers


def stored_events(tracker_db: Path, client: str) -> list[dict]:
    with sqlite3.connect(tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (client,)
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


def test_long_conversation_over_several_sessions(tmp_path: Path, model: Path) -> None:
    database_url = prepare_database(f"sqlite:///{tmp_path / 'massagebot.db'}")
    tracker_db = tmp_path / "tracker.db"
    env = deployment_env(
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
        send("Ada Lovelace")  # typed: the bot showed no button for it
        send("ada@example.org")
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
