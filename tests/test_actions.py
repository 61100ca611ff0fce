"""Custom actions with Tracker + CollectingDispatcher against a temporary database."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.fallback import ActionAskAffirmation, ActionGiveUp
from actions.faq import ActionAnswerFaq
from actions.safety import ActionCheckBookingSafety, ActionRedFlagAdvice
from bot.clinic.db import session_scope
from bot.clinic.models import UnansweredQuestion
from tests.conftest import make_tracker

pytestmark = pytest.mark.usefixtures("bot_env")


def unanswered(url: str) -> list[UnansweredQuestion]:
    with session_scope(url) as session:
        return list(session.execute(select(UnansweredQuestion)).scalars())


async def test_answers_the_specific_entry(dispatcher: CollectingDispatcher, clinic) -> None:  # type: ignore[no-untyped-def]
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
    assert clinic.disclaimer in message["text"]
    assert 1 <= len(message["buttons"]) <= 3


async def test_general_entry_when_no_sub_topic(dispatcher: CollectingDispatcher) -> None:
    await ActionAnswerFaq().run(dispatcher, make_tracker("ask_treatment_plan", "how many"), {})
    text = dispatcher.messages[0]["text"].lower()
    assert "four" in text and "six weeks" in text


async def test_caution_sign_gives_advice_first_and_is_remembered(
    dispatcher: CollectingDispatcher,
) -> None:
    tracker = make_tracker(
        "ask_back_pain",
        "my lower back is swollen, will massage help",
        triage={"level": "caution", "red_flags": [], "caution_signs": ["swelling"]},
    )
    events = await ActionAnswerFaq().run(dispatcher, tracker, {})
    assert (
        "put off" in dispatcher.messages[0]["text"] and "doctor" in dispatcher.messages[0]["text"]
    )
    assert len(dispatcher.messages) == 2
    assert SlotSet("caution_signs", ["swelling"]) in events


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
    clinic,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    # A database URL that cannot be opened: a folder where the file should be.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/missing-dir/x/../")
    await ActionAnswerFaq().run(dispatcher, make_tracker("ask_benefits", "benefits?"), {})
    [message] = dispatcher.messages
    assert clinic.phone in message["text"]
    assert "technical problem" in message["text"]


async def test_database_down_postgres_unreachable(
    dispatcher: CollectingDispatcher,
    monkeypatch: pytest.MonkeyPatch,
    clinic,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    await ActionAnswerFaq().run(dispatcher, make_tracker("ask_benefits", "benefits?"), {})
    assert clinic.phone in dispatcher.messages[0]["text"]


async def test_red_flag_advice_has_no_booking_prompt(
    dispatcher: CollectingDispatcher, clinic
) -> None:  # type: ignore[no-untyped-def]
    tracker = make_tracker(
        "red_flag",
        "my legs are numb",
        triage={
            "level": "red_flag",
            "red_flags": ["leg_numbness_or_weakness"],
            "caution_signs": [],
        },
    )
    events = await ActionRedFlagAdvice().run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert "numbness or weakness in your legs" in message["text"]
    assert clinic.urgent_care in message["text"]
    assert "book" not in message["text"].lower()
    assert not message["buttons"]
    assert events == [SlotSet("red_flag_signs", ["leg_numbness_or_weakness"])]


async def test_booking_after_inflammation_repeats_the_advice(
    dispatcher: CollectingDispatcher,
) -> None:
    tracker = make_tracker(
        "schedule_appointment", "book me in", slots={"caution_signs": ["inflammation"]}
    )
    await ActionCheckBookingSafety().run(dispatcher, tracker, {})
    text = dispatcher.messages[0]["text"]
    assert ("inflammation" in text and "doctor" in text and "later" in text) or "settled" in text


async def test_booking_after_red_flag_reminds_to_see_doctor(
    dispatcher: CollectingDispatcher,
) -> None:
    tracker = make_tracker("schedule_appointment", "book", slots={"red_flag_signs": ["fever"]})
    await ActionCheckBookingSafety().run(dispatcher, tracker, {})
    assert "a fever" in dispatcher.messages[0]["text"]
    assert "doctor" in dispatcher.messages[0]["text"]


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
    clinic,
    bot_env: str,  # type: ignore[no-untyped-def]
) -> None:
    events = await ActionGiveUp().run(dispatcher, make_tracker("nlu_fallback", "blorp"), {})
    message = dispatcher.messages[0]
    assert clinic.phone in message["text"]
    assert message["buttons"] == [{"title": "Talk to a person", "payload": "/human_handoff"}]
    assert events == [UserUtteranceReverted()]
    assert unanswered(bot_env)[0].reason == "fallback"
