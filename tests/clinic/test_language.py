"""Language of a message: short English stays English, other languages get a reply in theirs."""

from __future__ import annotations

import pytest

from bot.clinic import language
from tests.clinic.measure_language_id import dirty_english, load_samples, measure

SAMPLES = load_samples()


def test_no_english_message_is_called_another_language() -> None:
    """The development samples: "ok", "thx", slang, names, phones, with and without look-alikes."""
    english = SAMPLES["en"]
    foreign = [
        t for t in [*english, *dirty_english(english)] if language.detect_language(t) != "en"
    ]
    assert foreign == []


def test_most_other_language_messages_are_recognised() -> None:
    scores = measure(language.detect_language, SAMPLES, dirty_english(SAMPLES["en"]))
    # Development figures (see the module docstring): 0.895 found, 0.882 exact.
    assert scores["caught"] >= 0.85
    assert scores["exact"] >= 0.85


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dzień dobry, chciałabym umówić masaż na sobotę", "pl"),
        ("Hola, quisiera reservar un masaje para el viernes por la tarde", "es"),
        ("Bună ziua, aș dori o programare pentru un masaj", "ro"),
        ("مجھے کمر کے درد کے لیے مساج چاہیے", "ur"),
        ("ok", "en"),
        ("yes pls", "en"),
        ("thx", "en"),
        ("Agnieszka Kowalska", "en"),
        ("07400 444555", "en"),
        ("", "en"),
        ("/greet", "en"),
    ],
)
def test_detects(text: str, expected: str) -> None:
    assert language.detect_language(text) == expected


def test_every_reply_names_the_phone_and_offers_a_person() -> None:
    for code in language.REPLIES:
        reply = language.reply_for(code, "+44 20 7946 0123")
        assert reply.language == code
        assert "+44 20 7946 0123" in reply.text
        assert (reply.button and reply.button != "Talk to a person") or code == "en"


def test_a_language_without_its_own_reply_gets_the_english_one() -> None:
    reply = language.reply_for("sw", "0123")
    assert reply.language == "en"
    assert reply.text.startswith("Sorry, I can only reply in English.")


def test_look_alike_letters_are_folded_only_inside_mixed_words() -> None:
    assert language.prepare("hеllo Dzień") == "hello Dzień"  # Cyrillic е in "hello"
    assert language.prepare("call 07400 444555 or a@b.co") == "call or"
