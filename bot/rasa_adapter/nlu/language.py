"""The language of each message in the parse data, and the `other_language` intent when it isn't
English: two thin adapters around `bot.clinic.language`.

`LanguageDetector` goes first in the pipeline, because TextCleaner turns "Dzień dobry" into
"Dzien dobry" and Urdu into Latin letters, which no detector can read. `OtherLanguageIntent`
goes after the intent classifier and before FallbackClassifier: a message in another language
gets `other_language` (and its reply in that language) instead of a guess at an English intent,
and an English message never keeps `other_language` from the classifier, whose training
examples only exist so that the intent is known to Rasa.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.clinic import language

LANGUAGE_KEY = "language"
OTHER_LANGUAGE_INTENT = "other_language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class LanguageDetector(GraphComponent):
    """Adds `language` (ISO 639-1, "en" when unsure) to the parse data of every message."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls()

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LanguageDetector:
        language.load()  # before the first client waits for it
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and not text.startswith("/"):
                found = language.detect_language(text)
            else:
                found = language.ENGLISH  # button payloads and empty messages
            message.set(LANGUAGE_KEY, found, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class OtherLanguageIntent(GraphComponent):
    """`other_language` exactly when LanguageDetector found another language."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OtherLanguageIntent:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            found = message.get(LANGUAGE_KEY) or language.ENGLISH
            intent = message.get(INTENT) or {}
            ranking = [
                r
                for r in message.get(INTENT_RANKING_KEY) or []
                if r.get(INTENT_NAME_KEY) != OTHER_LANGUAGE_INTENT
            ]
            if found != language.ENGLISH:
                chosen = {INTENT_NAME_KEY: OTHER_LANGUAGE_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, chosen, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
            elif intent.get(INTENT_NAME_KEY) == OTHER_LANGUAGE_INTENT:
                best = (
                    ranking[0]
                    if ranking
                    else {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}
                )
                message.set(INTENT, dict(best), add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
