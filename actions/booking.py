"""Booking, cancelling, rescheduling and hand-off to a person: the Rasa side of `bot.booking`.

The forms only collect and check answers; every rule (opening hours, notice, availability,
who may change which booking) lives in `bot.booking`, and the database has the last word on
double bookings when the booking is stored.

Message layout: a validator says what was wrong with an answer; the `action_ask_*` actions that
follow ask again and carry the buttons (free times, services, "Talk to a person"), so buttons
are always on the latest message.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from abc import ABC, abstractmethod
from datetime import date, datetime, time, timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.context import clinic, latest_triage, settings
from bot import advice
from bot.booking.availability import Availability
from bot.booking.catalog import match_services
from bot.booking.config import BookingConfig
from bot.booking.contact import validate_contact, validate_name
from bot.booking.handoff import adapter_from_config
from bot.booking.outbox import OutboxDeliverer
from bot.booking.service import BookingService, normalise_reference
from bot.booking.text import describe_day, describe_start, describe_time
from bot.booking.when import (
    WhenAccepted,
    WhenNeedsTime,
    WhenRejected,
    check_start,
    is_on_grid,
    parse_when,
)
from bot.clinic import Clinic, Service
from bot.models import utcnow
from bot.staff import HandoffService, clinic_is_open

logger = logging.getLogger(__name__)

REQUESTED_SLOT = "requested_slot"
MAX_FAILURES = 3  # the third wrong answer in a row stops the form and offers a person
MAX_NOTE = 500
TRANSCRIPT_MESSAGES = 20

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
NO_NOTE = "-"
PERSON_BUTTON = {"title": "Talk to a person", "payload": "/human_handoff"}
YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]

_STOP = re.compile(
    r"^\W*(?:no,?\s+|oh\s+|actually,?\s+)?(?:stop|never\s*mind|nevermind|forget\s+(?:it|about\s+it)"
    r"|cancel(?:\s+(?:that|it|this|the\s+booking))?|quit|exit|leave\s+it|not\s+any\s*more"
    r"|i\s+(?:don'?t|do\s+not)\s+want\s+to\s+(?:book|do\s+this)(?:\s+any\s*more)?"
    r"|i'?ve\s+changed\s+my\s+mind)\W*(?:please|thanks|thank\s+you)?\W*$",
    re.IGNORECASE,
)
_YES_ONLY = re.compile(r"^\W*(?:yes|yeah|yep|sure|ok|okay|yes please)\W*$", re.IGNORECASE)
_NO_NOTE = re.compile(
    r"^\W*(?:no|nope|nah|none|nothing|no thanks|no thank you|n/?a|not really|that'?s all|"
    r"nothing (?:else|to add)|all good|-)\W*$",
    re.IGNORECASE,
)


def current_time() -> datetime:
    """The actions' clock (tests replace it)."""
    return utcnow()


# --- shared helpers ---------------------------------------------------------------------------


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


