"""When a part of the bot fails, the client hears about it politely and nothing is left broken:
the action server going away, and the database going away in the middle of a booking. Meanwhile
`/ready` says which part is missing (503), and is 200 again once it is back."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.clinic.booking.service import BookingService
from bot.clinic.db import get_engine, session_scope
from bot.clinic.facts import Clinic, load_clinic
from bot.clinic.models import Booking, BookingSlot, OutboxMessage
from bot.rasa_adapter.serve import free_port
from tests.support import ROOT
from tests.support.bots import payloads, prepare_database, sender, texts
from tests.support.deployments import Server, deployment_env, rasa_servers, start_action_server
from tests.support.network import TcpProxy
from tests.support.services import POSTGRES_ADMIN_URL, fresh_postgres

SLEEP = "does massage help with sleep?"


def clinic_phone() -> str:
    return load_clinic(ROOT / "data" / "clinic.yml").phone


def fill_booking_form(rasa: Server, client: str) -> str:
    """Answer the booking form with buttons up to its summary; returns the summary."""
    service = next(
        p for p in payloads(rasa.send("/schedule_appointment", client)) if "massage_type" in p
    )
    when = next(p for p in payloads(rasa.send(service, client)) if "date_time" in p)
    rasa.send(when, client)
    rasa.send("Grace Hopper", client)  # typed: the bot showed no button for it
    rasa.send("grace@example.org", client)
    return texts(rasa.send("/deny", client))


def readiness(rasa: Server) -> tuple[int, list[str]]:
    """`/ready`'s status and the parts it says are not ready."""
    answer = requests.get(f"{rasa.url}/ready", timeout=30)
    assert requests.get(f"{rasa.url}/health", timeout=30).status_code == 200  # alive throughout
    return answer.status_code, answer.json().get("not_ready", [])


def booking_rows(database_url: str) -> tuple[int, int, int]:
    with session_scope(database_url) as session:
        return tuple(  # type: ignore[return-value]
            session.execute(select(func.count()).select_from(model)).scalar()
            for model in (Booking, BookingSlot, OutboxMessage)
        )


@dataclass
class FragileBot:
    """A bot whose action server and database the tests can take away and bring back."""

    rasa: Server
    actions: Server
    action_port: int
    env: dict[str, str]
    folder: Path
    proxy: TcpProxy
    database_url: str  # direct, not through the proxy

    def restart_actions(self) -> None:
        self.actions = start_action_server(self.folder, self.env, self.action_port)


@pytest.fixture(scope="module")
def fragile_bot(tmp_path_factory: pytest.TempPathFactory, model: Path) -> Iterator[FragileBot]:
    folder = tmp_path_factory.mktemp("fragile")
    with fresh_postgres() as database_url:
        prepare_database(database_url)
        target = make_url(database_url)
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432).start()
        through_proxy = target.set(host="127.0.0.1", port=proxy.port)
        env = deployment_env(
            through_proxy.render_as_string(hide_password=False),
            TRACKER_STORE_URL=f"sqlite:///{folder / 'tracker.db'}",
        )
        action_port = free_port()
        bot = FragileBot(
            None,  # type: ignore[arg-type]  # set once Rasa is up
            start_action_server(folder, env, action_port),
            action_port, env, folder, proxy, database_url,
        )  # fmt: skip
        try:
            with rasa_servers(folder, model, action_port, [env]) as (bot.rasa,):
                yield bot
        finally:
            proxy.stop()
            bot.actions.stop()  # the one running now, if a test restarted it


@pytest.mark.e2e
@pytest.mark.services
def test_action_server_down_gets_an_apology_and_the_bot_recovers(
    fragile_bot: FragileBot,
) -> None:
    rasa, client = fragile_bot.rasa, sender()
    assert readiness(rasa) == (200, [])
    assert "sleep" in texts(rasa.send(SLEEP, client)).lower()
    fragile_bot.actions.stop()
    try:
        assert readiness(rasa) == (503, ["action_server"])
        for message in (SLEEP, "/schedule_appointment"):
            replies = rasa.send(message, client)
            assert len(replies) == 1, replies  # one apology, not one per failed action
            assert clinic_phone() in replies[0]["text"], replies
            assert "try again" in replies[0]["text"]
    finally:
        fragile_bot.restart_actions()
    assert readiness(rasa) == (200, [])
    assert "sleep" in texts(rasa.send(SLEEP, client)).lower()
    assert "treatment" in texts(rasa.send("/schedule_appointment", client)).lower()


@pytest.mark.e2e
@pytest.mark.services
def test_database_down_during_a_booking(fragile_bot: FragileBot) -> None:
    rasa, proxy, client = fragile_bot.rasa, fragile_bot.proxy, sender()
    assert "Grace Hopper" in fill_booking_form(rasa, client)
    proxy.stop()  # the database is gone just as the client confirms
    try:
        with pytest.raises(OSError):  # the harness really cut it
            socket.create_connection(("127.0.0.1", proxy.port), timeout=2).close()
        assert readiness(rasa) == (503, ["database"])
        answer = texts(rasa.send("/affirm", client))
        assert clinic_phone() in answer and "MB-" not in answer, answer
    finally:
        proxy.start()
    assert "Grace Hopper" in answer  # the details are kept, and the summary asked again
    assert readiness(rasa) == (200, [])
    assert booking_rows(fragile_bot.database_url) == (0, 0, 0)

    # Back again: the client only says yes once more.
    assert "MB-" in texts(rasa.send("/affirm", client))
    bookings, slots, _ = booking_rows(fragile_bot.database_url)
    assert bookings == 1 and slots >= 1


@pytest.mark.services
def test_connection_lost_in_the_middle_of_writing_a_booking(
    postgres_url: str, clinic: Clinic
) -> None:
    """PostgreSQL drops the connection after the booking row is sent but before its time slots:
    the whole booking is gone, never a booking without its slots (or the other way round)."""
    prepare_database(postgres_url)
    engine = get_engine(postgres_url)
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def die_before_slots(connection, cursor, statement, *_: Any) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO BOOKING_SLOTS"):
            pid = connection.connection.dbapi_connection.get_backend_pid()
            with admin.connect() as kill:
                kill.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    now = datetime(2030, 3, 4, 8, 0, tzinfo=timezone.utc)  # a Monday morning
    start = datetime(2030, 3, 5, 10, 0, tzinfo=clinic.timezone)  # Tuesday 10:00
    service = clinic.services[0].id
    booking = BookingService(clinic, postgres_url, clock=lambda: now)
    event.listen(engine, "before_cursor_execute", die_before_slots)
    try:
        with pytest.raises(DBAPIError, match=r"terminat|closed"):
            booking.create(service, start, "Ada Lovelace", "ada@example.org")
    finally:
        event.remove(engine, "before_cursor_execute", die_before_slots)
        admin.dispose()
    assert booking_rows(postgres_url) == (0, 0, 0)
    assert booking.create(service, start, "Ada Lovelace", "ada@example.org").ok  # slot still free
    bookings, slots, _ = booking_rows(postgres_url)
    assert bookings == 1 and slots >= 1
