"""Answering from the curated FAQ, with safety advice first where the client needs it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.context import buttons, clinic, latest_entities, latest_triage, merged, settings
from bot.clinic import advice, faq

logger = logging.getLogger(__name__)


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        events: list[EventType] = []
        caution_signs = latest_triage(tracker).get("caution_signs") or []
        if caution_signs:
            events.append(SlotSet("caution_signs", merged(tracker, "caution_signs", caution_signs)))
            if intent != "ask_inflammation":  # that answer already gives this advice
                dispatcher.utter_message(text=advice.caution(caution_signs))

        database_url = settings().database_url
        try:
            answer = await asyncio.to_thread(
                faq.answer_for, database_url, intent, latest_entities(tracker), clinic()
            )
            if answer is None:
                await asyncio.to_thread(
                    faq.log_unanswered,
                    database_url,
                    tracker.latest_message.get("text") or "",
                    "no_entry",
                    intent,
                    (tracker.latest_message.get("intent") or {}).get("confidence"),
                    tracker.sender_id,
                )
        except SQLAlchemyError:
            logger.exception("FAQ database unavailable")
            dispatcher.utter_message(text=advice.unavailable(clinic()))
            return events

        if answer is None:
            dispatcher.utter_message(
                text=advice.no_answer(clinic()),
                buttons=[{"title": "Talk to a person", "payload": "/human_handoff"}],
            )
        else:
            dispatcher.utter_message(text=answer.text, buttons=buttons(answer.buttons))
        return events
