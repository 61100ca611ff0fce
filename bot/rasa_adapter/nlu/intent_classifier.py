"""Rasa's logistic-regression intent classifier, loaded without skops, reading one message fast.

- Rasa 3.6 stores the fitted scikit-learn model with skops, whose first import walks every
  scikit-learn module for its list of trusted types: two seconds of every start of the bot. A
  logistic regression is four arrays, so this subclass also stores them with NumPy (`.npz`,
  read with `allow_pickle=False`: plain numbers and labels, nothing executed) and puts them back
  into the same `LogisticRegression` Rasa builds. A model without them falls back to Rasa's
  skops loader.
- To classify a message, Rasa stacks every featurizer's sparse features twice over (token and
  sentence level, though it reads only the sentence row) with scipy's general block-matrix
  code, which checks and converts each block separately: for the one-row matrix of a single
  message, four times slower than joining the sentence rows directly, as `_create_X` does here.
  Training (many messages at once) keeps Rasa's own code.
- `normalize: true` weighs each featurizer's counts as TF-IDF does without the IDF: log(1 + count),
  then each featurizer's block scaled to unit length. Raw counts let a long, rambling message
  (whose many words and character n-grams add up) outvote a short one on length alone, and make
  the model over-sure of it; scaled, a message weighs the same whatever its length. `C` is the
  logistic regression's inverse regularisation strength (scikit-learn's, 1.0 by default).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import (
    LogisticRegressionClassifier as RasaLogisticRegressionClassifier,
)
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix, csr_matrix, vstack

logger = logging.getLogger(__name__)

# What `LogisticRegression.fit` learns; the rest of the estimator comes from the config.
FITTED = ("coef_", "intercept_", "classes_", "n_iter_", "n_features_in_")


def _arrays_file(model_dir: Path) -> Path:
    return model_dir / "logistic_regression.npz"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LogisticRegressionClassifier(RasaLogisticRegressionClassifier):
    """Rasa's `LogisticRegressionClassifier`, optionally on length-normalised features."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **RasaLogisticRegressionClassifier.get_default_config(),
            "normalize": False,
            "C": 1.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        """Rasa's feature matrix; for a single message (every parse) built directly."""
        normalize = bool(self.config["normalize"])
        if len(messages) == 1:
            row = sentence_row(messages[0], normalize)
            width = getattr(self.clf, "n_features_in_", row.shape[1])
            if row.shape[1] == 0 and width:
                # Nothing featurised (a message of symbols the cleaner drops): no evidence for
                # any intent, so a low-confidence guess the fallback takes, not a crash.
                return csr_matrix((1, width))
            return row
        if not normalize:
            return super()._create_X(messages)
        return vstack([sentence_row(m, normalize) for m in messages], format="csr")

    def persist(self) -> None:
        super().persist()
        with self._model_storage.write_to(self._resource) as model_dir:
            arrays = {name: np.asarray(getattr(self.clf, name)) for name in FITTED}
            np.savez(_arrays_file(model_dir), **arrays)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RasaLogisticRegressionClassifier:
        try:
            with (
                model_storage.read_from(resource) as model_dir,
                np.load(_arrays_file(model_dir), allow_pickle=False) as stored,
            ):
                fitted = {name: stored[name] for name in FITTED}
        except (ValueError, OSError, KeyError) as error:  # none stored: Rasa's way
            logger.info("Loading the intent classifier with skops, as Rasa does (%s)", error)
            return super().load(config, model_storage, resource, execution_context, **kwargs)
        component = cls(config, execution_context.node_name, model_storage, resource)
        for name, value in fitted.items():
            setattr(component.clf, name, value.item() if value.ndim == 0 else value)
        return component


def sentence_row(message: Message, normalize: bool = False) -> csr_matrix:
    """The message's sparse and dense sentence features side by side, as Rasa's
    `Message.get_sparse_features` and `_create_X` join them (same columns, same values);
    with `normalize`, each sparse block as log(1 + count) scaled to unit length."""
    sparse = [
        feature.features
        for feature in message.features
        if feature.attribute == TEXT
        and feature.type == FEATURE_TYPE_SENTENCE
        and feature.is_sparse()
    ]
    dense = message.get_dense_features(attribute=TEXT)[1]
    blocks = [coo_matrix(block) for block in sparse]
    if normalize:
        blocks = [_unit_length(block) for block in blocks]
    if dense is not None:
        blocks.append(coo_matrix(dense.features))
    if not blocks:
        return csr_matrix((1, 0))
    offsets = np.cumsum([0] + [block.shape[1] for block in blocks])
    data = np.concatenate([block.data for block in blocks])
    rows = np.concatenate([block.row for block in blocks])
    cols = np.concatenate(
        [block.col + offset for block, offset in zip(blocks, offsets[:-1], strict=True)]
    )
    return csr_matrix((data, (rows, cols)), shape=(blocks[0].shape[0], int(offsets[-1])))


def _unit_length(block: coo_matrix) -> coo_matrix:
    data = np.log1p(np.abs(block.data))
    norm = float(np.sqrt(np.sum(data**2)))
    return coo_matrix((data / norm if norm else data, (block.row, block.col)), shape=block.shape)
