"""Cancelling or moving an existing booking: the Rasa side of `bot.clinic.booking` for those forms.

Reference and contact must both match one booking before anything about it is shown; who may
change which booking is decided in `bot.clinic.booking.service`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import context
from actions.context import clinic
from actions.faq import answer_question
from actions.forms import (
    MANAGE_SLOTS,
    PERSON_BUTTON,
    REQUESTED_SLOT,
    YES_NO,
    FixedQuestion,
    entity_values,
    for_the_rules,
    intent_name,
    is_stale_payload,
    last_value,
    latest_text,
    person_offer,
    reject_answer,
    unread_message,
    wants_a_person,
    wants_to_stop,
)
from actions.time_question import TimeSlots, answer_time, offered_times, slot_button
from bot.clinic import advice
from bot.clinic.booking import answers
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


class _ManageFormValidation(Action):
    """Reference + contact first; both must match one booking before anything is shown.

    Like the booking form, the slots have `custom` mappings and each message is read whole:
    "Hi, I'd like to cancel MB-K7Q2XT, phone 07400 333444" gives both at once; a booking made
    earlier in this conversation needs neither.
    """

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not unread_message(tracker):
            return []
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested and wants_to_stop(tracker):
            return [
                *(SlotSet(slot, None) for slot in MANAGE_SLOTS),
                SlotSet("manage_stopped", "client"),
                SlotSet(REQUESTED_SLOT, None),
            ]
        if requested and wants_a_person(tracker):
            return [SlotSet("manage_stopped", "person"), SlotSet(REQUESTED_SLOT, None)]
        if requested and for_the_rules(tracker) and not _is_an_answer(tracker, requested):
            return []  # the rules answer the question, then the form asks again
        values = await self._read(dispatcher, tracker, requested)
        return [SlotSet(slot, value) for slot, value in values.items()]

    @property
    def moves(self) -> bool:
        return self.name() == "validate_reschedule_booking_form"

    async def _read(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str | None
    ) -> dict[str, Any]:
        clinic_ = clinic()
        text = answers.clean(latest_text(tracker))
        if text.startswith("/"):
            if requested is not None:
                return await self._button(dispatcher, tracker, requested)
            # A button that starts the form may carry the booking it is about.
            carried = entity_values(tracker, "booking_reference") + entity_values(
                tracker, "contact"
            )
            text = " ".join(carried)
        now = context.current_time()
        reference = _reference_in(text)
        contact = answers.read_contact(text, clinic_.region)
        when = answers.without_details(text, clinic_.region)
        names_time = self.moves and (
            answers.names_time(when, clinic_, now) or bool(_RELATIVE.search(when))
        )
        question = answers.is_strong_question(text) or (
            answers.looks_like_question(text) and not names_time
        )
        values: dict[str, Any] = {}
        if requested is None:
            if reference is None and last_value(tracker, "booking_reference"):
                # The booking made a moment ago in this chat.
                reference = str(last_value(tracker, "booking_reference"))
                if contact is None and last_value(tracker, "client_contact"):
                    contact = validate_contact(
                        str(last_value(tracker, "client_contact")), clinic_.region
                    )
            if names_time:
                values["manage_pending_time"] = when
            if reference:
                values.update(await self._reference(dispatcher, tracker, reference))
            if contact is not None and values.get("manage_reference"):
                values.update(await self._contact(dispatcher, tracker, values, str(contact.value)))
            return values
        if requested == "manage_reference":
            reference = reference or normalise_reference(text)
            if reference:
                values.update(await self._reference(dispatcher, tracker, reference))
                if contact is not None:
                    values.update(
                        await self._contact(dispatcher, tracker, values, str(contact.value))
                    )
                return values
        elif requested == "manage_contact":
            checked = answers.contact_answer(text, clinic_.region)
            if checked.ok:
                return await self._contact(dispatcher, tracker, values, str(checked.value))
            if not question:
                return reject_answer(
                    dispatcher, tracker, "manage_contact", checked.reason, "manage_failures",
                    "manage_stopped",
                )  # fmt: skip
        elif requested == "manage_new_time":
            if not question:
                booking = tracker.get_slot("manage_booking") or {}
                return await _new_time(dispatcher, tracker, booking, when)
        elif requested == "manage_confirmed":
            if names_time:
                booking = tracker.get_slot("manage_booking") or {}
                return await _new_time(dispatcher, tracker, booking, when)
            agrees = intent_name(tracker) == "affirm" or (
                not self.moves and intent_name(tracker) == "cancel_appointment"  # "yes, cancel it"
            )
            if answers.is_yes(text) or _YES_FIRST.match(text) or (agrees and not question):
                return {"manage_confirmed": True}
            if answers.is_no(text) or intent_name(tracker) == "deny" or _LEAVE_IT.search(text):
                return {"manage_confirmed": False}
        if question:
            await _answer(dispatcher, tracker)
            return {requested: None}
        if requested == "manage_reference":
            return reject_answer(
                dispatcher, tracker, "manage_reference",
                "That doesn't look like a booking reference — they look like MB-7K3Q9P.",
                "manage_failures", "manage_stopped",
            )  # fmt: skip
        dispatcher.utter_message(text="Sorry, I didn't catch that — yes or no?")
        return {requested: None}

    async def _button(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str | None
    ) -> dict[str, Any]:
        """Only a button shown with the bot's last reply counts; an old one changes nothing."""
        if requested is None or is_stale_payload(tracker):
            return {requested: None} if requested else {}
        intent = intent_name(tracker)
        if requested == "manage_confirmed" and intent in {"affirm", "deny"}:
            return {"manage_confirmed": intent == "affirm"}
        tapped = entity_values(tracker, "date_time")
        if requested == "manage_new_time" and tapped:
            booking = tracker.get_slot("manage_booking") or {}
            return await _new_time(dispatcher, tracker, booking, tapped[0])
        return {requested: None}

    async def _reference(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, value: str
    ) -> dict[str, Any]:
        reference = normalise_reference(value)
        if reference is None:
            return reject_answer(
                dispatcher, tracker, "manage_reference",
                "That doesn't look like a booking reference — they look like MB-7K3Q9P.",
                "manage_failures", "manage_stopped",
            )  # fmt: skip
        return {"manage_reference": reference}

    async def _contact(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        values: dict[str, Any],
        contact: str,
    ) -> dict[str, Any]:
        clinic_ = clinic()
        reference = str(
            values.get("manage_reference") or tracker.get_slot("manage_reference") or ""
        )
        try:
            outcome = await asyncio.to_thread(context.booking_service().lookup, reference, contact)
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
        result: dict[str, Any] = {
            "manage_contact": contact,
            "manage_failures": 0,
            "manage_booking": found,
        }
        pending = values.get("manage_pending_time") or tracker.get_slot("manage_pending_time")
        if pending and self.moves:
            result.update(await _new_time(dispatcher, tracker, found, pending))
        return result


