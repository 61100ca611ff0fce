"""What the booking, manage-booking and hand-off forms share: reading the client's answer,
rejecting it kindly, stopping, and the fixed questions.

Booking rules live in `bot.clinic.booking`; the time question is in `actions.time_question`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

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


def intent_name(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [
        str(e["value"])
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == entity and e.get("value") is not None
    ]


def wants_to_stop(tracker: Tracker) -> bool:
    return bool(_STOP.match(latest_text(tracker)))


def reject_answer(
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


def person_offer(tracker: Tracker, counter: str) -> list[dict[str, str]]:
    """From the second wrong answer on, every question also offers a person."""
    return [PERSON_BUTTON] if int(tracker.get_slot(counter) or 0) >= 2 else []


class FixedQuestion(Action, ABC):
    """A fixed question; from the second wrong answer in a row it also offers a person.

    Abstract so the action server doesn't register it.
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
            text=self.question, buttons=[*self.buttons, *person_offer(tracker, self.counter)]
        )
        return []
