"""A message in another language: say in that language that we reply in English, with the
clinic's phone number and an offer of a person."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.context import clinic, settings
from bot.clinic import faq, language

logger = logging.getLogger(__name__)


class ActionReplyInLanguage(Action):
    def name(self) -> str:
        return "action_reply_in_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        code = str(tracker.latest_message.get("language") or language.ENGLISH)
        reply = language.reply_for(code, clinic().phone)
        dispatcher.utter_message(
            text=reply.text, buttons=[{"title": reply.button, "payload": "/human_handoff"}]
        )
        try:
            # Staff see which languages clients write in, to decide what to offer.
            await asyncio.to_thread(
                faq.log_unanswered,
                settings().database_url,
                tracker.latest_message.get("text") or "",
                f"language:{code}",
                "other_language",
                None,
                tracker.sender_id,
            )
        except SQLAlchemyError:
            logger.exception("Could not log a message in another language")
        return []
