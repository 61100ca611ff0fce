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

from actions.context import buttons, clinic, latest_assessment, latest_entities, remember, settings
from bot.clinic import advice, faq
from bot.clinic.questions import FOLLOW_UP, UNCLEAR_FOLLOW_UP, Topic, questions_asked
from bot.clinic.triage import Context, get_lexicon

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
        entities = latest_entities(tracker)
        assessment = latest_assessment(tracker)
        events: list[EventType] = list(remember(tracker, assessment.concerns))
        # Postpone and consent concerns (emergency and doctor-first ones never reach the FAQ):
        # the advice first, then the answer. The inflammation answer already is that advice.
        concerns = list(assessment.concerns)
        if intent == "ask_inflammation":
            concerns = [f for f in concerns if f.advice != "inflammation"]
        guidance = advice.concern_reply(clinic(), concerns)
        if guidance:
            dispatcher.utter_message(text=guidance)
        # A general question about a health topic ("does massage help with fever?") is answered
        # from that topic's entry.
        for finding in assessment.findings:
            topic = get_lexicon().concept(finding.concept).faq
            if finding.context is Context.HYPOTHETICAL and topic is not None:
                intent, entities = topic.intent, {topic.entity: [topic.value]}
                break

        database_url = settings().database_url
        last = Topic.from_slots(tracker.get_slot(LAST_TOPIC), tracker.get_slot(LAST_TOPIC_ENTITIES))
        text = tracker.latest_message.get("text") or ""
        questions = questions_asked(intent, entities, text, last)
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
