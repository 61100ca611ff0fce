"""Booking a new appointment: the Rasa side of `bot.clinic.booking` for the booking form.

The form only collects and checks answers; every rule (opening hours, notice, availability)
lives in `bot.clinic.booking`, and the database has the last word on double bookings when the
booking is stored.

Message layout: a validator says what was wrong with an answer; the `action_ask_*` actions that
follow ask again and carry the buttons (free times, services, "Talk to a person"), so buttons
are always on the latest message.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import context
from actions.context import clinic, health_concerns, latest_assessment
from actions.forms import (
    BOOKING_SLOTS,
    PERSON_BUTTON,
    REQUESTED_SLOT,
    YES_NO,
    FixedQuestion,
    entity_values,
    intent_name,
    latest_text,
    person_offer,
    reject_answer,
    wants_to_stop,
)
from actions.time_question import (
    TimeSlots,
    answer_time,
    offered_times,
    slot_button,
    time_before_latest_message,
)
from bot.clinic import advice
from bot.clinic.booking import wording
from bot.clinic.booking.catalog import match_services
from bot.clinic.booking.config import BookingConfig
from bot.clinic.booking.contact import validate_contact, validate_name
from bot.clinic.booking.time_choice import chosen_start, earliest_free_times
from bot.clinic.facts import Clinic, Service

logger = logging.getLogger(__name__)

MAX_NOTE = 500
NO_NOTE = "-"
_YES_ONLY = re.compile(r"^\W*(?:yes|yeah|yep|sure|ok|okay|yes please)\W*$", re.IGNORECASE)
_NO_NOTE = re.compile(
    r"^\W*(?:no|nope|nah|none|nothing|no thanks|no thank you|n/?a|not really|that'?s all|"
    r"nothing (?:else|to add)|all good|-)\W*$",
    re.IGNORECASE,
)

BOOKING_TIME = TimeSlots(
    time="booking_time",
    alternatives="booking_alternatives",
    failures="booking_failures",
    stopped="booking_stopped",
    held="booking_day",
    holds_day=True,  # "Friday" alone: the next question asks what time on Friday
)


def _service_button(service: Service, clinic_: Clinic) -> dict[str, str]:
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(clinic_.currency, "")
    return {
        "title": f"{service.name} – {symbol}{service.price:.2f}",
        "payload": '/inform{"massage_type": "' + service.id + '"}',
    }


class ValidateBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if advice.stops_booking(health_concerns(tracker)):
            # The safety action has just explained why: no booking in this conversation.
            return [SlotSet("booking_stopped", "red_flag"), SlotSet(REQUESTED_SLOT, None)]
        requested = tracker.get_slot(REQUESTED_SLOT)
        # A bare "no" where no yes/no question was asked means they'd rather not go on; at the
        # time it means "none of those" and at the note "nothing to add" (see the validators).
        declined = (
            requested in {"booking_service", "client_name", "client_contact"}
            and intent_name(tracker) == "deny"
            and len(latest_text(tracker).split()) <= 3
        )
        if requested and (wants_to_stop(tracker) or declined):
            return [
                *(SlotSet(slot, None) for slot in BOOKING_SLOTS),
                SlotSet("booking_stopped", "client"),
                SlotSet(REQUESTED_SLOT, None),
            ]
        return await super().run(dispatcher, tracker, domain)

    async def validate_booking_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        clinic_ = clinic()
        found = match_services(
            clinic_, str(value or ""), *entity_values(tracker, "massage_type"), latest_text(tracker)
        )
        if len(found) == 1:
            return {
                "booking_service": found[0].id,
                "booking_service_options": None,
                "booking_failures": 0,
            }
        if found:
            return {"booking_service": None, "booking_service_options": [s.id for s in found]}
        return reject_answer(
            dispatcher, tracker, "booking_service",
            "Sorry, that isn't one of the treatments I can book.",
            "booking_failures", "booking_stopped", {"booking_service_options": None},
        )  # fmt: skip

    async def validate_booking_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        clinic_ = clinic()
        service = clinic_.service(str(tracker.get_slot("booking_service") or ""))
        if intent_name(tracker) == "deny" and chosen_start(value) is None:
            return {"booking_time": None, "booking_alternatives": None}
        day_slot = tracker.get_slot("booking_day")
        default_day = date.fromisoformat(day_slot) if day_slot else None
        # The whole message, not the entity the NLU cut out of it: "thursday after work" is
        # more than "thursday". A time tapped on a button arrives as the value.
        text = latest_text(tracker)
        use_text = text and not text.startswith("/") and chosen_start(value) is None
        answer = text if use_text else str(value or "")
        return await answer_time(
            dispatcher, tracker, BOOKING_TIME, service, answer, default_day,
            previous=time_before_latest_message(tracker, "booking_time"),
            asked=tracker.get_slot(REQUESTED_SLOT) == "booking_time",
        )  # fmt: skip

    async def validate_client_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        checked = validate_name(str(value or ""))
        if checked.ok:
            return {"client_name": checked.value, "booking_failures": 0}
        return reject_answer(
            dispatcher, tracker, "client_name", checked.reason, "booking_failures",
            "booking_stopped",
        )  # fmt: skip

    async def validate_client_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        checked = validate_contact(str(value or ""), clinic().region)
        if checked.ok:
            return {"client_contact": checked.value, "booking_failures": 0}
        return reject_answer(
            dispatcher, tracker, "client_contact", checked.reason, "booking_failures",
            "booking_stopped",
        )  # fmt: skip

    async def validate_booking_note(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if intent_name(tracker) == "deny" or not text or _NO_NOTE.match(text):
            return {"booking_note": NO_NOTE}
        if _YES_ONLY.match(text):
            dispatcher.utter_message(text="Sure — what would you like the therapist to know?")
            return {"booking_note": None}
        guidance = advice.concern_in_form(clinic(), latest_assessment(tracker).concerns)
        if guidance:
            dispatcher.utter_message(text=guidance)
        return {"booking_note": text[:MAX_NOTE]}

    async def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"booking_confirmed": bool(value)}


class ActionAskBookingService(Action):
    def name(self) -> str:
        return "action_ask_booking_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        ids = tracker.get_slot("booking_service_options") or []
        options = [s for s in map(clinic_.service, ids) if s is not None]
        text = "Which one would you like?" if options else "Which treatment would you like?"
        buttons = [_service_button(s, clinic_) for s in options or clinic_.services]
        dispatcher.utter_message(
            text=text, buttons=buttons + person_offer(tracker, "booking_failures")
        )
        return []


class ActionAskBookingTime(Action):
    def name(self) -> str:
        return "action_ask_booking_time"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        now = context.current_time()
        today = now.astimezone(clinic_.timezone).date()
        times = offered_times(tracker, "booking_alternatives")
        day = tracker.get_slot("booking_day")
        if day:
            held = date.fromisoformat(day)
            text = wording.what_time_on(held, today, clinic_.hours_on(held))
        elif times:
            text = wording.CHOOSE_OR_SAY
        else:
            text = wording.WHEN_WOULD_YOU_LIKE
            service = clinic_.service(str(tracker.get_slot("booking_service") or ""))
            if service is not None:
                try:
                    times = await asyncio.to_thread(
                        earliest_free_times, clinic_, context.availability(), service, now
                    )
                except SQLAlchemyError:
                    logger.exception("availability lookup failed")
                    times = []
                if times:
                    text += " The earliest free times are:"
        buttons = [slot_button(t, today) for t in times[:3]]
        dispatcher.utter_message(
            text=text, buttons=buttons + person_offer(tracker, "booking_failures")
        )
        return []


class ActionAskClientName(FixedQuestion):
    question = "What name should I put the booking under?"

    def name(self) -> str:
        return "action_ask_client_name"


class ActionAskClientContact(FixedQuestion):
    question = (
        "What's the best phone number or e-mail address to reach you on? "
        "We'll only use it for this booking."
    )

    def name(self) -> str:
        return "action_ask_client_contact"


class ActionAskBookingNote(FixedQuestion):
    question = (
        "Is there anything the therapist should know — for example which part of your back hurts?"
    )
    buttons = ({"title": "Nothing to add", "payload": "/deny"},)

    def name(self) -> str:
        return "action_ask_booking_note"


class ActionAskBookingConfirmed(Action):
    def name(self) -> str:
        return "action_ask_booking_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        service = clinic_.service(str(tracker.get_slot("booking_service") or ""))
        start = chosen_start(tracker.get_slot("booking_time"))
        if service is None or start is None:  # can't happen once the form has both
            dispatcher.utter_message(text="Shall I book it?", buttons=YES_NO)
            return []
        today = context.current_time().astimezone(clinic_.timezone).date()
        lines = [
            "Here's your booking:",
            f"• {_service_button(service, clinic_)['title']}",
            f"• {wording.describe_start(start.astimezone(clinic_.timezone), today)}",
            f"• Name: {tracker.get_slot('client_name')}",
            f"• Contact: {tracker.get_slot('client_contact')}",
        ]
        note = tracker.get_slot("booking_note")
        if note and note != NO_NOTE:
            lines.append(f"• Note: {note}")
        lines.append("Shall I book it?")
        dispatcher.utter_message(text="\n".join(lines), buttons=YES_NO)
        return []


class ActionSubmitBooking(Action):
    """Runs whenever the booking form ends: books, or says why nothing was booked."""

    def name(self) -> str:
        return "action_submit_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        reset = [SlotSet(slot, None) for slot in BOOKING_SLOTS]
        stopped = tracker.get_slot("booking_stopped")
        if stopped == "red_flag" or stopped == "error":
            return reset
        if stopped == "client":
            dispatcher.utter_message(
                text="No problem — I haven't booked anything. Anything else I can help with?"
            )
            return reset
        if stopped == "failures":
            dispatcher.utter_message(
                text="I'm sorry this isn't working. A person from our team can help you book, or "
                f"you can call us on {clinic_.phone}.",
                buttons=[PERSON_BUTTON],
            )
            return reset
        if tracker.get_slot("booking_confirmed") is not True:
            dispatcher.utter_message(
                text="OK, I haven't booked it. You can start again whenever you like.",
                buttons=[{"title": "Book a different time", "payload": "/schedule_appointment"}],
            )
            return reset

        start = chosen_start(tracker.get_slot("booking_time"))
        assert start is not None
        config = BookingConfig.from_env()
        try:
            outcome = await asyncio.to_thread(
                context.booking_service().create,
                str(tracker.get_slot("booking_service")),
                start,
                str(tracker.get_slot("client_name")),
                str(tracker.get_slot("client_contact")),
                ""
                if tracker.get_slot("booking_note") == NO_NOTE
                else tracker.get_slot("booking_note") or "",
                tracker.sender_id,
            )
        except SQLAlchemyError:
            logger.exception("could not store a booking")
            dispatcher.utter_message(text=advice.unavailable(clinic_))
            return reset
        today = context.current_time().astimezone(clinic_.timezone).date()
        if outcome.ok and outcome.booking is not None:
            booking = outcome.booking
            when = wording.on_start(booking.start, today)
            text = (
                f"You're booked in: {booking.service_name} {when}. "
                f"Your reference is {booking.reference} — "
                "please keep it: with your phone number or e-mail it lets you change or cancel."
            )
            if booking.status == "pending":
                text += " The clinic will confirm your appointment shortly."
            dispatcher.utter_message(text=text)
            context.deliver_soon(config)
            return [*reset, SlotSet("booking_reference", booking.reference)]
        if outcome.code in {"taken", "unavailable"}:
            # Someone else got there first (or the time stopped being bookable): pick again,
            # keeping everything else the client told us.
            dispatcher.utter_message(text=outcome.message)
            return [
                SlotSet("booking_time", None),
                SlotSet("booking_confirmed", None),
                SlotSet("booking_alternatives", [t.isoformat() for t in outcome.alternatives]),
                FollowupAction("booking_form"),
            ]
        dispatcher.utter_message(text=outcome.message)
        return reset
