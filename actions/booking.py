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
from datetime import date, timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import form_helpers
from actions.context import clinic, health_concerns, latest_assessment
from actions.form_helpers import (
    BOOKING_SLOTS,
    PERSON_BUTTON,
    REQUESTED_SLOT,
    YES_NO,
    TimeSlots,
    _Ask,
    _availability,
    _booking_service,
    _deliver_soon,
    _entity_values,
    _failure,
    _from_iso,
    _intent,
    _is_stop,
    _person_offer,
    _slot_button,
    _text,
    _time_answer,
)
from bot.clinic import advice
from bot.clinic.booking.catalog import match_services
from bot.clinic.booking.config import BookingConfig
from bot.clinic.booking.contact import validate_contact, validate_name
from bot.clinic.booking.wording import describe_day, describe_start, describe_time
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
            and _intent(tracker) == "deny"
            and len(_text(tracker).split()) <= 3
        )
        if requested and (_is_stop(tracker) or declined):
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
            clinic_, str(value or ""), *_entity_values(tracker, "massage_type"), _text(tracker)
        )
        if len(found) == 1:
            return {
                "booking_service": found[0].id,
                "booking_service_options": None,
                "booking_failures": 0,
            }
        if found:
            return {"booking_service": None, "booking_service_options": [s.id for s in found]}
        return _failure(
            dispatcher, tracker, "booking_service",
            "Sorry, that isn't one of the treatments I can book.",
            "booking_failures", "booking_stopped", {"booking_service_options": None},
        )  # fmt: skip

    async def validate_booking_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        clinic_ = clinic()
        service = clinic_.service(str(tracker.get_slot("booking_service") or ""))
        if _intent(tracker) == "deny" and _from_iso(value) is None:
            return {"booking_time": None, "booking_alternatives": None}
        day_slot = tracker.get_slot("booking_day")
        default_day = date.fromisoformat(day_slot) if day_slot else None
        mentioned = _entity_values(tracker, "date_time")
        text = " ".join(mentioned) if len(mentioned) > 1 else str(value or "")
        return await _time_answer(
            dispatcher, tracker, BOOKING_TIME, clinic_, service, value, text, default_day
        )

    async def validate_client_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        checked = validate_name(str(value or ""))
        if checked.ok:
            return {"client_name": checked.value, "booking_failures": 0}
        return _failure(
            dispatcher, tracker, "client_name", checked.reason, "booking_failures",
            "booking_stopped",
        )  # fmt: skip

    async def validate_client_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        checked = validate_contact(str(value or ""), clinic().region)
        if checked.ok:
            return {"client_contact": checked.value, "booking_failures": 0}
        return _failure(
            dispatcher, tracker, "client_contact", checked.reason, "booking_failures",
            "booking_stopped",
        )  # fmt: skip

    async def validate_booking_note(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if _intent(tracker) == "deny" or not text or _NO_NOTE.match(text):
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
            text=text, buttons=buttons + _person_offer(tracker, "booking_failures")
        )
        return []


class ActionAskBookingTime(Action):
    def name(self) -> str:
        return "action_ask_booking_time"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        today = form_helpers.current_time().astimezone(clinic_.timezone).date()
        times = [t for t in map(_from_iso, tracker.get_slot("booking_alternatives") or []) if t]
        day = tracker.get_slot("booking_day")
        if day:
            hours = clinic_.hours_on(date.fromisoformat(day))
            text = f"What time on {describe_day(date.fromisoformat(day), today)} would suit you?"
            if hours:
                text += f" We're open {describe_time(hours[0])}–{describe_time(hours[1])}."
        elif times:
            text = "The nearest free times are below — or tell me another day and time."
        else:
            text = 'When would you like to come in? You can say something like "Friday at 3pm".'
            service = clinic_.service(str(tracker.get_slot("booking_service") or ""))
            if service is not None:
                try:
                    earliest = form_helpers.current_time() + timedelta(
                        minutes=clinic_.booking.min_notice_minutes
                    )
                    times = await asyncio.to_thread(
                        _availability().nearest_free_slots, service, earliest, 3
                    )
                except SQLAlchemyError:
                    logger.exception("availability lookup failed")
                    times = []
                if times:
                    text += " The earliest free times are:"
        buttons = [_slot_button(t, today) for t in times[:3]]
        dispatcher.utter_message(
            text=text, buttons=buttons + _person_offer(tracker, "booking_failures")
        )
        return []


class ActionAskClientName(_Ask):
    question = "What name should I put the booking under?"

    def name(self) -> str:
        return "action_ask_client_name"


class ActionAskClientContact(_Ask):
    question = (
        "What's the best phone number or e-mail address to reach you on? "
        "We'll only use it for this booking."
    )

    def name(self) -> str:
        return "action_ask_client_contact"


class ActionAskBookingNote(_Ask):
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
        start = _from_iso(tracker.get_slot("booking_time"))
        if service is None or start is None:  # can't happen once the form has both
            dispatcher.utter_message(text="Shall I book it?", buttons=YES_NO)
            return []
        today = form_helpers.current_time().astimezone(clinic_.timezone).date()
        lines = [
            "Here's your booking:",
            f"• {_service_button(service, clinic_)['title']}",
            f"• {describe_start(start.astimezone(clinic_.timezone), today)}",
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

        start = _from_iso(tracker.get_slot("booking_time"))
        assert start is not None
        config = BookingConfig.from_env()
        try:
            outcome = await asyncio.to_thread(
                _booking_service().create,
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
        today = form_helpers.current_time().astimezone(clinic_.timezone).date()
        if outcome.ok and outcome.booking is not None:
            booking = outcome.booking
            text = (
                f"You're booked in: {booking.service_name} on "
                f"{describe_start(booking.start, today)}. Your reference is {booking.reference} — "
                "please keep it: with your phone number or e-mail it lets you change or cancel."
            )
            if booking.status == "pending":
                text += " The clinic will confirm your appointment shortly."
            dispatcher.utter_message(text=text)
            _deliver_soon(config)
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