def _service_button(service: Service, clinic_: Clinic) -> dict[str, str]:
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(clinic_.currency, "")
    return {
        "title": f"{service.name} – {symbol}{service.price:.2f}",
        "payload": '/inform{"massage_type": "' + service.id + '"}',
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


def _transcript(tracker: Tracker) -> str:
    lines = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            lines.append(f"client: {event['text']}")
        elif event.get("event") == "bot" and event.get("text"):
            lines.append(f"bot: {event['text']}")
    return "\n".join(lines[-TRANSCRIPT_MESSAGES:])


# --- booking form -----------------------------------------------------------------------------


class ValidateBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("red_flag_signs"):
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
        try:
            verdict, detail, times = await asyncio.to_thread(
                _check_time, clinic_, service, value, text, default_day
            )
        except SQLAlchemyError:
            logger.exception("availability lookup failed")
            dispatcher.utter_message(text=advice.unavailable(clinic_))
            return {"booking_time": None, "booking_stopped": "error", REQUESTED_SLOT: None}
        if verdict == "ok":
            return {
                "booking_time": detail.isoformat(),
                "booking_day": None,
                "booking_alternatives": None,
                "booking_failures": 0,
            }
        if verdict == "day":
            return {
                "booking_time": None,
                "booking_day": detail.isoformat(),
                "booking_alternatives": [t.isoformat() for t in times[:3]],
            }
        return _failure(
            dispatcher, tracker, "booking_time", detail, "booking_failures", "booking_stopped",
            {"booking_alternatives": [t.isoformat() for t in times], "booking_day": None},
        )  # fmt: skip

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
        caution_signs = latest_triage(tracker).get("caution_signs") or []
        if caution_signs:
            dispatcher.utter_message(text=advice.caution_before_booking(caution_signs))
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
        today = current_time().astimezone(clinic_.timezone).date()
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
                    earliest = current_time() + timedelta(
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


class _Ask(Action, ABC):
    """A fixed question; from the second wrong answer in a row it also offers a person.

    Abstract (like the other `_` bases here) so the action server doesn't register it.
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
        today = current_time().astimezone(clinic_.timezone).date()
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
        today = current_time().astimezone(clinic_.timezone).date()
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


# --- cancel and reschedule --------------------------------------------------------------------


class _ManageFormValidation(FormValidationAction):
    """Reference + contact first; both must match one booking before anything is shown."""

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(REQUESTED_SLOT) and _is_stop(tracker):
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
            return _failure(
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
            return _failure(
                dispatcher, tracker, "manage_contact", checked.reason, "manage_failures",
                "manage_stopped",
            )  # fmt: skip
        reference = str(tracker.get_slot("manage_reference") or "")
        try:
            outcome = await asyncio.to_thread(
                _booking_service().lookup, reference, str(checked.value)
            )
        except SQLAlchemyError:
            logger.exception("booking lookup failed")
            dispatcher.utter_message(text=advice.unavailable(clinic_))
            return {"manage_contact": None, "manage_stopped": "error", REQUESTED_SLOT: None}
        booking = outcome.booking
        if booking is None:
            return _failure(
                dispatcher, tracker, "manage_contact", outcome.message, "manage_failures",
                "manage_stopped", {"manage_reference": None},
            )  # fmt: skip
        if booking.status == "cancelled" or booking.start <= current_time():
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
    clinic_ = clinic()
    service = clinic_.service(str(booking.get("service_id")))
    try:
        verdict, detail, times = await asyncio.to_thread(
            _check_time, clinic_, service, value, str(value or ""), None, booking.get("id")
        )
    except SQLAlchemyError:
        logger.exception("availability lookup failed")
        dispatcher.utter_message(text=advice.unavailable(clinic_))
        return {"manage_new_time": None, "manage_stopped": "error", REQUESTED_SLOT: None}
    if verdict == "ok":
        return {
            "manage_new_time": detail.isoformat(),
            "manage_pending_time": None,
            "manage_alternatives": None,
            "manage_failures": 0,
        }
    if verdict == "day":
        return {
            "manage_new_time": None,
            "manage_pending_time": None,
            "manage_alternatives": [t.isoformat() for t in times[:3]],
        }
    return _failure(
        dispatcher, tracker, "manage_new_time", detail, "manage_failures", "manage_stopped",
        {"manage_alternatives": [t.isoformat() for t in times], "manage_pending_time": None},
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
        if not booking:
            # "Move MB-… to Friday" before we know whose booking it is: check it afterwards.
            return {"manage_new_time": None, "manage_pending_time": str(value or "") or None}
        return await _new_time(dispatcher, tracker, booking, value)


class ActionAskManageReference(_Ask):
    question = "What's your booking reference? It looks like MB-7K3Q9P."
    counter = "manage_failures"

    def name(self) -> str:
        return "action_ask_manage_reference"


class ActionAskManageContact(_Ask):
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
        today = current_time().astimezone(clinic_.timezone).date()
        times = [t for t in map(_from_iso, tracker.get_slot("manage_alternatives") or []) if t]
        booking = tracker.get_slot("manage_booking") or {}
        current = _from_iso(booking.get("start"))
        text = "What day and time would you like instead?"
        if current is not None:
            text = (
                f"I've found your {booking.get('service_name')} on "
                f"{describe_start(current.astimezone(clinic_.timezone), today)}. {text}"
            )
        if times:
            text += " These times are free:"
        dispatcher.utter_message(
            text=text,
            buttons=[_slot_button(t, today) for t in times[:3]]
            + _person_offer(tracker, "manage_failures"),
        )
        return []


class ActionAskManageConfirmed(Action):
    def name(self) -> str:
        return "action_ask_manage_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        today = current_time().astimezone(clinic_.timezone).date()
        booking = tracker.get_slot("manage_booking") or {}
        current = _from_iso(booking.get("start"))
        when = describe_start(current.astimezone(clinic_.timezone), today) if current else ""
        new = _from_iso(tracker.get_slot("manage_new_time"))
        if (tracker.active_loop or {}).get("name") == "reschedule_booking_form" and new:
            text = (
                f"Move your {booking.get('service_name')} ({booking.get('reference')}) from "
                f"{when} to {describe_start(new.astimezone(clinic_.timezone), today)}?"
            )
        else:
            text = (
                f"Cancel your {booking.get('service_name')} on {when} ({booking.get('reference')})?"
            )
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
                _booking_service().cancel,
                str(tracker.get_slot("manage_reference")),
                str(tracker.get_slot("manage_contact")),
            )
        except SQLAlchemyError:
            logger.exception("could not cancel a booking")
            dispatcher.utter_message(text=advice.unavailable(clinic_))
            return self.reset()
        if outcome.ok and outcome.booking is not None:
            today = current_time().astimezone(clinic_.timezone).date()
            dispatcher.utter_message(
                text=f"Done — your {outcome.booking.service_name} on "
                f"{describe_start(outcome.booking.start, today)} ({outcome.booking.reference}) "
                "is cancelled."
            )
            _deliver_soon(BookingConfig.from_env())
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
        new = _from_iso(tracker.get_slot("manage_new_time"))
        assert new is not None
        try:
            outcome = await asyncio.to_thread(
                _booking_service().reschedule,
                str(tracker.get_slot("manage_reference")),
                str(tracker.get_slot("manage_contact")),
                new,
            )
        except SQLAlchemyError:
            logger.exception("could not reschedule a booking")
            dispatcher.utter_message(text=advice.unavailable(clinic_))
            return self.reset()
        today = current_time().astimezone(clinic_.timezone).date()
        if outcome.ok and outcome.booking is not None:
            dispatcher.utter_message(
                text=f"Done — your {outcome.booking.service_name} is now on "
                f"{describe_start(outcome.booking.start, today)}. Your reference stays "
                f"{outcome.booking.reference}. The clinic will confirm the new time shortly."
            )
            _deliver_soon(BookingConfig.from_env())
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


# --- hand-off to a person ---------------------------------------------------------------------


def _known_contact(tracker: Tracker) -> str | None:
    for slot in ("handoff_contact", "client_contact", "manage_contact"):
        value = tracker.get_slot(slot)
        if value:
            return str(value)
    return None


class ValidateHandoffForm(FormValidationAction):
    """Asks for a call-back number only when nobody can answer now and we have none."""

    def name(self) -> str:
        return "validate_handoff_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if clinic_is_open(clinic(), current_time()) or _known_contact(tracker):
            return []
        return ["handoff_contact"]

    async def validate_handoff_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if _is_stop(tracker):
            return {"handoff_contact": None, "handoff_declined": True, REQUESTED_SLOT: None}
        checked = validate_contact(str(value or ""), clinic().region)
        if checked.ok:
            return {"handoff_contact": checked.value}
        dispatcher.utter_message(text=checked.reason)
        return {"handoff_contact": None}


class ActionAskHandoffContact(Action):
    def name(self) -> str:
        return "action_ask_handoff_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            text="We're closed right now, so one of our team will call you back when we open. "
            "What's the best phone number (or e-mail address) to reach you on?"
        )
        return []


class ActionHumanHandoff(Action):
    """Records the request and notifies staff. While the clinic is open the bot then pauses so
    a person can take over; when it is closed the client gets a call-back promise instead and
    the bot carries on answering questions."""

    def name(self) -> str:
        return "action_human_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        reset: list[EventType] = [
            SlotSet("handoff_contact", None),
            SlotSet("handoff_declined", None),
            *(SlotSet(slot, None) for slot in BOOKING_SLOTS),
            *(SlotSet(slot, None) for slot in MANAGE_SLOTS),
        ]
        if tracker.get_slot("handoff_declined"):
            dispatcher.utter_message(
                text=f"No problem. If you change your mind, you can call us on {clinic_.phone}."
            )
            return reset
        config = BookingConfig.from_env()
        service = HandoffService(clinic_, settings().database_url, config, clock=current_time)
        try:
            outcome = await asyncio.to_thread(
                service.request,
                tracker.sender_id,
                _transcript(tracker),
                _known_contact(tracker),
                _intent(tracker) or None,
            )
        except SQLAlchemyError:
            logger.exception("could not record a hand-off request")
            dispatcher.utter_message(
                text=f"I'm sorry — I couldn't reach our team just now. Please call us on "
                f"{clinic_.phone}."
            )
            return reset
        dispatcher.utter_message(text=outcome.message)
        _deliver_soon(config)
        if outcome.clinic_open:
            return [*reset, ConversationPaused()]
        return reset
