"""The FAQ action in a conversation: follow-ups, two questions at once, clinic details, and a
message in another language (Tracker + CollectingDispatcher against a temporary database)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import ActionAnswerFaq
from actions.language import ActionReplyInLanguage
from bot.clinic.facts import Clinic
from tests.conftest import make_tracker

pytestmark = pytest.mark.usefixtures("bot_env")


async def ask(
    intent: str,
    text: str,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the FAQ action; the bot's messages and the slots it set."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent, text, entities=entities, slots=slots)
    events = await ActionAnswerFaq().run(dispatcher, tracker, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_sunday_after_the_opening_hours() -> None:
    messages, slots = await ask("ask_clinic_info", "what are your opening hours")
    assert messages[0]["text"].startswith("Our opening hours are:\n- Monday to Friday: 9am–6pm")
    assert slots == {"last_topic": "ask_clinic_info", "last_topic_entities": {"info_type": "hours"}}

    messages, slots = await ask("follow_up", "what about sunday", slots=slots)
    assert messages[0]["text"].startswith("Sorry, we're closed on Sundays.")
    assert "Great!" not in messages[0]["text"]
    assert slots["last_topic_entities"] == {"weekday": "sunday"}

    messages, _ = await ask("follow_up", "and saturday?", slots=slots)
    assert messages[0]["text"].startswith("On Saturdays we're open 9am–1pm.")


async def test_lower_down_after_the_upper_back() -> None:
    upper = [{"entity": "back_region", "value": "upper"}]
    _, slots = await ask("ask_back_pain", "my upper back is stiff", entities=upper)
    assert slots["last_topic_entities"] == {"back_region": "upper"}
    messages, slots = await ask("follow_up", "what about lower down?", slots=slots)
    assert "lumbar" in messages[0]["text"]
    assert slots == {"last_topic": "ask_back_pain", "last_topic_entities": {"back_region": "lower"}}


async def test_sleep_after_a_benefit() -> None:
    _, slots = await ask(
        "ask_benefits", "is it good for stress", [{"entity": "benefit", "value": "stress"}]
    )
    messages, _ = await ask(
        "follow_up", "and for sleep?", [{"entity": "benefit", "value": "sleep"}], slots
    )
    assert "sleep better" in messages[0]["text"]


async def test_tell_me_more_without_a_topic_asks_what_about() -> None:
    messages, slots = await ask("follow_up", "tell me more")
    assert "not sure what you're asking about" in messages[0]["text"]
    assert slots == {}


async def test_two_questions_get_two_answers(clinic: Clinic) -> None:
    messages, slots = await ask("ask_back_pain", "does it help with sciatica and how much is it")
    assert len(messages) == 2
    assert "Back pain has many possible causes" in messages[0]["text"]
    assert messages[1]["text"].startswith("Here are our prices:\n- Back massage (30 minutes): £35")
    # Buttons only under the last answer.
    assert messages[0]["buttons"] == [] and messages[1]["buttons"]
    assert slots["last_topic"] == "ask_back_pain"


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("how much is it?", "Here are our prices:"),
        ("sorry, how much is it?", "Here are our prices:"),
        ("do you take card", "We accept debit and credit cards"),
        ("is the clinic wheelchair accessible", "The clinic is on the ground floor"),
        ("how long is a session", "Our sessions last 30 or 60 minutes."),
    ],
)
async def test_clinic_details_not_the_address_and_hours(text: str, starts: str) -> None:
    messages, _ = await ask("ask_clinic_info", text)
    assert len(messages) == 1
    assert messages[0]["text"].startswith(starts)
    assert "Example Street" not in messages[0]["text"]


async def test_which_parts_of_the_back(clinic: Clinic) -> None:
    for intent, text in [
        ("ask_massage_types", "which parts of the back do you work on"),
        ("ask_back_pain", "what are the three sections of the back?"),
    ]:
        messages, _ = await ask(intent, text)
        assert len(messages) == 1
        text = messages[0]["text"]
        assert "three sections" in text and "- Upper (cervical)" in text
        assert "infant" not in text and "geriatric" not in text


async def test_other_language_reply(dispatcher: CollectingDispatcher, clinic: Clinic) -> None:
    tracker = make_tracker("other_language", "Dzień dobry, ile kosztuje masaż?")
    tracker.latest_message["language"] = "pl"
    events = await ActionReplyInLanguage().run(dispatcher, tracker, {})
    assert events == []
    [message] = dispatcher.messages
    assert message["text"].startswith("Przepraszamy, nasz czat odpowiada tylko po angielsku.")
    assert clinic.phone in message["text"]
    assert message["buttons"] == [{"title": "Kontakt z pracownikiem", "payload": "/human_handoff"}]


async def test_slots_set_are_only_the_topic(dispatcher: CollectingDispatcher) -> None:
    tracker = make_tracker("ask_treatment_plan", "how many sessions")
    events = await ActionAnswerFaq().run(dispatcher, tracker, {})
    assert events == [
        SlotSet("last_topic", "ask_treatment_plan"),
        SlotSet("last_topic_entities", {}),
    ]


async def test_the_fallback_answers_a_sure_clinic_detail(dispatcher: CollectingDispatcher) -> None:
    from actions.fallback import ActionAskAffirmation

    tracker = make_tracker(
        "nlu_fallback",
        "does it help with sciatica and how much is it",
        ranking=[
            {"name": "nlu_fallback", "confidence": 0.55},
            {"name": "ask_back_pain", "confidence": 0.53},
            {"name": "ask_benefits", "confidence": 0.28},
        ],
    )
    await ActionAskAffirmation().run(dispatcher, tracker, {})
    texts = [m["text"] for m in dispatcher.messages]
    assert len(texts) == 2
    assert "Back pain has many possible causes" in texts[0]
    assert texts[1].startswith("Here are our prices:")
    assert not any("Did you mean" in t for t in texts)


async def test_a_follow_up_to_nothing_offers_the_likely_topics() -> None:
    """ "what about it" as a first message: the topics as buttons, as for any unclear message."""
    messages, _ = await ask("follow_up", "what about it")
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[-1] == "/out_of_scope" and "/ask_benefits" in payloads


async def test_a_weekday_or_a_place_reads_the_same_under_its_topic() -> None:
    """ "and sunday?" read as a clinic-detail question, "what about lower down?" as a back-pain
    one, get the answers they get as follow-ups: the words carry the detail."""
    _, slots = await ask("ask_clinic_info", "what are your opening hours")
    messages, _ = await ask("ask_clinic_info", "what about sunday", slots=slots)
    assert messages[0]["text"].startswith("Sorry, we're closed on Sundays.")
    messages, _ = await ask("ask_clinic_info", "and saturday?", slots=slots)
    assert messages[0]["text"].startswith("On Saturdays we're open 9am–1pm.")
    upper = [{"entity": "back_region", "value": "upper"}]
    _, slots = await ask("ask_back_pain", "my upper back is stiff", entities=upper)
    messages, slots = await ask("ask_back_pain", "what about lower down?", slots=slots)
    assert "lumbar" in messages[0]["text"]
    assert slots == {"last_topic": "ask_back_pain", "last_topic_entities": {"back_region": "lower"}}
