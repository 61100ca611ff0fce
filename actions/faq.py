"""Answering from the curated FAQ, with safety advice first where the client needs it.

Every question in the message gets its answer, and follow-ups are read against the last topic
(`bot.clinic.questions`); the slots `last_topic` and `last_topic_entities` remember it.
"""

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
from bot.clinic.questions import FOLLOW_UP, UNCLEAR_FOLLOW_UP, Topic, questions_asked

LAST_TOPIC = "last_topic"
LAST_TOPIC_ENTITIES = "last_topic_entities"

logger = logging.getLogger(__name__)


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        return await self.answer(dispatcher, tracker, intent)

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, intent: str
    ) -> list[EventType]:
        """Answer the latest message as `intent` (the fallback passes the classifier's guess)."""
        events: list[EventType] = []
        caution_signs = latest_triage(tracker).get("caution_signs") or []
        if caution_signs:
            events.append(SlotSet("caution_signs", merged(tracker, "caution_signs", caution_signs)))
            if intent != "ask_inflammation":  # that answer already gives this advice
                dispatcher.utter_message(text=advice.caution(caution_signs))

        database_url = settings().database_url
        last = Topic.from_slots(tracker.get_slot(LAST_TOPIC), tracker.get_slot(LAST_TOPIC_ENTITIES))
        text = tracker.latest_message.get("text") or ""
        questions = questions_asked(intent, latest_entities(tracker), text, last)
        try:
            answers = await asyncio.to_thread(faq.answers_for, database_url, questions, clinic())
            if not answers:
                await asyncio.to_thread(
                    faq.log_unanswered,
                    database_url,
                    text,
                    "no_entry",
                    intent,
                    (tracker.latest_message.get("intent") or {}).get("confidence"),
                    tracker.sender_id,
                )
        except SQLAlchemyError:
            logger.exception("FAQ database unavailable")
            dispatcher.utter_message(text=advice.unavailable(clinic()))
            return events

        if not answers and intent == FOLLOW_UP:
            dispatcher.utter_message(text=UNCLEAR_FOLLOW_UP)
            return events
        if not answers:
            dispatcher.utter_message(
                text=advice.no_answer(clinic()),
                buttons=[{"title": "Talk to a person", "payload": "/human_handoff"}],
            )
            return events
        for position, answer in enumerate(answers, start=1):
            # Buttons only under the last answer, so they sit where the client reads on.
            shown = buttons(answer.buttons) if position == len(answers) else []
            dispatcher.utter_message(text=answer.text, buttons=shown)
        first = answers[0]
        remembered = {first.entity: first.value} if first.entity and first.value else {}
        events.append(SlotSet(LAST_TOPIC, first.intent))
        events.append(SlotSet(LAST_TOPIC_ENTITIES, remembered))
        return events
