"""Cancelling or moving an existing booking: the Rasa side of `bot.clinic.booking` for those forms.

Reference and contact must both match one booking before anything about it is shown; who may
change which booking is decided in `bot.clinic.booking.service`.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import context
from actions.context import clinic
from actions.forms import (
    MANAGE_SLOTS,
    PERSON_BUTTON,
    REQUESTED_SLOT,
    YES_NO,
    FixedQuestion,
    latest_text,
    person_offer,
    reject_answer,
    wants_to_stop,
)
from actions.time_question import TimeSlots, answer_time, offered_times, slot_button
from bot.clinic import advice
from bot.clinic.booking.config import BookingConfig
from bot.clinic.booking.contact import validate_contact
from bot.clinic.booking.service import normalise_reference
from bot.clinic.booking.time_choice import chosen_start
from bot.clinic.booking.wording import describe_start, on_start

logger = logging.getLogger(__name__)

NEW_TIME = TimeSlots(
    time="manage_new_time",
    alternatives="manage_alternatives",
    failures="manage_failures",
    stopped="manage_stopped",
    held="manage_pending_time",  # a day alone just brings free times that day as buttons
)


class _ManageFormValidation(FormValidationAction):
    """Reference + contact first; both must match one booking before anything is shown."""

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(REQUESTED_SLOT) and wants_to_stop(tracker):
            return [
                *(SlotSet(slot, None) for slot in MANAGE_SLOTS),
                SlotSet("manage_stopped", "client"),
                SlotSet(REQUESTED_SLOT, None),
            ]
        return await super().run(dispatcher, tracker, domain)

    async def validate_manage_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        reference = normalise_reference(str(value or ""))
        if reference is None:
            return reject_answer(
                dispatcher, tracker, "manage_reference",
                "That doesn't look like a booking reference — they look like MB-7K3Q9P.",
                "manage_failures", "manage_stopped",
            )  # fmt: skip
        return {"manage_reference": reference}

    async def validate_manage_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        clinic_ = clinic()
        checked = validate_contact(str(value or ""), clinic_.region)
        if not checked.ok:
            return reject_answer(
                dispatcher, tracker, "manage_contact", checked.reason, "manage_failures",
                "manage_stopped",
            )  # fmt: skip
        reference = str(tracker.get_slot("manage_reference") or "")
        try:
            outcome = await asyncio.to_thread(
                context.booking_service().lookup, reference, str(checked.value)
            )
        except SQLAlchemyError:
            logger.exception("booking lookup failed")
            dispatcher.utter_message(text=advice.unavailable(clinic_))
            return {"manage_contact": None, "manage_stopped": "error", REQUESTED_SLOT: None}
        booking = outcome.booking
        if outcome.code == "locked":  # too many wrong pairs, in any conversation: phone only
            dispatcher.utter_message(text=outcome.message)
            return {"manage_contact": None, "manage_stopped": "done", REQUESTED_SLOT: None}
        if booking is None:
            return reject_answer(
                dispatcher, tracker, "manage_contact", outcome.message, "manage_failures",
                "manage_stopped", {"manage_reference": None},
            )  # fmt: skip
        if booking.status == "cancelled" or booking.start <= context.current_time():
            dispatcher.utter_message(
                text="That booking has already been cancelled."
                if booking.status == "cancelled"
                else "That appointment has already started, so I can't change it here — please "
                f"call us on {clinic_.phone}."
            )
            return {"manage_contact": None, "manage_stopped": "done", REQUESTED_SLOT: None}
        found = {
            "id": booking.id,
            "reference": booking.reference,
            "service_id": booking.service_id,
            "service_name": booking.service_name,
            "start": booking.start.isoformat(),
        }
        values: dict[str, Any] = {
            "manage_contact": checked.value,
            "manage_failures": 0,
            "manage_booking": found,
        }
        pending = tracker.get_slot("manage_pending_time")
        if pending and (tracker.active_loop or {}).get("name") == "reschedule_booking_form":
            values.update(await _new_time(dispatcher, tracker, found, pending))
        return values

    async def validate_manage_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"manage_confirmed": bool(value)}


async def _new_time(
    dispatcher: CollectingDispatcher, tracker: Tracker, booking: dict[str, Any], value: Any
) -> dict[str, Any]:
    """Check a new time for `booking`, whose own slot doesn't count as taken."""
    service = clinic().service(str(booking.get("service_id")))
    return await answer_time(
        dispatcher, tracker, NEW_TIME, service, value,
        previous=chosen_start(booking.get("start")),  # "same time next week"
        exclude_booking_id=booking.get("id"),
    )  # fmt: skip


class ValidateCancelBookingForm(_ManageFormValidation):
    def name(self) -> str:
        return "validate_cancel_booking_form"


class ValidateRescheduleBookingForm(_ManageFormValidation):
    def name(self) -> str:
        return "validate_reschedule_booking_form"

    async def validate_manage_new_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        booking = tracker.get_slot("manage_booking") or {}
        # The whole message ("friday after work"), unless a time was tapped on a button.
        text = latest_text(tracker)
        if text and not text.startswith("/") and chosen_start(value) is None:
            value = text
        if not booking:
            # "Move MB-… to Friday" before we know whose booking it is: check it afterwards.
            return {"manage_new_time": None, "manage_pending_time": str(value or "") or None}
        return await _new_time(dispatcher, tracker, booking, value)


