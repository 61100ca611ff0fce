"""What every action needs from configuration: settings, the clinic, the clock and the services
built on them (bookings, availability, the outbox), read once per process or per call.

Actions call these through the module (`context.current_time()`), so a test that replaces the
clock here replaces it for every action.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from bot.clinic.booking.availability import Availability
from bot.clinic.booking.booking_system import adapter_from_config
from bot.clinic.booking.config import BookingConfig
from bot.clinic.booking.service import BookingService
from bot.clinic.facts import Clinic, load_clinic
from bot.clinic.models import utcnow
from bot.clinic.outbox import OutboxDeliverer
from bot.clinic.triage import Assessment, Finding
from bot.settings import Settings

logger = logging.getLogger(__name__)

HEALTH_CONCERNS = "health_concerns"
HEALTH_ADVISED = "health_advised"


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


def latest_assessment(tracker: Tracker) -> Assessment:
    """The triage the NLU pipeline attached to the latest message (`parse_data["triage"]`)."""
    return Assessment.from_dict(tracker.latest_message.get("triage"))


def health_concerns(tracker: Tracker) -> list[Finding]:
    """Every concern raised in this conversation so far (slot `health_concerns`)."""
    return [
        Finding.from_dict(raw)
        for raw in tracker.get_slot(HEALTH_CONCERNS) or []
        if isinstance(raw, dict) and raw.get("concept")
    ]


def remembered(tracker: Tracker, new: Iterable[Finding]) -> list[Finding]:
    """The conversation's concerns with `new` ones added (one per concept, the first words used)."""
    kept = {f.concept: f for f in health_concerns(tracker)}
    for finding in new:
        if finding.is_concern:
            kept.setdefault(finding.concept, finding)
    return list(kept.values())


def remember(tracker: Tracker, new: Iterable[Finding]) -> list[SlotSet]:
    """The slot event that remembers `new` concerns; none when there is nothing new."""
    concerns = [f.as_dict() for f in remembered(tracker, new)]
    if concerns == (tracker.get_slot(HEALTH_CONCERNS) or []):
        return []
    return [SlotSet(HEALTH_CONCERNS, concerns)]


def advised(tracker: Tracker) -> set[str]:
    """The concepts whose advice the client has had in this conversation: every concern raised
    (it was advised when raised) and the health topics answered as general questions (slot
    `health_advised`)."""
    return {f.concept for f in health_concerns(tracker)} | {
        str(concept) for concept in tracker.get_slot(HEALTH_ADVISED) or []
    }


def not_yet_advised(tracker: Tracker, findings: Iterable[Finding]) -> list[Finding]:
    """The concerns among `findings` the client hasn't had advice about in this conversation."""
    done = advised(tracker)
    return [f for f in findings if f.is_concern and f.concept not in done]


def mark_advised(tracker: Tracker, concepts: Iterable[str]) -> list[SlotSet]:
    """The slot event recording that the advice for `concepts` was given; none if nothing new."""
    before = [str(c) for c in tracker.get_slot(HEALTH_ADVISED) or []]
    after = list(dict.fromkeys([*before, *concepts]))
    return [SlotSet(HEALTH_ADVISED, after)] if after != before else []


def merged(tracker: Tracker, slot: str, new: list[str]) -> list[str]:
    return list(dict.fromkeys([*(tracker.get_slot(slot) or []), *new]))


def buttons(items: Any) -> list[dict[str, str]]:
    return [{"title": b.title, "payload": b.payload} for b in items]
