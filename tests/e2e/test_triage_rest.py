"""End-to-end over REST through the trained model: each triage level gets its own reply."""

from __future__ import annotations

import uuid

import pytest

from bot.clinic.facts import load_clinic
from tests.support import ROOT
from tests.support.bots import RunningBot

pytestmark = pytest.mark.e2e

CLINIC = load_clinic(ROOT / "data" / "clinic.yml")


def sender() -> str:
    return f"triage-{uuid.uuid4().hex[:8]}"


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_emergency_gets_999_and_no_booking_prompt(bot_server: RunningBot) -> None:
    replies = bot_server.send("numbness down there when I wipe, can I come in today?", sender())
    text = texts(replies)
    assert "numbness or tingling around your bottom, genitals or inner thighs" in text
    assert CLINIC.emergency_number in text and "A&E" in text
    assert "book" not in text.lower()
    assert not any(r.get("buttons") for r in replies)


def test_emergency_at_the_end_of_a_long_message_is_not_cut_off(bot_server: RunningBot) -> None:
    filler = "I've been meaning to book for ages, my shoulders are in knots from work. " * 16
    message = filler + "Both my legs are numb and I can't control my bladder. Can I book for today?"
    assert len(message) > 1200
    text = texts(bot_server.send(message, sender()))
    assert CLINIC.emergency_number in text
    assert "book" not in text.lower()


def test_doctor_first_names_what_was_said_and_who_to_ask(bot_server: RunningBot) -> None:
    replies = bot_server.send(
        "I'm on warfarin (blood thinners) - is a deep tissue massage safe for me?", sender()
    )
    text = texts(replies)
    assert "You mentioned that you take blood-thinning medicine" in text
    assert CLINIC.phone in text
    assert "book" not in text.lower()


def test_pregnancy_says_whether_the_clinic_offers_pregnancy_massage(bot_server: RunningBot) -> None:
    text = texts(
        bot_server.send("hi im 20 weeks pregnant and my lower back is agony, can i have a massage?",
                        sender())
    )  # fmt: skip
    assert "pregnant" in text and "midwife" in text
    assert "doesn't offer pregnancy massage" in text


def test_postpone_gives_the_advice_then_the_answer(bot_server: RunningBot) -> None:
    text = texts(bot_server.send("I pulled a muscle in my back yesterday, will massage help?",
                                 sender()))  # fmt: skip
    assert "You mentioned a fresh injury" in text and "wait until it has settled" in text


def test_consent_says_what_the_clinic_offers_under_16s(bot_server: RunningBot) -> None:
    client = sender()
    text = texts(bot_server.send("can I book a sports massage for my son? he's 14", client))
    assert "parent" in text and f"aged {CLINIC.youngest_client_age} to 15" in text


def test_a_general_question_is_information_not_an_alarm(bot_server: RunningBot) -> None:
    text = texts(bot_server.send("Does massage help with fever?", sender()))
    assert "while you're ill" in text
    assert CLINIC.emergency_number not in text


def test_pregnancy_question_reaches_the_pregnancy_entry(bot_server: RunningBot) -> None:
    text = texts(bot_server.send("is massage safe during pregnancy?", sender()))
    assert "doesn't currently offer pregnancy massage" in text
    assert "midwife" in text


@pytest.mark.parametrize(
    "message",
    ["I fell for your advert", "my laptop crashed", "killer leg day yesterday, need a massage"],
)
def test_benign_traps_get_no_alarm(bot_server: RunningBot, message: str) -> None:
    text = texts(bot_server.send(message, sender()))
    assert CLINIC.emergency_number not in text and "A&E" not in text


def test_a_concern_is_remembered_when_booking(bot_server: RunningBot) -> None:
    client = sender()
    bot_server.send("I'm 18 weeks pregnant", client)
    text = texts(bot_server.send("I'd like to book a back massage", client))
    assert "Before we book" in text and "that you're pregnant" in text
