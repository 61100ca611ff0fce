"""Answering from the curated FAQ, with safety advice first where the client needs it.

Every question in the message gets its answer, and follow-ups are read against the last topic
(`bot.clinic.questions`); the slots `last_topic` and `last_topic_entities` remember it. The
forms answer the questions asked in the middle of a booking with the same function.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.context import (
    buttons,
    clinic,
    latest_assessment,
    latest_entities,
    mark_advised,
    not_yet_advised,
    remember,
    settings,
)
from bot.clinic import advice, faq
from bot.clinic.booking import answers
from bot.clinic.questions import FOLLOW_UP, UNCLEAR_FOLLOW_UP, Topic, questions_asked
from bot.clinic.topics import FAQ_TOPICS, label
from bot.clinic.triage import Assessment, Context, get_lexicon

MAX_SUGGESTIONS = 3
LAST_TOPIC = "last_topic"
LAST_TOPIC_ENTITIES = "last_topic_entities"

logger = logging.getLogger(__name__)


async def answer_question(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    intent: str,
    entities: dict[str, list[str]] | None = None,
) -> list[EventType]:
    """The FAQ answers to the latest message read as `intent`, with any health advice first.

    Shared by the FAQ action, the fallback (with the classifier's guess) and the forms, which
    answer the questions the rules left to them.
    """
    wanted = entities if entities is not None else latest_entities(tracker)
    assessment = latest_assessment(tracker)
    events: list[EventType] = list(remember(tracker, assessment.concerns))
    # Postpone and consent concerns (emergency and doctor-first ones never reach the FAQ):
    # the advice first, then the answer; once, however often the client mentions them. The
    # inflammation answer already is that advice.
    concerns = not_yet_advised(tracker, assessment.concerns)
    if intent == "ask_inflammation":
        concerns = [f for f in concerns if f.advice != "inflammation"]
    guidance = advice.concern_reply(clinic(), concerns)
    if guidance:
        dispatcher.utter_message(text=guidance)
    # A general question about a health topic ("does massage help with fever?") is answered
    # from that topic's entry, which is that topic's advice (concerns are marked advised by
    # being remembered; a general question's topic is marked here).
    topic = health_topic(assessment)
    if topic is not None:
        concept, intent, wanted = topic
        events += mark_advised(tracker, [concept])
    booked = _booking_price(tracker, intent)
    if booked:
        dispatcher.utter_message(text=booked)
        return events

    database_url = settings().database_url
    last = Topic.from_slots(tracker.get_slot(LAST_TOPIC), tracker.get_slot(LAST_TOPIC_ENTITIES))
    text = tracker.latest_message.get("text") or ""
    questions = questions_asked(intent, wanted, text, last)
    try:
        found = await asyncio.to_thread(faq.answers_for, database_url, questions, clinic())
        if not found:
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

    if not found and intent == FOLLOW_UP:
        # "what about it?" with no answer before it to follow: outside a form, the likely topics
        # as buttons, as for any unclear message (the classifier can be sure it's a follow-up).
        ranking = tracker.latest_message.get("intent_ranking") or []
        in_form = (tracker.active_loop or {}).get("name")
        offered = likely_topics(ranking) if last is None and not in_form else None
        dispatcher.utter_message(text=UNCLEAR_FOLLOW_UP, buttons=offered)
        return events
    if not found:
        dispatcher.utter_message(
            text=advice.no_answer(clinic()),
            buttons=[{"title": "Talk to a person", "payload": "/human_handoff"}],
        )
        return events
    # The follow-up buttons never offer what the client has just read ("Upper back" under the
    # lower back, after "what about lower down?" followed the upper back).
    just_read = _payloads(last)
    for position, answer in enumerate(found, start=1):
        # Buttons only under the last answer, so they sit where the client reads on.
        offered = [b for b in answer.buttons if b.payload not in just_read]
        shown = buttons(offered) if position == len(found) else []
        dispatcher.utter_message(text=answer.text, buttons=shown)
    first = found[0]
    remembered = {first.entity: first.value} if first.entity and first.value else {}
    events.append(SlotSet(LAST_TOPIC, first.intent))
    events.append(SlotSet(LAST_TOPIC_ENTITIES, remembered))
    return events


def likely_topics(ranking: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Buttons for an unclear message: the classifier's likeliest FAQ topics (the common ones
    when it has fewer), then "Something else"."""
    likely = [r["name"] for r in ranking if r.get("name") in FAQ_TOPICS][:MAX_SUGGESTIONS]
    for intent in ("ask_benefits", "ask_back_pain", "schedule_appointment"):
        if len(likely) >= MAX_SUGGESTIONS:
            break
        if intent not in likely:
            likely.append(intent)
    options = [{"title": label(intent), "payload": f"/{intent}"} for intent in likely]
    options.append({"title": "Something else", "payload": "/out_of_scope"})
    return options


def _payloads(topic: Topic | None) -> set[str]:
    """The payloads of the buttons that would ask `topic` again."""
    if topic is None:
        return set()
    if not topic.entities:
        return {faq.payload(topic.intent)}
    return {faq.payload(topic.intent, entity, value) for entity, value in topic.entities.items()}


def health_topic(assessment: Assessment) -> tuple[str, str, dict[str, list[str]]] | None:
    """A general question about a health topic with its own FAQ entry ("is massage safe when
    you're pregnant?"): the concept, and the intent and entities that answer it."""
    for finding in assessment.findings:
        topic = get_lexicon().concept(finding.concept).faq
        if finding.context is Context.HYPOTHETICAL and topic is not None:
            return finding.concept, topic.intent, {topic.entity: [topic.value]}
    return None


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
