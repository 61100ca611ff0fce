"""End-to-end over REST with the trained bot: follow-ups in context, two questions at once,
clinic details, and messages in other languages, typed as clients type them."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e


def conversation() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


def said(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_sunday_after_the_opening_hours(bot_server: RunningBot) -> None:
    sender = conversation()
    hours = said(bot_server.send("what are your opening hours?", sender))
    assert "Our opening hours are:\n- Monday to Friday: 9am–6pm" in hours
    sunday = said(bot_server.send("what about sunday", sender))
    assert "closed on Sundays" in sunday
    assert "Great! Just ask" not in sunday


def test_lower_down_after_the_upper_back(bot_server: RunningBot) -> None:
    sender = conversation()
    assert "cervical" in said(
        bot_server.send("my upper back is really tight, can massage help?", sender)
    )
    lower = bot_server.send("what about lower down?", sender)
    assert "lumbar" in said(lower)
    assert "Did you mean" not in said(lower)


def test_sleep_after_a_benefit(bot_server: RunningBot) -> None:
    sender = conversation()
    bot_server.send("is massage good for stress?", sender)
    assert "sleep better" in said(bot_server.send("and for sleep?", sender))


def test_two_questions_in_one_message(bot_server: RunningBot) -> None:
    replies = bot_server.send("does it help with sciatica and how much is it", conversation())
    text = said(replies)
    assert "Back pain has many possible causes" in text
    assert "Here are our prices:\n- Back massage (30 minutes): £35" in text


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("how much is it?", "Here are our prices:"),
        ("do you take card", "We accept debit and credit cards"),
        ("which parts of the back do you work on", "three sections"),
        ("what are the three sections of the back?", "- Upper (cervical)"),
    ],
)
def test_specific_answers(bot_server: RunningBot, message: str, expected: str) -> None:
    text = said(bot_server.send(message, conversation()))
    assert expected in text
    assert "Example Street" not in text and "infant" not in text


@pytest.mark.parametrize(
    ("message", "reply_starts", "button"),
    [
        (
            "Dzień dobry, chciałabym umówić wizytę na masaż pleców",
            "Przepraszamy, nasz czat odpowiada tylko po angielsku.",
            "Kontakt z pracownikiem",
        ),
        (
            "Hola, quisiera reservar un masaje para el viernes por la tarde",
            "Lo sentimos, nuestro asistente de chat solo responde en inglés.",
            "Hablar con una persona",
        ),
    ],
)
def test_another_language_gets_a_reply_in_it(
    bot_server: RunningBot, message: str, reply_starts: str, button: str
) -> None:
    [reply] = bot_server.send(message, conversation())
    assert reply["text"].startswith(reply_starts)
    assert "+44 20 7946 0123" in reply["text"]
    assert [b["title"] for b in reply["buttons"]] == [button]


def test_short_english_stays_english(bot_server: RunningBot) -> None:
    sender = conversation()
    bot_server.send("what are your prices?", sender)
    for message in ("ok", "thx"):
        text = said(bot_server.send(message, sender))
        assert "only reply in English" not in text and "Sorry" not in text
