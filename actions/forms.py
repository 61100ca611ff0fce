"""What the booking, manage-booking and hand-off actions share: answers, rejections, the clock.

Kept apart from the three form modules so each speaks about one thing the clinic does; the
rules themselves stay in `bot.clinic.booking`. Names keep their leading underscore: they are
internal to the `actions` package, not part of any action's interface.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.context import clinic, settings
from bot.clinic import advice
from bot.clinic.booking.availability import Availability
from bot.clinic.booking.booking_system import adapter_from_config
from bot.clinic.booking.config import BookingConfig
from bot.clinic.booking.service import BookingService
from bot.clinic.booking.when import (
    WhenAccepted,
    WhenNeedsTime,
    WhenRejected,
    check_start,
    is_on_grid,
    parse_when,
)
from bot.clinic.booking.wording import describe_day, describe_start
from bot.clinic.facts import Clinic, Service
from bot.clinic.models import utcnow
from bot.clinic.outbox import OutboxDeliverer

logger = logging.getLogger(__name__)

REQUESTED_SLOT = "requested_slot"
MAX_FAILURES = 3  # the third wrong answer in a row stops the form and offers a person

BOOKING_SLOTS = (
    "booking_service", "booking_time", "booking_day", "client_name", "client_contact",
    "booking_note", "booking_confirmed", "booking_failures", "booking_stopped",
    "booking_alternatives", "booking_service_options",
)  # fmt: skip
MANAGE_SLOTS = (
    "manage_reference", "manage_contact", "manage_new_time", "manage_confirmed",
    "manage_booking", "manage_failures", "manage_stopped", "manage_alternatives",
    "manage_pending_time",
)  # fmt: skip
PERSON_BUTTON = {"title": "Talk to a person", "payload": "/human_handoff"}
YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]

_STOP = re.compile(
    r"^\W*(?:no,?\s+|oh\s+|actually,?\s+)?(?:stop|never\s*mind|nevermind|forget\s+(?:it|about\s+it)"
    r"|cancel(?:\s+(?:that|it|this|the\s+booking))?|quit|exit|leave\s+it|not\s+any\s*more"
    r"|i\s+(?:don'?t|do\s+not)\s+want\s+to\s+(?:book|do\s+this)(?:\s+any\s*more)?"
    r"|i'?ve\s+changed\s+my\s+mind)\W*(?:please|thanks|thank\s+you)?\W*$",
    re.IGNORECASE,
)


def current_time() -> datetime:
    """The actions' clock. Tests replace it here, so the form modules call it through the module."""
    return utcnow()


def _intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def _text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def _entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [
        str(e["value"])
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == entity and e.get("value") is not None
    ]


def _is_stop(tracker: Tracker) -> bool:
    return bool(_STOP.match(_text(tracker)))


def _from_iso(value: Any) -> datetime | None:
    """Times chosen with a button arrive as ISO 8601 with an offset."""
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _slot_button(start: datetime, today: date) -> dict[str, str]:
    return {
        "title": describe_start(start, today),
        "payload": '/inform{"date_time": "' + start.isoformat() + '"}',
    }


def _booking_service() -> BookingService:
    config = BookingConfig.from_env()
    return BookingService(
        clinic(), settings().database_url, adapter_from_config(config), clock=current_time
    )


def _availability() -> Availability:
    return Availability(clinic(), settings().database_url, clock=current_time)


def _deliver_soon(config: BookingConfig) -> None:
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