_RELATIVE = re.compile(r"\b(?:later|earlier|sooner|same\s+time)\b", re.IGNORECASE)
_YES_FIRST = re.compile(r"^\W*(?:yes|yeah|yep|yup|please\s+do|go\s+ahead)\b", re.IGNORECASE)
_LEAVE_IT = re.compile(r"\b(?:leave\s+it|keep\s+it|as\s+it\s+is|don'?t\s+(?:move|cancel))\b", re.I)
_REFERENCE_IN = re.compile(r"\bMB[\s-]?[A-Z0-9]{6}\b", re.IGNORECASE)


def _is_an_answer(tracker: Tracker, requested: str) -> bool:
    """A reference, a phone number or a time, whatever the classifier thought it was."""
    text = answers.clean(latest_text(tracker))
    if intent_name(tracker) == "red_flag" or answers.is_strong_question(text):
        return False
    if requested == "manage_reference":
        return _reference_in(text) is not None
    if requested == "manage_contact":
        return answers.contact_answer(text, clinic().region).ok
    if requested == "manage_new_time":
        return answers.names_time(text, clinic(), context.current_time())
    return False


def _reference_in(text: str) -> str | None:
    found = _REFERENCE_IN.search(text)
    return normalise_reference(found.group(0)) if found else None


async def _answer(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """A question while cancelling or moving: its answer, then the question again."""
    for ranked in tracker.latest_message.get("intent_ranking") or []:
        name = str(ranked.get("name") or "")
        if name.startswith("ask_") and float(ranked.get("confidence") or 0) >= 0.3:
            await answer_question(dispatcher, tracker, name)
            return
    dispatcher.utter_message(
        text=f"I'm not sure about that one — our team can tell you: call us on {clinic().phone}."
    )


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
        if stopped == "person":
            return True
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
    def reset(tracker: Tracker | None = None) -> list[EventType]:
        events: list[EventType] = [SlotSet(slot, None) for slot in MANAGE_SLOTS]
        if tracker is not None and tracker.get_slot("manage_stopped") == "person":
            events.append(FollowupAction("handoff_form"))  # asked for a person mid-way
        return events


class ActionSubmitCancel(_ManageSubmit):
    def name(self) -> str:
        return "action_submit_cancel"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if self._ended_early(dispatcher, tracker):
            return self.reset(tracker)
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
            return self.reset(tracker)
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
                text=f"Done — I've moved your {outcome.booking.service_name} to "
                f"{describe_start(outcome.booking.start, today)}. Your reference stays "
                f"{outcome.booking.reference}, and the clinic will confirm the new time shortly."
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
