"""A concern advised once in a conversation is not advised again word for word, and the FAQ
follow-ups that read the last topic: a treatment's price after the price list, session lengths
that never pull in the treatment plan, buttons that don't offer what was just read, the back's
three sections (Tracker + CollectingDispatcher against a temporary database)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionAskAffirmation
from actions.faq import ActionAnswerFaq
from actions.safety import ActionRedFlagAdvice
from bot.clinic.triage import Assessment, assess
from tests.support.trackers import make_tracker

pytestmark = pytest.mark.usefixtures("bot_env")

PREGNANT = [f.as_dict() for f in assess("I'm 18 weeks pregnant").concerns]
NEUTRAL = Assessment().as_dict()  # what the triage says once its lexicon is right


def red_flag(text: str, ranking: list[tuple[str, float]], slots: dict[str, Any]) -> Any:
    """`text` as the NLU passes it on when the triage found a doctor-first concern: `red_flag`
    first, then the classifier's own ranking."""
    ranked = [{"name": "red_flag", "confidence": 1.0}]
    ranked += [{"name": name, "confidence": score} for name, score in ranking]
    return make_tracker(
        "red_flag", text, triage=assess(text).as_dict(), slots=slots, ranking=ranked
    )


async def run_red_flag(tracker: Any) -> tuple[list[dict[str, Any]], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await ActionRedFlagAdvice().run(dispatcher, tracker, {})
    return events, [m.get("text") or "" for m in dispatcher.messages]


async def test_the_advice_is_given_once_then_acknowledged() -> None:
    first = red_flag("I'm 18 weeks pregnant", [("inform", 0.7)], {})
    events, said = await run_red_flag(first)
    assert "Please check with your midwife or GP" in said[0]
    slots = {e["name"]: e["value"] for e in events}

    again = red_flag(
        "ok thanks, I'll check with my midwife first",
        [("nlu_fallback", 0.55), ("thank", 0.39)],
        slots,
    )
    _, said = await run_red_flag(again)
    assert len(said) == 1
    assert "anything else" in said[0]
    assert "Please check with" not in said[0] and "book" not in said[0].lower()


async def test_after_the_faq_answer_on_pregnancy_a_mention_is_acknowledged() -> None:
    # "is massage safe when you're pregnant?" is a general question: its FAQ entry is the advice.
    question = "is massage safe when you're pregnant?"
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "ask_massage_types",
        question,
        entities=[{"entity": "massage_type", "value": "pregnancy"}],
        triage=assess(question).as_dict(),
    )
    events = await ActionAnswerFaq().run(dispatcher, tracker, {})
    slots = {e["name"]: e["value"] for e in events}
    assert slots["health_advised"] == ["pregnancy"]
    assert "health_concerns" not in slots  # asking isn't saying you're pregnant

    _, said = await run_red_flag(
        red_flag("ok thanks, I'll check with my midwife first", [("thank", 0.6)], slots)
    )
    assert said == [said[0]] and "Thanks for letting me know" in said[0]


async def test_a_request_with_an_advised_concern_starts_what_was_asked() -> None:
    text = "my midwife says it's fine, can I book a back massage on friday?"
    events, said = await run_red_flag(
        red_flag(text, [("schedule_appointment", 0.9)], {"health_concerns": PREGNANT})
    )
    assert FollowupAction("booking_form") in events
    assert said == []  # the booking's summary reminds the client before they confirm


async def test_a_question_with_an_advised_concern_gets_its_answer() -> None:
    text = "my midwife says it's fine, how much is a back massage?"
    _, said = await run_red_flag(
        red_flag(text, [("ask_clinic_info", 0.8)], {"health_concerns": PREGNANT})
    )
    assert "£35" in " ".join(said)
    assert not any("Please check with" in s for s in said)


async def test_a_new_concern_beside_an_advised_one_gets_its_own_advice() -> None:
    text = "I'm pregnant and I'm on warfarin too"
    _, said = await run_red_flag(red_flag(text, [("inform", 0.6)], {"health_concerns": PREGNANT}))
    [reply] = said
    assert "blood-thinning" in reply
    assert "pregnant" not in reply  # advised already


async def test_an_emergency_is_always_said_in_full() -> None:
    text = "my legs have gone numb again"
    numb = [f.as_dict() for f in assess("my legs have gone numb").concerns]
    _, said = await run_red_flag(red_flag(text, [("inform", 0.6)], {"health_concerns": numb}))
    assert "999" in said[0] and "A&E" in said[0]


