"""Health concerns: medical guidance before anything else, and a reminder when booking."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.context import (
    clinic,
    latest_assessment,
    not_yet_advised,
    remember,
    remembered,
)
from actions.faq import answer_question
from actions.forms import FALLBACK, RED_FLAG, classified, intent_name
from bot.clinic import advice
from bot.clinic.questions import FOLLOW_UP
from bot.clinic.topics import FAQ_TOPICS

# A request the client makes in the same message as a concern they were advised about already
# ("my midwife says it's fine, can I book for Friday?"): the form that carries it out.
FORMS = {
    "schedule_appointment": "booking_form",
    "cancel_appointment": "cancel_booking_form",
    "reschedule_appointment": "reschedule_booking_form",
    "human_handoff": "handoff_form",
}


class ActionRedFlagAdvice(Action):
    """The reply for the most urgent concern in the message; emergency and doctor-first replies
    carry no booking prompt. The concerns are remembered for the rest of the conversation.

    A concern whose advice the client has had already ("ok, I'll check with my midwife first")
    is not advised again word for word: the message gets what it asked for as the classifiers
    read it, or a short acknowledgement. Emergencies are always said in full.
    """

    def name(self) -> str:
        return "action_red_flag_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        clinic_ = clinic()
        concerns = latest_assessment(tracker).concerns
        events: list[EventType] = [*remember(tracker, concerns)]
        fresh = not_yet_advised(tracker, concerns)
        if concerns and not fresh and not advice.stops_booking(concerns):
            return events + await _carry_on(dispatcher, tracker)
        said = concerns if advice.stops_booking(concerns) else fresh
        # The classifier can hear a warning sign the triage could not name: guidance all the same.
        text = advice.concern_reply(clinic_, said) or advice.medical_guidance(clinic_)
        dispatcher.utter_message(text=text)
        return events


async def _carry_on(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The message without the concern already advised: its question answered, its request
    started (the booking summary reminds the client before they confirm), or an
    acknowledgement."""
    read = classified(tracker)
    intent = intent_name(read)
    if intent in FORMS:
        return [FollowupAction(FORMS[intent])]
    if intent != FALLBACK and (intent in FAQ_TOPICS or intent == FOLLOW_UP):
        return await answer_question(dispatcher, read, intent)
    dispatcher.utter_message(text=advice.acknowledged())
    return []


class ActionCheckBookingSafety(Action):
    """Before a booking starts, repeat the advice for any concern raised in this conversation."""

    def name(self) -> str:
        return "action_check_booking_safety"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        concerns = latest_assessment(tracker).concerns
        reminder = advice.before_booking(clinic(), remembered(tracker, concerns))
        if reminder:
            dispatcher.utter_message(text=reminder)
        return [*remember(tracker, concerns)]


def ends_the_form(tracker: Tracker) -> bool:
    """An emergency in a form answer, or a warning sign only the classifier heard: the form
    leaves the message to the rules, which end it with urgent guidance. Any other concern is
    advised in passing (`advise_in_form`) and the form goes on."""
    concerns = latest_assessment(tracker).concerns
    if advice.stops_booking(concerns):
        return True
    return intent_name(tracker) == RED_FLAG and not concerns


def advise_in_form(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The concerns in a form answer: advice for those not advised yet in this conversation,
    and every one remembered (which also marks it advised) for the reminder before confirming
    and for the booking record."""
    concerns = latest_assessment(tracker).concerns
    fresh = not_yet_advised(tracker, concerns)
    guidance = advice.concern_in_form(clinic(), fresh)
    if guidance:
        dispatcher.utter_message(text=guidance)
    return remember(tracker, concerns)
