"""What every action needs from configuration: settings, the clinic, the clock and the services
built on them (bookings, availability, the outbox), read once per process or per call.

Actions call these through the module (`context.current_time()`), so a test that replaces the
clock here replaces it for every action.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker

from bot.clinic.booking.availability import Availability
from bot.clinic.booking.booking_system import adapter_from_config
from bot.clinic.booking.config import BookingConfig
from bot.clinic.booking.service import BookingService
from bot.clinic.facts import Clinic, load_clinic
from bot.clinic.models import utcnow
from bot.clinic.outbox import OutboxDeliverer
from bot.settings import Settings

logger = logging.getLogger(__name__)


def settings() -> Settings:
    return Settings.from_env()


def clinic() -> Clinic:
    return load_clinic(settings().clinic_file)


def current_time() -> datetime:
    """The actions' clock. Tests replace it here."""
    return utcnow()


def booking_service() -> BookingService:
    config = BookingConfig.from_env()
    return BookingService(
        clinic(), settings().database_url, adapter_from_config(config), clock=current_time
    )


def availability() -> Availability:
    return Availability(clinic(), settings().database_url, clock=current_time)


def deliver_soon(config: BookingConfig) -> None:
    """Send new outbox rows now rather than at the next delivery round; failures just wait."""
    targets = config.targets()
    if not targets:
        return
    deliverer = OutboxDeliverer(
        settings().database_url, targets, timeout_seconds=config.timeout_seconds
    )

    def deliver() -> None:
        try:
            deliverer.deliver_due(limit=10)
        except Exception:
            logger.exception("immediate outbox delivery failed; the next round will retry")

    threading.Thread(target=deliver, name="outbox-now", daemon=True).start()


def latest_entities(tracker: Tracker) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("value") is not None:
            found[entity["entity"]].append(str(entity["value"]))
    return dict(found)


def latest_triage(tracker: Tracker) -> dict[str, Any]:
    """The warning-sign assessment the NLU pipeline attached to the latest message, if any."""
    return tracker.latest_message.get("triage") or {}


def merged(tracker: Tracker, slot: str, new: list[str]) -> list[str]:
    return list(dict.fromkeys([*(tracker.get_slot(slot) or []), *new]))


def buttons(items: Any) -> list[dict[str, str]]:
    return [{"title": b.title, "payload": b.payload} for b in items]
