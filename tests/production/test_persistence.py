"""Conversations are kept in a real SQL tracker store chosen by configuration: a booking form
interrupted by a restart of the whole bot carries on where it stopped."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.clinic.db import session_scope
from bot.clinic.models import Booking
from bot.rasa_adapter.serve import free_port
from tests.support.bots import payloads, prepare_database, sender, texts
from tests.support.deployments import action_server, deployment_env, rasa_servers


def test_booking_form_survives_a_restart_of_the_bot(tmp_path: Path, model: Path) -> None:
    database_url = prepare_database(f"sqlite:///{tmp_path / 'massagebot.db'}")
    env = deployment_env(database_url, TRACKER_STORE_URL=f"sqlite:///{tmp_path / 'tracker.db'}")
    client = sender()
    action_port = free_port()

    with (
        action_server(tmp_path, env, action_port),
        rasa_servers(tmp_path, model, action_port, [env]) as (rasa,),
    ):
        asked_service = rasa.send("/schedule_appointment", client)
        service = next(p for p in payloads(asked_service) if "massage_type" in p)
        asked_time = rasa.send(service, client)
        time_choice = next(p for p in payloads(asked_time) if "date_time" in p)
    # Rasa and the action server are both gone; nothing of the conversation is in memory.

    with (
        action_server(tmp_path, env, action_port),
        rasa_servers(tmp_path, model, action_port, [env]) as (rasa,),
    ):
        asked_name = texts(rasa.send(time_choice, client))
        assert "name" in asked_name.lower(), asked_name  # the form went on to the next question
        rasa.send("Ada Lovelace", client)  # typed: the bot showed no button for it
        rasa.send("ada@example.org", client)
        summary = texts(rasa.send("/deny", client))  # nothing to add for the therapist
        assert "Ada Lovelace" in summary, summary
        done = texts(rasa.send("/affirm", client))
        assert "MB-" in done, done

    with session_scope(database_url) as session:
        booking = session.execute(
            select(Booking).where(Booking.conversation_id == f"rest:{client}")
        ).scalar_one()
        assert booking.client_name == "Ada Lovelace"
        assert booking.service_id in service  # the choice made before the restart
