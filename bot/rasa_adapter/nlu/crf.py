"""Rasa's CRF entity extractor, loaded from the model it trained instead of trained again.

Rasa 3.6 stores the CRF's training features and *re-trains* the CRF every time the bot loads
(its answer to not unpickling models): 1.8 s of a 10 s start, on every restart and every new
worker. This subclass also stores each trained tagger in CRFsuite's own binary model format —
plain data read by CRFsuite, nothing executed — and loads those. A model without them (or
with an unreadable one) falls back to Rasa's re-training, so nothing is lost.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor as RasaCRFEntityExtractor

logger = logging.getLogger(__name__)


def _tagger_file(model_dir: Path, tag_name: str) -> Path:
    return model_dir / f"crf_{tag_name}.crfsuite"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class CRFEntityExtractor(RasaCRFEntityExtractor):
    """Same training, features and predictions as Rasa's `CRFEntityExtractor`."""

    def persist(self, dataset: Any) -> None:
        super().persist(dataset)
        with self._model_storage.write_to(self._resource) as model_dir:
            for tag_name, tagger in self.entity_taggers.items():
                # sklearn-crfsuite keeps the model CRFsuite wrote while training in this file.
                trained = Path(tagger.modelfile.name)
                _tagger_file(model_dir, tag_name).write_bytes(trained.read_bytes())

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RasaCRFEntityExtractor:
        import rasa.shared.utils.io
        import sklearn_crfsuite

        try:
            with model_storage.read_from(resource) as model_dir:
                crf_order = rasa.shared.utils.io.read_json_file(model_dir / "crf_order.json")
                taggers = {}
                for tag_name in crf_order:
                    tagger = sklearn_crfsuite.CRF(
                        model_filename=str(_tagger_file(model_dir, tag_name))
                    )
                    tagger.tagger_  # noqa: B018 — CRFsuite reads the file now, while it exists
                    taggers[tag_name] = tagger
        except (ValueError, OSError) as error:  # no stored taggers (or none readable)
            logger.info("Training the CRF again, as Rasa does (%s)", error)
            return super().load(config, model_storage, resource, execution_context, **kwargs)
        extractor = cls(config, model_storage, resource, taggers)
        extractor.crf_order = crf_order
        return extractor
