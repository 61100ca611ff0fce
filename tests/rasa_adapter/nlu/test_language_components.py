"""The language components in the NLU pipeline, on Rasa messages."""

from __future__ import annotations

from typing import Any

from rasa.shared.nlu.training_data.message import Message

from bot.rasa_adapter.nlu.language import LanguageDetector, OtherLanguageIntent


def parsed(text: str, ranking: list[tuple[str, float]]) -> Message:
    message = Message(data={"text": text})
    LanguageDetector().process([message])
    # What the intent classifier would have set.
    intents = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    message.set("intent", intents[0])
    message.set("intent_ranking", intents)
    OtherLanguageIntent().process([message])
    return message


def top(message: Message) -> dict[str, Any]:
    return message.get("intent")


def test_another_language_becomes_other_language() -> None:
    message = parsed("Dzień dobry, chciałabym umówić wizytę na masaż", [("greet", 0.6)])
    assert message.get("language") == "pl"
    assert top(message) == {"name": "other_language", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")] == ["other_language", "greet"]
    assert message.as_dict(only_output_properties=True)["language"] == "pl"


def test_english_keeps_the_classifiers_intent() -> None:
    message = parsed("ok", [("affirm", 0.9), ("other_language", 0.05)])
    assert message.get("language") == "en"
    assert top(message) == {"name": "affirm", "confidence": 0.9}


def test_english_never_keeps_other_language_from_the_classifier() -> None:
    message = parsed("gracias mate", [("other_language", 0.7), ("thank", 0.2)])
    assert message.get("language") == "en"
    assert top(message) == {"name": "thank", "confidence": 0.2}
    assert [r["name"] for r in message.get("intent_ranking")] == ["thank"]


def test_button_payloads_are_english() -> None:
    message = parsed('/ask_clinic_info{"info_type": "price"}', [("ask_clinic_info", 1.0)])
    assert message.get("language") == "en"
    assert top(message)["name"] == "ask_clinic_info"
