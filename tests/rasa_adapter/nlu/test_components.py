"""The custom NLU components, run on Rasa messages as the pipeline would."""

from __future__ import annotations

from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_adapter.nlu.components import TextCleaner, WarningSignDetector


def test_cleaner_cleans_messages_before_anything_reads_them() -> None:
    message = Message({TEXT: "Dоеѕ [encode-3]mаѕѕаgе[/encode]   hеlр?"})
    [cleaned] = TextCleaner({}).process([message])
    assert cleaned.get(TEXT) == "Does massage help?"


def test_cleaner_leaves_annotated_training_examples_intact() -> None:
    plain = Message({TEXT: "mаѕѕаgе  benefits", INTENT: "ask_benefits"})
    annotated = Message(
        {
            TEXT: "help my  lower back",
            INTENT: "ask_back_pain",
            ENTITIES: [{"start": 9, "end": 19, "entity": "back_region", "value": "lower"}],
        }
    )
    data = TextCleaner({}).process_training_data(TrainingData([plain, annotated]))
    texts = [example.get(TEXT) for example in data.training_examples]
    assert texts == ["massage benefits", "help my  lower back"]


def test_detector_overrides_intent_on_red_flag_and_keeps_the_guess() -> None:
    message = Message(
        {
            TEXT: "can I book friday, my legs went numb",
            INTENT: {"name": "schedule_appointment", "confidence": 0.9},
            "intent_ranking": [{"name": "schedule_appointment", "confidence": 0.9}],
        }
    )
    [out] = WarningSignDetector().process([message])
    assert out.get(INTENT) == {"name": "red_flag", "confidence": 1.0}
    assert [r["name"] for r in out.get("intent_ranking")] == ["red_flag", "schedule_appointment"]
    assert out.get("triage")["red_flags"] == ["leg_numbness_or_weakness"]
    assert "triage" in out.as_dict(only_output_properties=True)


def test_detector_annotates_caution_without_changing_intent() -> None:
    message = Message({TEXT: "my back is inflamed", INTENT: {"name": "ask_inflammation"}})
    [out] = WarningSignDetector().process([message])
    assert out.get(INTENT)["name"] == "ask_inflammation"
    assert out.get("triage") == {
        "level": "caution",
        "red_flags": [],
        "caution_signs": ["inflammation"],
    }
