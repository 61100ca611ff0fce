"""Health concerns: medical guidance before anything else, and a reminder when booking."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.context import clinic, latest_assessment, remember, remembered
from bot.clinic import advice


class ActionRedFlagAdvice(Action):
    """The reply for the most urgent concern in the message; emergency and doctor-first replies
    carry no booking prompt. The concerns are remembered for the rest of the conversation."""

    def name(self) -> str:
        return "action_red_flag_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        clinic_ = clinic()
        concerns = latest_assessment(tracker).concerns
        # The classifier can hear a warning sign the triage could not name: guidance all the same.
        text = advice.concern_reply(clinic_, concerns) or advice.medical_guidance(clinic_)
        dispatcher.utter_message(text=text)
        return [*remember(tracker, concerns)]


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
