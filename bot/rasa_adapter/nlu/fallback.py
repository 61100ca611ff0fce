"""Rasa's FallbackClassifier, which also falls back on a "detail" with no detail in it.

`inform` is the intent of a bare detail: a name, a date, a phone number, a treatment. The
classifier also gives it to any lone word it has never seen ("banana"), because most of its
one-word examples are names; with no entity found in the message there is no detail to act on,
so such a message is as unclear as "hmm" and gets the same fallback (likely topics, then a
person). Inside a form nothing changes: the form reads every message whole and goes on.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier as RasaFallbackClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message

INFORM = "inform"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FallbackClassifier(RasaFallbackClassifier):
    """Falls back as Rasa's does, and on `inform` without any entity."""

    def _should_fallback(self, message: Message) -> bool:
        if super()._should_fallback(message):
            return True
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        return intent == INFORM and not message.get(ENTITIES)
