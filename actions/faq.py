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
from bot.clinic.booking import answers

logger = logging.getLogger(__name__)


async def answer_question(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    intent: str,
    entities: dict[str, list[str]] | None = None,
) -> list[EventType]:
    """The FAQ answer to the latest message read as `intent`, with any caution advice first.

    Shared by the FAQ action and the forms, which answer the questions the rules left to them.
    """
    events: list[EventType] = []
    caution_signs = latest_triage(tracker).get("caution_signs") or []
    if caution_signs:
        events.append(SlotSet("caution_signs", merged(tracker, "caution_signs", caution_signs)))
        if intent != "ask_inflammation":  # that answer already gives this advice
            dispatcher.utter_message(text=advice.caution(caution_signs))
    clinic_ = clinic()
    booked = _booking_price(tracker, intent)
    if booked:
        dispatcher.utter_message(text=booked)
        return events

    database_url = settings().database_url
    wanted = entities if entities is not None else latest_entities(tracker)
    try:
        answer = await asyncio.to_thread(faq.answer_for, database_url, intent, wanted, clinic_)
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
        dispatcher.utter_message(text=advice.unavailable(clinic_))
        return events

    if answer is None:
        dispatcher.utter_message(
            text=advice.no_answer(clinic_),
            buttons=[{"title": "Talk to a person", "payload": "/human_handoff"}],
        )
    else:
        dispatcher.utter_message(text=answer.text, buttons=buttons(answer.buttons))
    return events


def _booking_price(tracker: Tracker, intent: str) -> str | None:
    """ "How much is it?" in the middle of a booking is about the treatment being booked."""
    if intent != "ask_clinic_info" or not answers.asks_price(tracker.latest_message.get("text")):
        return None
    clinic_ = clinic()
    service = clinic_.service(str(tracker.get_slot("booking_service") or ""))
    if service is None:
        return None
    text = f"The {answers.service_title(service)} is {answers.price(clinic_, service)}."
    if answers.asks_parking(tracker.latest_message.get("text")):
        text += f" Parking: {clinic_.parking}"
    return text


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        return await answer_question(dispatcher, tracker, intent)
