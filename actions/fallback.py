"""The two-stage fallback: offer the likely topics, then ask to rephrase, then offer a person."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.context import clinic, latest_entities, settings
from actions.faq import LAST_TOPIC, LAST_TOPIC_ENTITIES, answer_question, likely_topics
from bot.clinic import advice, faq
from bot.clinic.questions import Topic, intent_when_unsure
from bot.clinic.topics import label


def _log(tracker: Tracker, reason: str) -> None:
    message = tracker.latest_message
    intent = message.get("intent") or {}
    ranking = message.get("intent_ranking") or [{}]
    try:
        faq.log_unanswered(
            settings().database_url,
            message.get("text") or "",
            reason,
            # The classifier's best guess, not "nlu_fallback": that is what staff want to see.
            ranking[0].get("name") or intent.get("name"),
            ranking[0].get("confidence"),
            tracker.sender_id,
        )
    except SQLAlchemyError:
        logging.getLogger(__name__).exception("Could not log an unanswered question")


class ActionAskAffirmation(Action):
    """First miss: the likeliest topics as buttons with readable labels."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        text = tracker.latest_message.get("text") or ""
        found = tracker.latest_message.get("entities") or []
        sure = intent_when_unsure(
            [(r.get("name") or "", r.get("confidence") or 0.0) for r in ranking],
            text,
            latest_entities(tracker),
            Topic.from_slots(tracker.get_slot(LAST_TOPIC), tracker.get_slot(LAST_TOPIC_ENTITIES)),
            names=[text[e["start"] : e["end"]] for e in found if "start" in e and "end" in e],
        )
        if sure is not None:
            # A clinic detail is asked for sure ("... and how much is it"), or a treatment after
            # a price answer ("and the sports one?"): answer, don't ask.
            return await answer_question(dispatcher, tracker, sure)
        await asyncio.to_thread(_log, tracker, "unclear")
        dispatcher.utter_message(
            text="Sorry, I'm not sure I understood. Did you mean one of these?",
            buttons=likely_topics(ranking),
        )
        return []


class ActionGiveUp(Action):
    """Second miss: a person and the clinic's phone number rather than a third guess."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        await asyncio.to_thread(_log, tracker, "fallback")
        dispatcher.utter_message(
            text=advice.gave_up(clinic()),
            buttons=[{"title": label("human_handoff"), "payload": "/human_handoff"}],
        )
        return [UserUtteranceReverted()]