def _failure(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    slot: str,
    reason: str,
    counter: str,
    stopped: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Reject an answer; the third wrong answer in a row ends the form instead of looping."""
    dispatcher.utter_message(text=reason)
    failures = int(tracker.get_slot(counter) or 0) + 1
    values: dict[str, Any] = {slot: None, counter: failures, **(extra or {})}
    if failures >= MAX_FAILURES:
        values.update({stopped: "failures", REQUESTED_SLOT: None})
    return values


def _person_offer(tracker: Tracker, counter: str) -> list[dict[str, str]]:
    """From the second wrong answer on, every question also offers a person."""
    return [PERSON_BUTTON] if int(tracker.get_slot(counter) or 0) >= 2 else []


def _check_time(
    clinic_: Clinic,
    service: Service | None,
    value: Any,
    text: str,
    default_day: date | None,
    exclude_booking_id: int | None = None,
) -> tuple[str, Any, list[datetime]]:
    """Understand and check a wanted time, including whether it is free.

    Returns ('ok', start, []), ('day', date, free times that day) when only a day was given,
    or ('bad', reason, nearest free times).
    """
    now = current_time()
    today = now.astimezone(clinic_.timezone).date()
    availability = _availability()
    # Until the service is known, check against the shortest one.
    probe = service or min(clinic_.services, key=lambda s: s.duration_minutes, default=None)
    chosen = _from_iso(value)
    result: WhenAccepted | WhenNeedsTime | WhenRejected
    if chosen is not None:
        duration = probe.duration_minutes if probe else clinic_.booking.slot_interval_minutes
        problem = check_start(clinic_, chosen, now, duration)
        if problem is None and not is_on_grid(clinic_, chosen):
            minutes = clinic_.booking.slot_interval_minutes
            problem = WhenRejected(
                "off_grid", f"Appointments start every {minutes} minutes.", chosen
            )
        result = problem or WhenAccepted(chosen.astimezone(clinic_.timezone))
    else:
        result = parse_when(text, clinic_, now, service, default_day)
    if probe is None:
        if isinstance(result, WhenAccepted):
            return "ok", result.start, []
        if isinstance(result, WhenNeedsTime):
            return "day", result.day, []
        return "bad", result.reason, []

    if isinstance(result, WhenNeedsTime):
        free = availability.free_slots(probe, result.day, exclude_booking_id)
        if free:
            return "day", result.day, free
        midday = datetime.combine(result.day, time(12, 0), tzinfo=clinic_.timezone)
        nearest = availability.nearest_free_slots(probe, midday, 3, exclude_booking_id)
        return "bad", f"Sorry, {describe_day(result.day, today)} is fully booked.", nearest
    if isinstance(result, WhenRejected):
        nearest = []
        if result.wanted is not None:
            nearest = availability.nearest_free_slots(probe, result.wanted, 3, exclude_booking_id)
        return "bad", result.reason, nearest
    if not availability.is_free(probe, result.start, exclude_booking_id):
        nearest = availability.nearest_free_slots(probe, result.start, 3, exclude_booking_id)
        return "bad", f"Sorry, {describe_start(result.start, today)} is already booked.", nearest
    return "ok", result.start, []


@dataclass(frozen=True)
class TimeSlots:
    """The slots a form keeps a wanted time in: booking and rescheduling check times alike."""

    time: str
    alternatives: str
    failures: str
    stopped: str
    # Cleared once a time is checked: the booking form's day named without a time, which a
    # day-only answer sets (`holds_day`), or the reschedule form's time given before the
    # booking was found.
    held: str
    holds_day: bool = False


async def _time_answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    slots: TimeSlots,
    clinic_: Clinic,
    service: Service | None,
    value: Any,
    text: str,
    default_day: date | None = None,
    exclude_booking_id: int | None = None,
) -> dict[str, Any]:
    """Check a wanted time and say what the form should keep: the time, a day, or free times."""
    try:
        verdict, detail, times = await asyncio.to_thread(
            _check_time, clinic_, service, value, text, default_day, exclude_booking_id
        )
    except SQLAlchemyError:
        logger.exception("availability lookup failed")
        dispatcher.utter_message(text=advice.unavailable(clinic_))
        return {slots.time: None, slots.stopped: "error", REQUESTED_SLOT: None}
    if verdict == "ok":
        return {
            slots.time: detail.isoformat(),
            slots.held: None,
            slots.alternatives: None,
            slots.failures: 0,
        }
    if verdict == "day":
        return {
            slots.time: None,
            slots.held: detail.isoformat() if slots.holds_day else None,
            slots.alternatives: [t.isoformat() for t in times[:3]],
        }
    return _failure(
        dispatcher, tracker, slots.time, detail, slots.failures, slots.stopped,
        {slots.alternatives: [t.isoformat() for t in times], slots.held: None},
    )  # fmt: skip


class _Ask(Action, ABC):
    """A fixed question; from the second wrong answer in a row it also offers a person.

    Abstract (like `_ManageSubmit`) so the action server doesn't register it.
    """

    question = ""
    counter = "booking_failures"
    buttons: tuple[dict[str, str], ...] = ()

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            text=self.question, buttons=[*self.buttons, *_person_offer(tracker, self.counter)]
        )
        return []
