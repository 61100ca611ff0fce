"""The time question, shared by booking and rescheduling: the client's answer goes to
`bot.clinic.booking.time_choice.choose_time`, and its typed result becomes slots and messages.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions import context
from actions.forms import REQUESTED_SLOT, reject_answer
from bot.clinic import advice
from bot.clinic.booking.time_choice import (
    DayChosen,
    TimeAvailable,
    TimeRefused,
    WindowChosen,
    choose_time,
    chosen_start,
)
from bot.clinic.booking.wanted_time import read_wanted_time
from bot.clinic.booking.wording import describe_start
from bot.clinic.facts import Clinic, Service

logger = logging.getLogger(__name__)


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


def slot_button(start: datetime, today: date) -> dict[str, str]:
    return {
        "title": describe_start(start, today),
        "payload": '/inform{"date_time": "' + start.isoformat() + '"}',
    }


def offered_times(tracker: Tracker, slot: str) -> list[datetime]:
    """The free times a form offered last (kept as ISO strings in `slot`)."""
    return [t for t in map(chosen_start, tracker.get_slot(slot) or []) if t]


def _one_of_the_offered(
    tracker: Tracker,
    slots: TimeSlots,
    answer: Any,
    clinic_: Clinic,
    default_day: date | None,
    previous: datetime | None,
) -> Any:
    """ "Tuesday at 2pm" after free times next week were offered is next week's Tuesday, even
    said on a Tuesday: a time the client names from the list offered is that one."""
    offered = offered_times(tracker, slots.alternatives)
    if not offered or not isinstance(answer, str) or chosen_start(answer) is not None:
        return answer
    wanted = read_wanted_time(answer, clinic_, context.current_time(), previous=previous,
                              default_day=default_day)  # fmt: skip
    if wanted.at is None:
        return answer
    offered_days = {t.astimezone(clinic_.timezone).date() for t in offered}
    if wanted.day is not None and wanted.day not in offered_days:
        # "tuesday" said on a Tuesday, after free times next week: next week's Tuesday
        same_weekday = sorted(d for d in offered_days if d.weekday() == wanted.day.weekday())
        if same_weekday:
            local = datetime.combine(same_weekday[0], wanted.at, clinic_.timezone)
            return local.isoformat()
    for start in offered:
        local = start.astimezone(clinic_.timezone)
        if local.time() != wanted.at:
            continue
        if wanted.day is None or wanted.day.weekday() == local.weekday():
            return start.isoformat()
    return answer


def time_before_latest_message(tracker: Tracker, slot: str) -> datetime | None:
    """The time `slot` held before the client's latest message ("same time next week")."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_latest = True
        elif seen_latest and event.get("event") == "slot" and event.get("name") == slot:
            return chosen_start(event.get("value"))
    return None


async def answer_time(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    slots: TimeSlots,
    service: Service | None,
    answer: Any,
    default_day: date | None = None,
    previous: datetime | None = None,
    exclude_booking_id: int | None = None,
    asked: bool = True,
) -> dict[str, Any]:
    """Check a wanted time and say what the form should keep: the time, a day, or free times.

    When the time wasn't the question asked (`asked` False: a time picked out of another
    answer, such as a phone number), an answer that isn't a time at all changes nothing.
    """
    clinic_ = context.clinic()
    answer = _one_of_the_offered(tracker, slots, answer, clinic_, default_day, previous)
    try:
        choice = await asyncio.to_thread(
            choose_time,
            clinic_,
            context.availability(),
            str(answer or ""),
            context.current_time(),
            service,
            default_day=default_day,
            previous=previous,
            exclude_booking_id=exclude_booking_id,
        )
    except SQLAlchemyError:
        logger.exception("availability lookup failed")
        dispatcher.utter_message(text=advice.unavailable(clinic_))
        return {slots.time: None, slots.stopped: "error", REQUESTED_SLOT: None}
    if isinstance(choice, TimeAvailable):
        return {
            slots.time: choice.start.isoformat(),
            slots.held: None,
            slots.alternatives: None,
            slots.failures: 0,
        }
    if isinstance(choice, DayChosen):
        return {
            slots.time: None,
            slots.held: choice.day.isoformat() if slots.holds_day else None,
            slots.alternatives: [t.isoformat() for t in choice.free_times],
        }
    if isinstance(choice, WindowChosen):
        # A vague answer is an answer: no failure counted, just free times that fit it.
        if choice.free_times:
            dispatcher.utter_message(text=choice.offer)
        return {
            slots.time: None,
            slots.held: None,
            slots.alternatives: [t.isoformat() for t in choice.free_times],
        }
    assert isinstance(choice, TimeRefused)
    if not asked and choice.code == "unparseable":
        return {slots.time: previous.isoformat() if previous else None}
    return reject_answer(
        dispatcher, tracker, slots.time, choice.reason, slots.failures, slots.stopped,
        {slots.alternatives: [t.isoformat() for t in choice.nearest_free], slots.held: None},
    )  # fmt: skip
