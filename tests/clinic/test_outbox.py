"""Webhook hand-off through the outbox, against a real HTTP server on loopback.

The server is first not listening at all, then answers 503, then accepts: the booking made while
it was down arrives once it's up, signed, and only once.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from sqlalchemy import select

from bot.clinic.booking.booking_system import WebhookAdapter, adapter_from_config
from bot.clinic.booking.config import (
    BOOKING_TARGET,
    BookingConfig,
    BookingConfigError,
    WebhookTarget,
)
from bot.clinic.booking.service import BookingService
from bot.clinic.db import session_scope
from bot.clinic.facts import Clinic
from bot.clinic.models import OutboxMessage
from bot.clinic.outbox import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    OutboxDeliverer,
    encode,
    sign,
    verify,
)
from bot.rasa_adapter.serve import free_port
from tests.support.clinics import Clock, local

SECRET = "test-secret-please-change"


class Receiver:
    """What the clinic's booking system saw."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.status = 200
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def accepted(self) -> Counter[str]:
        return Counter(r["delivery"] for r in self.requests if r["status"] == 200)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            signed = verify(body, receiver.secret, self.headers.get(SIGNATURE_HEADER))
            status = receiver.status if signed else 401
            with receiver.lock:
                receiver.requests.append(
                    {"delivery": self.headers.get(DELIVERY_HEADER), "status": status,
                     "signed": signed, "json": json.loads(body)}
                )  # fmt: skip
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"unavailable")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serving(port: int, receiver: Receiver) -> Iterator[None]:
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(receiver))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def no_proxy_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback must not go through any proxy from the environment
    return session


def pending(database_url: str) -> list[OutboxMessage]:
    with session_scope(database_url) as session:
        return list(
            session.execute(
                select(OutboxMessage).where(OutboxMessage.status == "pending")
            ).scalars()
        )


@pytest.fixture()
def port() -> int:
    return free_port()


def test_booking_made_while_down_is_delivered_once_it_is_up(
    solo_clinic: Clinic, database_url: str, clock: Clock, port: int
) -> None:
    receiver = Receiver(SECRET)
    target = WebhookTarget(f"http://127.0.0.1:{port}/bookings", SECRET)
    deliverer = OutboxDeliverer(
        database_url,
        {BOOKING_TARGET: target},
        clock=clock,
        http=no_proxy_session(),
        timeout_seconds=5,
    )
    service = BookingService(solo_clinic, database_url, adapter=WebhookAdapter(), clock=clock)
    booking = service.create("back-30", local(2025, 11, 21, 15, 0), "Jo Bloggs", "jo@example.com")
    assert booking.ok and booking.booking is not None

    # 1. Nothing listening: the attempt fails, the row stays, a retry is scheduled.
    report = deliverer.deliver_due()
    assert (report.delivered, report.failed) == (0, 1)
    [row] = pending(database_url)
    assert row.attempts == 1 and "Connection" in (row.last_error or "")
    assert row.next_attempt_at == clock.now + deliverer.backoff(1)
    assert deliverer.deliver_due().failed == 0  # not due yet: no hammering

    with serving(port, receiver):
        # 2. Up but unhealthy (503): still pending, backoff doubles.
        receiver.status = 503
        clock.advance(seconds=31)
        assert deliverer.deliver_due().failed == 1
        [row] = pending(database_url)
        assert row.attempts == 2 and row.last_error.startswith("HTTP 503")  # type: ignore[union-attr]
        assert deliverer.backoff(2) == 2 * deliverer.backoff(1)

        # 3. Healthy: delivered, signed, exactly once however often the deliverer runs.
        receiver.status = 200
        clock.advance(seconds=61)
        assert deliverer.deliver_due().delivered == 1
        clock.advance(hours=2)
        assert deliverer.deliver_due().delivered == 0

    assert pending(database_url) == []
    assert all(r["signed"] for r in receiver.requests)
    accepted = receiver.accepted()
    assert len(accepted) == 1 and set(accepted.values()) == {1}
    body = next(r["json"] for r in receiver.requests if r["status"] == 200)
    assert body["event"] == "booking.created"
    assert body["booking"]["reference"] == booking.booking.reference
    assert body["booking"]["client"]["contact"] == "jo@example.com"
    assert "DTSTART;TZID=Europe/London:20251121T150000" in body["ics"]


