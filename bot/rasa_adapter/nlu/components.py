"""Custom Rasa NLU components: thin adapters running `bot.clinic.cleaning` and
`bot.clinic.triage` in the pipeline."""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.clinic.cleaning import MAX_MESSAGE_LENGTH, normalise
from bot.clinic.triage import Level, assess

logger = logging.getLogger(__name__)

RED_FLAG_INTENT = "red_flag"
TRIAGE_KEY = "triage"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TextCleaner(GraphComponent):
    """First in the pipeline, so every later component reads the same clean text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_length": MAX_MESSAGE_LENGTH}

    def __init__(self, config: dict[str, Any]) -> None:
        self._max_length = int(config.get("max_length", MAX_MESSAGE_LENGTH))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextCleaner:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str):
                message.set(TEXT, normalise(text, self._max_length))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if not isinstance(text, str):
                continue
            cleaned = normalise(text, self._max_length)
            if cleaned == text:
                continue
            if example.get(ENTITIES):
                # Entity offsets point into the original text; cleaning would shift them.
                logger.warning("Training example left uncleaned (has entities): %r", text)
                continue
            example.set(TEXT, cleaned)
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class WarningSignDetector(GraphComponent):
    """Last in the pipeline: a red flag overrides whatever the classifiers guessed.

    The assessment is also attached to the parse data (key `triage`) so actions can give
    caution advice without matching the text again.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> WarningSignDetector:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            triage = assess(text)
            message.set(
                TRIAGE_KEY,
                {
                    "level": triage.level.value,
                    "red_flags": list(triage.red_flags),
                    "caution_signs": list(triage.caution_signs),
                },
                add_to_output=True,
            )
            if triage.level is Level.RED_FLAG:
                flagged = {INTENT_NAME_KEY: RED_FLAG_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
                ranking = [
                    r
                    for r in message.get(INTENT_RANKING_KEY) or []
                    if r.get(INTENT_NAME_KEY) != RED_FLAG_INTENT
                ]
                message.set(INTENT, flagged, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [flagged, *ranking], add_to_output=True)
        return messages
