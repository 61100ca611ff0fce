"""Custom Rasa NLU components: thin adapters running `bot.clinic.cleaning` and
`bot.clinic.triage` in the pipeline.

The cleaner caps what the classifiers read, but keeps the whole cleaned message for the triage
(`FULL_TEXT`): a warning sign in the last sentence of a long message is never cut off.
"""

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
from bot.clinic.triage import Assessment, Context, Level, assess, get_lexicon

logger = logging.getLogger(__name__)

RED_FLAG_INTENT = "red_flag"
TRIAGE_KEY = "triage"
FULL_TEXT = "full_text"  # the whole cleaned message, before the length cap (not in the output)
# Levels whose guidance comes before anything else the client asked.
GUIDANCE_FIRST = (Level.EMERGENCY, Level.DOCTOR)
# Intents that would leave a concern unanswered: the safety action answers it instead.
UNANSWERED = {
    "nlu_fallback",
    "out_of_scope",
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "inform",
    "bot_challenge",
}


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
                full = normalise(text, max_length=None)
                message.set(FULL_TEXT, full)
                message.set(TEXT, full[: self._max_length].rstrip())
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
    """Last in the pipeline: the clinical triage of the whole message (`bot.clinic.triage`).

    Its `Assessment.as_dict()` goes into the parse data under `triage`. An emergency or
    doctor-first concern overrides whatever the classifiers guessed with `red_flag`, so the
    dialogue gives guidance first; so does a postpone or consent concern in a message the
    dialogue would otherwise not answer (a greeting, "out of scope", a fallback). A general
    question about a concept with an FAQ topic ("is massage safe during pregnancy?") that the
    classifiers could not place is routed to that topic.
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

    def __init__(self) -> None:
        assess("")  # build the triage pipeline while the model loads, not on the first message

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(FULL_TEXT) or message.get(TEXT)
            if not isinstance(text, str):
                continue
            assessment = assess(text)
            message.set(TRIAGE_KEY, assessment.as_dict(), add_to_output=True)
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if assessment.level in GUIDANCE_FIRST or (
                assessment.level is not Level.NONE and intent in UNANSWERED
            ):
                _set_intent(message, RED_FLAG_INTENT)
            elif intent in UNANSWERED:
                _route_general_question(message, assessment)
        return messages


def _set_intent(message: Message, name: str) -> None:
    chosen = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)


def _route_general_question(message: Message, assessment: Assessment) -> None:
    for finding in assessment.findings:
        if finding.context is not Context.HYPOTHETICAL:
            continue
        topic = get_lexicon().concept(finding.concept).faq
        if topic is None:
            continue
        _set_intent(message, topic.intent)
        text = message.get(TEXT) or ""
        start = max(text.find(finding.phrase), 0)
        entities = list(message.get(ENTITIES) or [])
        entities.append(
            {
                "entity": topic.entity,
                "value": topic.value,
                "start": start,
                "end": start + len(finding.phrase),
                "extractor": "WarningSignDetector",
            }
        )
        message.set(ENTITIES, entities, add_to_output=True)
        return
