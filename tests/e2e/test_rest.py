"""End-to-end: a real Rasa server and action server, driven over the REST channel."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot.clinic.db import session_scope
from bot.clinic.models import UnansweredQuestion
from tests.support.bots import RunningBot

pytestmark = pytest.mark.e2e


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_faq_answer_with_follow_up_buttons(bot_server: RunningBot) -> None:
    replies = bot_server.send("does back massage help with blood circulation?", sender())
    assert "circulation" in texts(replies).lower() or "blood" in texts(replies).lower()
    assert "not medical advice" in texts(replies).lower()
    assert any(r.get("buttons") for r in replies)


def test_lookalike_letters_are_understood(bot_server: RunningBot) -> None:
    clean = bot_server.send("how many sessions will I need?", sender())
    dirty = bot_server.send("hоw mаnу ѕеѕѕíоɳѕ wíɭɭ I ɳееd?", sender())
    assert texts(dirty) == texts(clean)
    assert "six weeks" in texts(dirty)


def test_red_flag_gets_guidance_and_no_booking_prompt(bot_server: RunningBot) -> None:
    replies = bot_server.send(
        "Can I book for Friday? My legs have gone numb since yesterday", sender()
    )
    text = texts(replies)
    assert "A&E" in text and "numbness, tingling or weakness in your legs" in text
    assert not any(r.get("buttons") for r in replies)
    assert "book" not in text.lower()


def test_inflammation_advice_is_repeated_when_booking(bot_server: RunningBot) -> None:
    client = sender()
    first = texts(
        bot_server.send("my shoulder muscles are inflamed, can I still have a massage?", client)
    )
    assert "doctor" in first
    booking = texts(bot_server.send("ok I'd like to book an appointment", client))
    assert "inflammation" in booking and "doctor" in booking


# Short messages with nothing to go on ("hmm", "banana") are the ones the model is unsure of.
def test_unclear_twice_offers_a_person_and_phone(bot_server: RunningBot) -> None:
    client = sender()
    first = bot_server.send("hmm", client)
    assert any(b["payload"] == "/out_of_scope" for r in first for b in r.get("buttons") or []), (
        first
    )
    second = bot_server.send("banana", client)
    assert "call us on" in texts(second)
    assert any(b["payload"] == "/human_handoff" for r in second for b in r.get("buttons") or [])
    with session_scope(bot_server.database_url) as session:
        logged = (
            session.execute(
                select(UnansweredQuestion).where(
                    UnansweredQuestion.conversation == f"rest:{client}"
                )
            )
            .scalars()
            .all()
        )
    assert {(q.text, q.reason) for q in logged} == {("hmm", "unclear"), ("banana", "fallback")}


def test_button_payload_skips_nlu(bot_server: RunningBot) -> None:
    replies = bot_server.send('/ask_benefits{"benefit": "sleep"}', sender())
    assert "sleep" in texts(replies).lower()


def test_fallback_then_a_topic_button_answers_that_topic(bot_server: RunningBot) -> None:
    client = sender()
    first = bot_server.send("what about it", client)
    assert any(b["payload"] == "/out_of_scope" for r in first for b in r.get("buttons") or [])
    answer = texts(bot_server.send("/ask_treatment_plan", client))
    assert "six weeks" in answer
