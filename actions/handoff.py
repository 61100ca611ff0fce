"""Talking to a person: record the request, tell staff and, while the clinic is open, pause."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import context
from actions.context import clinic, settings
from actions.forms import (
    BOOKING_SLOTS,
    MANAGE_SLOTS,
    REQUESTED_SLOT,
    intent_name,
    latest_text,
    wants_to_stop,
)
from bot.clinic.booking import answers
from bot.clinic.booking.config import BookingConfig
from bot.clinic.booking.contact import validate_contact
from bot.clinic.handoff import HandoffService, clinic_is_open

logger = logging.getLogger(__name__)

TRANSCRIPT_MESSAGES = 20
# "no thanks, I'll ring tomorrow": they'd rather call us than give a number.
_DECLINED = re.compile(
    r"^\W*(?:no|nope|nah|rather\s+not)\b|\bi'?ll\s+(?:ring|call|phone)\b", re.IGNORECASE
)


def _transcript(tracker: Tracker) -> str:
    lines = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            lines.append(f"client: {event['text']}")
        elif event.get("event") == "bot" and event.get("text"):
            lines.append(f"bot: {event['text']}")
    return "\n".join(lines[-TRANSCRIPT_MESSAGES:])


def _known_contact(tracker: Tracker) -> str | None:
    for slot in ("handoff_contact", "client_contact", "manage_contact"):
        value = tracker.get_slot(slot)
        if value:
            return str(value)
    return None


def _declines(tracker: Tracker) -> bool:
    text = latest_text(tracker)
    return wants_to_stop(tracker) or (
        bool(_DECLINED.search(text)) and not any(ch.isdigit() for ch in text)
    )


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
        # The form's validation may not have run on a bare refusal (no slot was extracted from
        # it), so the refusal is also read here, from the answer to the number question.
        declined = tracker.get_slot("handoff_declined") or (
            not _known_contact(tracker) and _declines(tracker)
        )
        if declined:
            return []  # "no thanks, I'll ring tomorrow"
        # Contacts the booking forms checked; the hand-off's own answer is checked below (its
        # raw text is in the slot until then, so it can't count as known yet).
        known = tracker.get_slot("client_contact") or tracker.get_slot("manage_contact")
        if clinic_is_open(clinic(), context.current_time()) or known:
            return []
        return ["handoff_contact"]

    async def validate_handoff_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        # The whole answer first: the entity extractor keeps "07400" of "07400 444555".
        checked = answers.contact_answer(text, clinic().region)
        if checked.ok:
            return {"handoff_contact": checked.value}
        if intent_name(tracker) == "deny" or _declines(tracker):
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
        # The form's validation may not have run on a bare refusal (no slot was extracted from
        # it), so the refusal is also read here, from the answer to the number question.
        declined = tracker.get_slot("handoff_declined") or (
            not _known_contact(tracker) and _declines(tracker)
        )
        if declined:
            dispatcher.utter_message(
                text=f"No problem. If you change your mind, you can call us on {clinic_.phone}."
            )
            return reset
        config = BookingConfig.from_env()
        service = HandoffService(
            clinic_, settings().database_url, config, clock=context.current_time
        )
        try:
            outcome = await asyncio.to_thread(
                service.request,
                tracker.sender_id,
                _transcript(tracker),
                _known_contact(tracker),
                intent_name(tracker) or None,
            )
        except SQLAlchemyError:
            logger.exception("could not record a hand-off request")
            dispatcher.utter_message(
                text=f"I'm sorry — I couldn't reach our team just now. Please call us on "
                f"{clinic_.phone}."
            )
            return reset
        dispatcher.utter_message(text=outcome.message)
        context.deliver_soon(config)
        if outcome.clinic_open:
            return [*reset, ConversationPaused()]
        return reset
