"""Where bookings and hand-off requests go, read from the environment like the rest of Settings.

BOOKING_ADAPTER          database (default: staff confirm from the CLI) | webhook
BOOKING_WEBHOOK_URL      the clinic booking system's endpoint (required for `webhook`)
BOOKING_WEBHOOK_SECRET   HMAC-SHA256 key for X-Massagebot-Signature (required with the URL)
HANDOFF_WEBHOOK_URL      where staff are told a client wants a person (optional)
HANDOFF_WEBHOOK_SECRET   its HMAC key (defaults to BOOKING_WEBHOOK_SECRET; required with the URL)
WEBHOOK_TIMEOUT_SECONDS  per request (default 10)
RASA_URL, RASA_TOKEN     lets `handoffs resolve` resume the paused conversation

Webhooks are always signed (`bot.clinic.outbox`): a webhook URL without a secret is a
configuration error, so the server and the outbox worker refuse to start with one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

ADAPTERS = ("database", "webhook")
BOOKING_TARGET = "booking"
HANDOFF_TARGET = "handoff"


class BookingConfigError(ValueError):
    """The booking configuration is incomplete; the message names the variable to set."""


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class BookingConfig:
    adapter: str = "database"
    booking_webhook: WebhookTarget | None = None
    handoff_webhook: WebhookTarget | None = None
    timeout_seconds: float = 10.0
    rasa_url: str = ""
    rasa_token: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BookingConfig:
        env = os.environ if env is None else env
        adapter = env.get("BOOKING_ADAPTER", "database").strip().lower() or "database"
        if adapter not in ADAPTERS:
            raise BookingConfigError(
                f"BOOKING_ADAPTER must be one of {', '.join(ADAPTERS)}, not '{adapter}'"
            )
        booking_secret = env.get("BOOKING_WEBHOOK_SECRET", "")
        booking_url = env.get("BOOKING_WEBHOOK_URL", "").strip()
        booking = WebhookTarget(booking_url, booking_secret) if booking_url else None
        if adapter == "webhook" and booking is None:
            raise BookingConfigError("BOOKING_ADAPTER=webhook needs BOOKING_WEBHOOK_URL")
        if booking is not None and not booking_secret:
            raise BookingConfigError(
                "BOOKING_WEBHOOK_URL needs BOOKING_WEBHOOK_SECRET: webhooks are always signed"
            )
        handoff_url = env.get("HANDOFF_WEBHOOK_URL", "").strip()
        handoff_secret = env.get("HANDOFF_WEBHOOK_SECRET") or booking_secret
        if handoff_url and not handoff_secret:
            raise BookingConfigError(
                "HANDOFF_WEBHOOK_URL needs HANDOFF_WEBHOOK_SECRET (or BOOKING_WEBHOOK_SECRET): "
                "staff notifications carry clients' contact details, so they are always signed"
            )
        handoff = WebhookTarget(handoff_url, handoff_secret) if handoff_url else None
        return cls(
            adapter=adapter,
            booking_webhook=booking,
            handoff_webhook=handoff,
            timeout_seconds=float(env.get("WEBHOOK_TIMEOUT_SECONDS", "10")),
            rasa_url=env.get("RASA_URL", "").rstrip("/"),
            rasa_token=env.get("RASA_TOKEN", ""),
        )

    def targets(self) -> dict[str, WebhookTarget]:
        """Outbox targets by name; rows keep the name so a changed URL applies to old rows."""
        found = {}
        if self.booking_webhook:
            found[BOOKING_TARGET] = self.booking_webhook
        if self.handoff_webhook:
            found[HANDOFF_TARGET] = self.handoff_webhook
        return found