def test_concurrent_deliverers_send_each_message_once(
    clinic: Clinic, database_url: str, clock: Clock, port: int
) -> None:
    service = BookingService(clinic, database_url, adapter=WebhookAdapter(), clock=clock)
    for hour in range(9, 17):
        assert service.create(
            "back-30", local(2025, 11, 21, hour, 0), "Jo Bloggs", "jo@example.com"
        ).ok
    receiver = Receiver(SECRET)
    target = {BOOKING_TARGET: WebhookTarget(f"http://127.0.0.1:{port}/", SECRET)}
    with serving(port, receiver):
        deliverers = [
            OutboxDeliverer(database_url, target, clock=clock, http=no_proxy_session())
            for _ in range(4)
        ]
        barrier = threading.Barrier(len(deliverers))

        def run(deliverer: OutboxDeliverer) -> None:
            barrier.wait()
            deliverer.deliver_due()

        threads = [threading.Thread(target=run, args=(d,)) for d in deliverers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert len(receiver.requests) == 8
    assert set(receiver.accepted().values()) == {1} and len(receiver.accepted()) == 8
    assert pending(database_url) == []


def test_wrong_secret_is_refused_by_the_receiver_and_retried(
    solo_clinic: Clinic, database_url: str, clock: Clock, port: int
) -> None:
    service = BookingService(solo_clinic, database_url, adapter=WebhookAdapter(), clock=clock)
    assert service.create("back-30", local(2025, 11, 21, 15, 0), "Jo Bloggs", "jo@example.com").ok
    receiver = Receiver(SECRET)
    wrong = {BOOKING_TARGET: WebhookTarget(f"http://127.0.0.1:{port}/", "not-the-secret")}
    with serving(port, receiver):
        assert (
            OutboxDeliverer(database_url, wrong, clock=clock, http=no_proxy_session())
            .deliver_due()
            .failed
            == 1
        )
    assert receiver.requests[0]["signed"] is False
    assert pending(database_url)[0].last_error.startswith("HTTP 401")  # type: ignore[union-attr]


def test_signature_format() -> None:
    body = encode({"b": 1, "a": "é"})
    assert body == '{"a":"é","b":1}'.encode()
    signature = sign(body, "k", timestamp=1_900_000_000)
    assert re.fullmatch(r"t=1900000000,v1=[0-9a-f]{64}", signature)
    assert verify(body, "k", signature, now=1_900_000_000)
    assert not verify(body + b" ", "k", signature, now=1_900_000_000)
    assert not verify(body, "other", signature, now=1_900_000_000)
    assert not verify(body, "k", None)


def test_adapter_is_chosen_by_configuration() -> None:
    assert adapter_from_config(BookingConfig.from_env({})).name == "database"
    config = BookingConfig.from_env(
        {"BOOKING_ADAPTER": "webhook", "BOOKING_WEBHOOK_URL": "http://127.0.0.1:9/x",
         "BOOKING_WEBHOOK_SECRET": "s", "HANDOFF_WEBHOOK_URL": "http://127.0.0.1:9/h"}
    )  # fmt: skip
    assert adapter_from_config(config).name == "webhook"
    assert set(config.targets()) == {"booking", "handoff"}
    assert config.targets()["handoff"].secret == "s"  # falls back to the booking secret
    with pytest.raises(BookingConfigError, match="BOOKING_WEBHOOK_URL"):
        BookingConfig.from_env({"BOOKING_ADAPTER": "webhook"})
    with pytest.raises(BookingConfigError, match="SECRET"):
        BookingConfig.from_env({"BOOKING_ADAPTER": "webhook", "BOOKING_WEBHOOK_URL": "http://x"})
    with pytest.raises(BookingConfigError, match="one of"):
        BookingConfig.from_env({"BOOKING_ADAPTER": "carrier-pigeon"})
    assert "s" not in repr(config.booking_webhook).replace("url", "")  # secrets stay out of logs
