"""Answering from the curated FAQ, with safety advice first where the client needs it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.context import buttons, clinic, latest_assessment, latest_entities, remember, settings
from bot.clinic import advice, faq
from bot.clinic.triage import Context, get_lexicon

logger = logging.getLogger(__name__)


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
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
        try:
            answer = await asyncio.to_thread(
                faq.answer_for, database_url, intent, entities, clinic()
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