async def test_a_caution_sign_is_advised_once_in_faq_answers() -> None:
    text = "my back is swollen, does massage help?"
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("ask_back_pain", text, triage=assess(text).as_dict())
    events = await ActionAnswerFaq().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"].startswith("You mentioned swelling.")
    slots = {e["name"]: e["value"] for e in events}

    again = CollectingDispatcher()
    tracker = make_tracker("ask_back_pain", text, triage=assess(text).as_dict(), slots=slots)
    await ActionAnswerFaq().run(again, tracker, {})
    assert not any(m["text"].startswith("You mentioned") for m in again.messages)
    assert "Back pain has many possible causes" in again.messages[0]["text"]


async def test_the_three_sections_of_the_back_once_the_triage_is_quiet() -> None:
    # The triage currently reads "sections" as a caesarean section (a lexicon matter); with a
    # neutral assessment the FAQ answer for the back's regions is reached.
    dispatcher = CollectingDispatcher()
    text = "what are the three sections of the back?"
    entities = [{"entity": "back_region", "value": "whole"}]
    tracker = make_tracker("ask_back_pain", text, entities=entities, triage=NEUTRAL)
    await ActionAnswerFaq().run(dispatcher, tracker, {})
    [answer] = dispatcher.messages
    for region in ("cervical", "thoracic", "lumbar"):
        assert region in answer["text"]
    assert "operation" not in answer["text"] and "surgeon" not in answer["text"]


async def test_lower_down_after_the_upper_back_offers_no_upper_back_button() -> None:
    dispatcher = CollectingDispatcher()
    slots = {"last_topic": "ask_back_pain", "last_topic_entities": {"back_region": "upper"}}
    tracker = make_tracker("follow_up", "what about lower down?", slots=slots)
    await ActionAnswerFaq().run(dispatcher, tracker, {})
    [answer] = dispatcher.messages
    assert "lumbar" in answer["text"]
    titles = [b["title"] for b in answer["buttons"]]
    assert titles and not any("Upper" in t or "cervical" in t for t in titles)


async def test_the_sports_one_after_the_price_list_is_its_price() -> None:
    dispatcher = CollectingDispatcher()
    text = "and the sports one?"
    tracker = make_tracker(
        "nlu_fallback",
        text,
        entities=[{"entity": "massage_type", "value": "sports", "start": 8, "end": 14}],
        slots={"last_topic": "ask_clinic_info", "last_topic_entities": {"info_type": "price"}},
        ranking=[
            {"name": "nlu_fallback", "confidence": 0.55},
            {"name": "ask_massage_types", "confidence": 0.48},
            {"name": "follow_up", "confidence": 0.15},
        ],
    )
    events = await ActionAskAffirmation().run(dispatcher, tracker, {})
    [answer] = dispatcher.messages
    assert answer["text"].startswith("Our sports massage (60 minutes) is £60.")
    assert "Did you mean" not in answer["text"]
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots["last_topic_entities"] == {"massage_type": "sports"}


@pytest.mark.parametrize("text", ["how long is each session?", "how long is a session?"])
async def test_session_lengths_never_pull_in_the_treatment_plan(text: str) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.55},
        {"name": "ask_treatment_plan", "confidence": 0.53},
        {"name": "ask_clinic_info", "confidence": 0.32},
    ]
    unsure = CollectingDispatcher()
    await ActionAskAffirmation().run(
        unsure, make_tracker("nlu_fallback", text, ranking=ranking), {}
    )
    sure = CollectingDispatcher()
    await ActionAnswerFaq().run(sure, make_tracker("ask_treatment_plan", text), {})
    for dispatcher in (unsure, sure):
        [answer] = dispatcher.messages
        assert answer["text"].startswith("Our sessions last 30 or 60 minutes.")
        assert "six weeks" not in answer["text"] and "four treatments" not in answer["text"]


async def test_the_website_is_answered_even_when_the_classifier_is_unsure() -> None:
    dispatcher = CollectingDispatcher()
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.55},
        {"name": "ask_clinic_info", "confidence": 0.35},
        {"name": "bot_challenge", "confidence": 0.31},
    ]
    tracker = make_tracker("nlu_fallback", "do you have a website?", ranking=ranking)
    await ActionAskAffirmation().run(dispatcher, tracker, {})
    [answer] = dispatcher.messages
    assert "https://example.com" in answer["text"]
