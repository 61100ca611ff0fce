"""Reliable webhook delivery: the transactional outbox pattern.

A notification is a row written in the same transaction as the booking (or hand-off) it
reports, so it exists exactly when the change does. A deliverer later POSTs due rows, signed, and
retries failures with exponential backoff; a booking made while the clinic's
system is down is simply delivered once it is back. Nothing is ever dropped: rows stay pending
(with `last_error`) until a 2xx answer.

Each row is claimed with a conditional UPDATE (a lease) before sending, so two deliverers
running at once don't both send it. Delivery is still at-least-once if a deliverer dies between
sending and recording success, so every request carries `X-Massagebot-Delivery` for receivers
to de-duplicate on.

Every request is signed; there is no unsigned mode (a target without a secret is refused):

    X-Massagebot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The timestamp is inside the signature, so a receiver that refuses `t` older than
REPLAY_WINDOW_SECONDS (300) cannot be fed a captured delivery later; docs/security.md has a
receiver's check to copy. (The layout follows Stripe's and Slack's webhook signatures, which
receivers' frameworks often already know.)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clinic.booking.config import BookingConfigError, WebhookTarget
from bot.clinic.db import session_scope
from bot.clinic.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Massagebot-Signature"
DELIVERY_HEADER = "X-Massagebot-Delivery"
EVENT_HEADER = "X-Massagebot-Event"
REPLAY_WINDOW_SECONDS = 300


def enqueue(
    session: Session,
    target: str,
    event: str,
    payload: dict[str, Any],
    now: datetime | None = None,
) -> OutboxMessage:
    """Add a notification to the caller's transaction; it commits or rolls back with it."""
    delivery_id = str(uuid.uuid4())
    now = now or utcnow()
    message = OutboxMessage(
        delivery_id=delivery_id,
        target=target,
        event=event,
        payload={"event": event, "delivery_id": delivery_id, **payload},
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    return message


def encode(payload: Mapping[str, Any]) -> bytes:
    """Canonical JSON bytes: the signature covers exactly these."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The X-Massagebot-Signature header for `body` sent now (or at `timestamp`)."""
    moment = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={moment},v1={_mac(secret, moment, body)}"


def verify(
    body: bytes,
    secret: str,
    header: str | None,
    now: float | None = None,
    window: int = REPLAY_WINDOW_SECONDS,
) -> bool:
    """For receivers (and tests): is the header ours for this body, and fresh?"""
    if not header:
        return False
    fields: dict[str, list[str]] = {}
    for part in str(header).split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    moment = time.time() if now is None else now
    if abs(moment - timestamp) > window:
        return False
    expected = _mac(secret, timestamp, body).encode()
    return any(hmac.compare_digest(expected, given.encode()) for given in fields.get("v1", []))


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    skipped: int = 0


class OutboxDeliverer:
    def __init__(
        self,
        database_url: str,
        targets: Mapping[str, WebhookTarget],
        clock: Callable[[], datetime] = utcnow,
        http: requests.Session | None = None,
        timeout_seconds: float = 10.0,
        lease_seconds: int = 120,
        base_delay_seconds: int = 30,
        max_delay_seconds: int = 3600,
    ) -> None:
        unsigned = sorted(name for name, target in targets.items() if not target.secret)
        if unsigned:
            raise BookingConfigError(
                f"webhook target(s) {', '.join(unsigned)} have no secret: every delivery is signed"
            )
        self.database_url = database_url
        self.targets = dict(targets)
        self.clock = clock
        self.http = http or requests.Session()
        self.timeout = timeout_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.base_delay = base_delay_seconds
        self.max_delay = max_delay_seconds

    def backoff(self, attempts: int) -> timedelta:
        """30 s, 1 min, 2 min, … capped at an hour: quick recovery from blips, no hammering."""
        return timedelta(seconds=min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1)))

    def deliver_due(self, limit: int = 50) -> DeliveryReport:
        report = DeliveryReport()
        now = self.clock()
        with session_scope(self.database_url) as session:
            due = session.execute(
                select(OutboxMessage.id, OutboxMessage.next_attempt_at)
                .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
            ).all()
        for message_id, seen_next in due:
            if not self._claim(message_id, seen_next, now):
                report.skipped += 1
                continue
            if self._send(message_id):
                report.delivered += 1
            else:
                report.failed += 1
        return report

    def run_forever(self, stop: threading.Event, interval_seconds: float = 15.0) -> None:
        """Keep delivering until `stop` is set (for a long-running worker process)."""
        while not stop.is_set():
            try:
                self.deliver_due()
            except Exception:  # a database blip must not kill the worker
                log.exception("outbox delivery round failed")
            stop.wait(interval_seconds)

    def _claim(self, message_id: int, seen_next: datetime, now: datetime) -> bool:
        with session_scope(self.database_url) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.status == "pending",
                    OutboxMessage.next_attempt_at == seen_next,
                )
                .values(next_attempt_at=now + self.lease)
                .execution_options(synchronize_session=False)
            )
            claimed: bool = result.rowcount == 1
            return claimed

    def _send(self, message_id: int) -> bool:
        with session_scope(self.database_url) as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            target_name, payload = message.target, dict(message.payload)
            delivery_id, event, attempts = message.delivery_id, message.event, message.attempts
        target = self.targets.get(target_name)
        error = None
        if target is None:
            error = f"no webhook URL configured for '{target_name}'"
        else:
            body = encode(payload)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "massagebot-outbox/1",
                DELIVERY_HEADER: delivery_id,
                EVENT_HEADER: event,
            }
            headers[SIGNATURE_HEADER] = sign(body, target.secret)
            try:
                response = self.http.post(
                    target.url, data=body, headers=headers, timeout=self.timeout
                )
                if not 200 <= response.status_code < 300:
                    error = f"HTTP {response.status_code}: {response.text[:200]}"
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
        now = self.clock()
        with session_scope(self.database_url) as session:
            values: dict[str, Any]
            if error is None:
                values = {"status": "delivered", "delivered_at": now, "last_error": None}
            else:
                log.warning("outbox delivery %s failed: %s", delivery_id, error)
                values = {
                    "attempts": attempts + 1,
                    "next_attempt_at": now + self.backoff(attempts + 1),
                    "last_error": error,
                }
            values["attempts"] = attempts + 1
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        return error is None
