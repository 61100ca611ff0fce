"""Red flags and caution signs: medical guidance before anything else."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import clinic, latest_triage, merged
from bot.clinic import advice


class ActionRedFlagAdvice(Action):
    """Urgent guidance, with no booking prompt in the same reply."""

    def name(self) -> str:
        return "action_red_flag_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        signs = latest_triage(tracker).get("red_flags") or []
        dispatcher.utter_message(text=advice.red_flag(clinic(), signs))
        return [SlotSet("red_flag_signs", merged(tracker, "red_flag_signs", signs or ["unknown"]))]


class ActionCheckBookingSafety(Action):
    """Before a booking starts, repeat any warning the client was given in this conversation."""

    def name(self) -> str:
        return "action_check_booking_safety"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        red_flags = [s for s in tracker.get_slot("red_flag_signs") or [] if s != "unknown"]
        if tracker.get_slot("red_flag_signs"):
            dispatcher.utter_message(text=advice.red_flag_before_booking(clinic(), red_flags))
            return []
        caution_signs = merged(
            tracker, "caution_signs", latest_triage(tracker).get("caution_signs") or []
        )
        if not caution_signs:
            return []
        dispatcher.utter_message(text=advice.caution_before_booking(caution_signs))
        return [SlotSet("caution_signs", caution_signs)]