class ActionAskManageReference(FixedQuestion):
    question = "What's your booking reference? It looks like MB-7K3Q9P."
    counter = "manage_failures"

    def name(self) -> str:
        return "action_ask_manage_reference"


class ActionAskManageContact(FixedQuestion):
    question = "And the phone number or e-mail address you booked with?"
    counter = "manage_failures"

    def name(self) -> str:
        return "action_ask_manage_contact"


class ActionAskManageNewTime(Action):
    def name(self) -> str:
        return "action_ask_manage_new_time"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        today = context.current_time().astimezone(clinic_.timezone).date()
        times = offered_times(tracker, "manage_alternatives")
        booking = tracker.get_slot("manage_booking") or {}
        current = chosen_start(booking.get("start"))
        text = "What day and time would you like instead?"
        if current is not None:
            text = (
                f"I've found your {booking.get('service_name')} "
                f"{on_start(current.astimezone(clinic_.timezone), today)}. {text}"
            )
        if times:
            text += " These times are free:"
        dispatcher.utter_message(
            text=text,
            buttons=[slot_button(t, today) for t in times[:3]]
            + person_offer(tracker, "manage_failures"),
        )
        return []


class ActionAskManageConfirmed(Action):
    def name(self) -> str:
        return "action_ask_manage_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        today = context.current_time().astimezone(clinic_.timezone).date()
        booking = tracker.get_slot("manage_booking") or {}
        current = chosen_start(booking.get("start"))
        local = current.astimezone(clinic_.timezone) if current else None
        new = chosen_start(tracker.get_slot("manage_new_time"))
        if (tracker.active_loop or {}).get("name") == "reschedule_booking_form" and new:
            when = describe_start(local, today) if local else ""
            text = (
                f"Move your {booking.get('service_name')} ({booking.get('reference')}) from "
                f"{when} to {describe_start(new.astimezone(clinic_.timezone), today)}?"
            )
        else:
            when = f" {on_start(local, today)}" if local else ""
            text = f"Cancel your {booking.get('service_name')}{when} ({booking.get('reference')})?"
        dispatcher.utter_message(text=text, buttons=YES_NO)
        return []


class _ManageSubmit(Action, ABC):
    @abstractmethod
    def name(self) -> str: ...

    def _ended_early(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        stopped = tracker.get_slot("manage_stopped")
        if stopped == "client":
            dispatcher.utter_message(text="No problem — I've left your booking as it is.")
        elif stopped == "failures":
            dispatcher.utter_message(
                text="I couldn't find that booking. A person from our team can help, or you can "
                f"call us on {clinic().phone}.",
                buttons=[PERSON_BUTTON],
            )
        elif stopped is None and tracker.get_slot("manage_confirmed") is False:
            dispatcher.utter_message(text="OK — I've left your booking as it is.")
            return True
        return stopped is not None

    @staticmethod
    def reset() -> list[EventType]:
        return [SlotSet(slot, None) for slot in MANAGE_SLOTS]


class ActionSubmitCancel(_ManageSubmit):
    def name(self) -> str:
        return "action_submit_cancel"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if self._ended_early(dispatcher, tracker):
            return self.reset()
        clinic_ = clinic()
        try:
            outcome = await asyncio.to_thread(
                context.booking_service().cancel,
                str(tracker.get_slot("manage_reference")),
                str(tracker.get_slot("manage_contact")),
            )
        except SQLAlchemyError:
            logger.exception("could not cancel a booking")
            dispatcher.utter_message(text=advice.unavailable(clinic_))
            return self.reset()
        if outcome.ok and outcome.booking is not None:
            today = context.current_time().astimezone(clinic_.timezone).date()
            dispatcher.utter_message(
                text=f"Done — your {outcome.booking.service_name} "
                f"{on_start(outcome.booking.start, today)} ({outcome.booking.reference}) "
                "is cancelled."
            )
            context.deliver_soon(BookingConfig.from_env())
        else:
            dispatcher.utter_message(text=outcome.message)
        return self.reset()


class ActionSubmitReschedule(_ManageSubmit):
    def name(self) -> str:
        return "action_submit_reschedule"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if self._ended_early(dispatcher, tracker):
            return self.reset()
        clinic_ = clinic()
        new = chosen_start(tracker.get_slot("manage_new_time"))
        assert new is not None
        try:
            outcome = await asyncio.to_thread(
                context.booking_service().reschedule,
                str(tracker.get_slot("manage_reference")),
                str(tracker.get_slot("manage_contact")),
                new,
            )
        except SQLAlchemyError:
            logger.exception("could not reschedule a booking")
            dispatcher.utter_message(text=advice.unavailable(clinic_))
            return self.reset()
        today = context.current_time().astimezone(clinic_.timezone).date()
        if outcome.ok and outcome.booking is not None:
            dispatcher.utter_message(
                text=f"Done — your {outcome.booking.service_name} is now "
                f"{on_start(outcome.booking.start, today)}. Your reference stays "
                f"{outcome.booking.reference}. The clinic will confirm the new time shortly."
            )
            context.deliver_soon(BookingConfig.from_env())
            return self.reset()
        if outcome.code in {"taken", "unavailable"}:
            dispatcher.utter_message(text=outcome.message)
            return [
                SlotSet("manage_new_time", None),
                SlotSet("manage_confirmed", None),
                SlotSet("manage_alternatives", [t.isoformat() for t in outcome.alternatives]),
                FollowupAction("reschedule_booking_form"),
            ]
        dispatcher.utter_message(text=outcome.message)
        return self.reset()
