"""Custom actions with Tracker + CollectingDispatcher against a temporary database."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.fallback import ActionAskAffirmation, ActionGiveUp
from actions.faq import ActionAnswerFaq
from actions.safety import ActionCheckBookingSafety, ActionRedFlagAdvice
from bot.clinic.db import session_scope
from bot.clinic.facts import Clinic
from bot.clinic.models import UnansweredQuestion
from bot.clinic.triage import assess
from tests.support.trackers import make_tracker

pytestmark = pytest.mark.usefixtures("bot_env")


def unanswered(url: str) -> list[UnansweredQuestion]:
    with session_scope(url) as session:
        return list(session.execute(select(UnansweredQuestion)).scalars())


async def test_answers_the_specific_entry(
    dispatcher: CollectingDispatcher, sample_clinic: Clinic
) -> None:
    tracker = make_tracker(
        "ask_benefits",
        "does it help with circulation",
        entities=[{"entity": "benefit", "value": "circulation"}],
    )
    events = await ActionAnswerFaq().run(dispatcher, tracker, {})
    # Only the topic is remembered (for follow-ups): no caution signs here.
    assert events == [
        SlotSet("last_topic", "ask_benefits"),
        SlotSet("last_topic_entities", {"benefit": "circulation"}),
    ]
    [message] = dispatcher.messages
    assert "circulation" in message["text"].lower() or "blood" in message["text"].lower()
    assert sample_clinic.disclaimer in message["text"]
    assert 1 <= len(message["buttons"]) <= 3


async def test_general_entry_when_no_sub_topic(dispatcher: CollectingDispatcher) -> None:
    await ActionAnswerFaq().run(dispatcher, make_tracker("ask_treatment_plan", "how many"), {})
    text = dispatcher.messages[0]["text"].lower()
    assert "four" in text and "six weeks" in text


async def test_postpone_concern_gives_advice_first_and_is_remembered(
    dispatcher: CollectingDispatcher,
) -> None:
    text = "my lower back is swollen, will massage help"
    tracker = make_tracker("ask_back_pain", text, triage=assess(text).as_dict())
    events = await ActionAnswerFaq().run(dispatcher, tracker, {})
    first = dispatcher.messages[0]["text"]
    assert "You mentioned swelling" in first and "wait until it has settled" in first
    assert len(dispatcher.messages) == 2
    [remembered] = [e for e in events if e["name"] == "health_concerns"]
    assert [c["concept"] for c in remembered["value"]] == ["swelling"]


async def test_general_question_is_answered_from_its_health_topic(
    dispatcher: CollectingDispatcher,
) -> None:
    text = "does massage help with fever?"
    tracker = make_tracker("ask_benefits", text, triage=assess(text).as_dict())
    events = await ActionAnswerFaq().run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert "while you're ill" in message["text"] or "while you're unwell" in message["text"]
    # A question is not a concern: only the topic is remembered, for follow-ups.
    assert "health_concerns" not in {event["name"] for event in events}


async def test_no_entry_is_logged_for_staff(dispatcher: CollectingDispatcher, bot_env: str) -> None:
    tracker = make_tracker("ask_weather", "what's the weather")  # an intent with no FAQ entry
    await ActionAnswerFaq().run(dispatcher, tracker, {})
    assert "passed your question to our team" in dispatcher.messages[0]["text"]
    [logged] = unanswered(bot_env)
    assert (logged.text, logged.reason, logged.intent) == (
        "what's the weather",
        "no_entry",
        "ask_weather",
    )


async def test_database_down_gives_apology_with_phone(
    dispatcher: CollectingDispatcher,
    monkeypatch: pytest.MonkeyPatch,
    sample_clinic: Clinic,
    tmp_path: Path,
) -> None:
    # A database URL that cannot be opened: a folder where the file should be.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/missing-dir/x/../")
    await ActionAnswerFaq().run(dispatcher, make_tracker("ask_benefits", "benefits?"), {})
    [message] = dispatcher.messages
    assert sample_clinic.phone in message["text"]
    assert "technical problem" in message["text"]


async def test_database_down_postgres_unreachable(
    dispatcher: CollectingDispatcher,
    monkeypatch: pytest.MonkeyPatch,
    sample_clinic: Clinic,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    await ActionAnswerFaq().run(dispatcher, make_tracker("ask_benefits", "benefits?"), {})
    assert sample_clinic.phone in dispatcher.messages[0]["text"]


async def test_emergency_advice_names_the_sign_and_has_no_booking_prompt(
    dispatcher: CollectingDispatcher, sample_clinic: Clinic
) -> None:
    text = "my legs are numb"
    tracker = make_tracker("red_flag", text, triage=assess(text).as_dict())
    events = await ActionRedFlagAdvice().run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert "numbness, tingling or weakness in your legs" in message["text"]
    assert sample_clinic.emergency_number in message["text"]
    assert sample_clinic.urgent_advice in message["text"]
    assert "book" not in message["text"].lower()
    assert not message["buttons"]
    [remembered] = events
    assert remembered["name"] == "health_concerns"
    assert [c["concept"] for c in remembered["value"]] == ["leg_weakness_numbness"]


async def test_doctor_first_advice_says_who_and_whether_pregnancy_massage_is_offered(
    dispatcher: CollectingDispatcher, sample_clinic: Clinic
) -> None:
    text = "I'm 18 weeks pregnant, can I come in on Friday?"
    tracker = make_tracker("red_flag", text, triage=assess(text).as_dict())
    await ActionRedFlagAdvice().run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert "You mentioned that you're pregnant" in message["text"]
    assert "midwife or GP" in message["text"]
    assert "doesn't offer pregnancy massage" in message["text"]  # the sample clinic doesn't
    assert sample_clinic.phone in message["text"]


async def test_classifier_red_flag_without_a_named_concern_still_gets_guidance(
    dispatcher: CollectingDispatcher, sample_clinic: Clinic
) -> None:
    tracker = make_tracker("red_flag", "something feels very wrong", triage=None)
    events = await ActionRedFlagAdvice().run(dispatcher, tracker, {})
    assert sample_clinic.urgent_advice in dispatcher.messages[0]["text"]
    assert events == []


async def test_booking_after_inflammation_repeats_the_advice(
    dispatcher: CollectingDispatcher,
) -> None:
    concerns = [f.as_dict() for f in assess("my shoulder is inflamed").concerns]
    tracker = make_tracker(
        "schedule_appointment", "book me in", slots={"health_concerns": concerns}
    )
    await ActionCheckBookingSafety().run(dispatcher, tracker, {})
    text = dispatcher.messages[0]["text"]
    assert "Before we book" in text and "inflammation" in text and "settled" in text


async def test_booking_after_an_emergency_sign_reminds_to_see_a_doctor(
    dispatcher: CollectingDispatcher,
) -> None:
    concerns = [f.as_dict() for f in assess("I've got a fever and my back aches").concerns]
    tracker = make_tracker("schedule_appointment", "book", slots={"health_concerns": concerns})
    await ActionCheckBookingSafety().run(dispatcher, tracker, {})
    text = dispatcher.messages[0]["text"]
    assert "a fever or chills together with back pain" in text
    assert "doctor" in text and "can't book" in text


async def test_booking_for_a_child_says_what_the_clinic_offers_under_16s(
    dispatcher: CollectingDispatcher,
) -> None:
    text = "can I book a massage for my son, he's 13"
    tracker = make_tracker("schedule_appointment", text, triage=assess(text).as_dict())
    events = await ActionCheckBookingSafety().run(dispatcher, tracker, {})
    message = dispatcher.messages[0]["text"]
    assert "parent" in message and "aged 12 to 15" in message
    assert [c["concept"] for c in events[0]["value"]] == ["under_16"]


async def test_booking_without_warnings_says_nothing(dispatcher: CollectingDispatcher) -> None:
    events = await ActionCheckBookingSafety().run(
        dispatcher, make_tracker("schedule_appointment"), {}
    )
    assert dispatcher.messages == [] and events == []


async def test_first_fallback_offers_likely_topics_with_labels(
    dispatcher: CollectingDispatcher, bot_env: str
) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "ask_treatment_plan", "confidence": 0.4},
        {"name": "greet", "confidence": 0.3},
        {"name": "ask_inflammation", "confidence": 0.2},
    ]
    tracker = make_tracker("nlu_fallback", "hmm sessions swelling?", ranking=ranking)
    await ActionAskAffirmation().run(dispatcher, tracker, {})
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["payload"] for b in buttons[:2]] == ["/ask_treatment_plan", "/ask_inflammation"]
    assert buttons[0]["title"] == "How many sessions I need"
    assert buttons[-1]["payload"] == "/out_of_scope"
    assert len(buttons) == 4
    assert unanswered(bot_env)[0].reason == "unclear"


async def test_second_fallback_offers_a_person_and_phone(
    dispatcher: CollectingDispatcher,
    sample_clinic: Clinic,
    bot_env: str,
) -> None:
    events = await ActionGiveUp().run(dispatcher, make_tracker("nlu_fallback", "blorp"), {})
    message = dispatcher.messages[0]
    assert sample_clinic.phone in message["text"]
    assert message["buttons"] == [{"title": "Talk to a person", "payload": "/human_handoff"}]
    assert events == [UserUtteranceReverted()]
    assert unanswered(bot_env)[0].reason == "fallback"
