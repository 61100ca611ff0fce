"""Our FallbackClassifier: Rasa's, and a fallback for `inform` with nothing in it ("banana")."""

from __future__ import annotations

from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_adapter.nlu.fallback import FallbackClassifier


def _read(name: str, confidence: float, entities: list[dict[str, object]]) -> str:
    message = Message(
        data={
            TEXT: "whatever",
            INTENT: {"name": name, "confidence": confidence},
            INTENT_RANKING_KEY: [
                {"name": name, "confidence": confidence},
                {"name": "greet", "confidence": 0.01},
            ],
            ENTITIES: entities,
        }
    )
    config = {**FallbackClassifier.get_default_config(), "threshold": 0.55}
    FallbackClassifier(config).process([message])
    return str(message.get(INTENT)["name"])


def test_inform_without_an_entity_falls_back() -> None:
    assert _read("inform", 0.66, []) == "nlu_fallback"


def test_inform_with_a_detail_stays() -> None:
    name = [{"entity": "name", "value": "Emma", "start": 0, "end": 4}]
    assert _read("inform", 0.66, name) == "inform"


def test_other_intents_as_rasa_reads_them() -> None:
    assert _read("greet", 0.9, []) == "greet"
    assert _read("greet", 0.4, []) == "nlu_fallback"
