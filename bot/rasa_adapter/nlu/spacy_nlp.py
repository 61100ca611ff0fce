"""Rasa's `SpacyNLP`, loading the spaCy pipeline once per process.

Rasa's model graph has two nodes of `SpacyNLP` (one provides the pipeline to the tokenizer, one
runs it as a featurizer) and each loads the pipeline from disk: half a second of every start.
The pipeline is only read, so one copy serves both. The class keeps Rasa's name (config.yml names
it by module path): the recipe finds the component that provides the spaCy model by that name.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.nlu.utils.spacy_utils import SpacyNLP as RasaSpacyNLP

_loaded: dict[str, SpacyModel] = {}


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.MODEL_LOADER,
        DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER,
    ],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(RasaSpacyNLP):
    """Same pipeline, tokens and features as Rasa's `SpacyNLP`."""

    @staticmethod
    def load_model(spacy_model_name: str) -> SpacyModel:
        """Rasa's `SpacyNLP.load_model`, once per model name and process."""
        loaded = _loaded.get(spacy_model_name)
        if loaded is None:
            loaded = RasaSpacyNLP.load_model(spacy_model_name)
            _loaded[spacy_model_name] = loaded
        return loaded
