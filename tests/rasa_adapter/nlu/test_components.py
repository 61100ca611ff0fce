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
    triage = out.get("triage")
    assert triage["level"] == "emergency"
    assert [c["concept"] for c in triage["concerns"]] == ["leg_weakness_numbness"]
    assert "triage" in out.as_dict(only_output_properties=True)


def test_doctor_first_concern_also_comes_first() -> None:
    message = Message(
        {TEXT: "I'm on warfarin, is deep tissue ok?", INTENT: {"name": "ask_massage_types"}}
    )
    [out] = WarningSignDetector().process([message])
    assert out.get(INTENT)["name"] == "red_flag"
    assert out.get("triage")["level"] == "doctor"


def test_postpone_concern_keeps_a_question_intent_but_not_a_greeting() -> None:
    question = Message(
        {TEXT: "my back is inflamed, can massage help?", INTENT: {"name": "ask_inflammation"}}
    )
    greeting = Message({TEXT: "hi, I've got shingles", INTENT: {"name": "greet"}})
    [asked, greeted] = WarningSignDetector().process([question, greeting])
    assert asked.get(INTENT)["name"] == "ask_inflammation"
    assert asked.get("triage")["level"] == "postpone"
    assert greeted.get(INTENT)["name"] == "red_flag"


def test_the_triage_reads_the_whole_message_the_classifiers_read_capped() -> None:
    text = "My shoulders are tight from work. " * 40 + "Both my legs are numb."
    [message] = TextCleaner({}).process([Message({TEXT: text, INTENT: {"name": "greet"}})])
    assert len(message.get(TEXT)) <= 1000
    [out] = WarningSignDetector().process([message])
    assert out.get("triage")["level"] == "emergency"


def test_general_question_the_classifiers_could_not_place_goes_to_its_faq_topic() -> None:
    message = Message({TEXT: "is massage safe during pregnancy?", INTENT: {"name": "nlu_fallback"}})
    [out] = WarningSignDetector().process([message])
    assert out.get(INTENT)["name"] == "ask_massage_types"
    assert {"entity": "massage_type", "value": "pregnancy"}.items() <= out.get(ENTITIES)[0].items()
    assert out.get("triage")["level"] == "none"
