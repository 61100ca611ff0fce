"""Our logistic-regression intent classifier loads its stored arrays, not the skops file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import (
    LogisticRegressionClassifier as RasaClassifier,
)
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_adapter.nlu.intent_classifier import LogisticRegressionClassifier

EXAMPLES = {
    "ask_back_pain": ("my back hurts", "pain in my lower back", "does it help back ache"),
    "ask_price": ("how much is it", "what does a massage cost", "price of a session"),
    "greet": ("hello", "hi there", "good morning"),
}
SAID = ("my lower back aches", "how much for a massage", "hi", "zzz")


@pytest.fixture()
def trained(tmp_path: Path) -> tuple[LocalModelStorage, Resource, ExecutionContext, object]:
    storage, resource = LocalModelStorage(tmp_path), Resource("lr")
    context = ExecutionContext(GraphSchema({}), "lr")
    messages = [
        Message(data={TEXT: text, INTENT: intent})
        for intent, texts in EXAMPLES.items()
        for text in texts
    ]
    data = TrainingData(messages)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    featurizer = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("cv"), context
    )
    featurizer.train(data)
    featurizer.process_training_data(data)
    config = {**LogisticRegressionClassifier.get_default_config(), "random_state": 42}
    LogisticRegressionClassifier.create(config, storage, resource, context).train(data)
    return storage, resource, context, featurizer


def _ranked(classifier: RasaClassifier, featurizer: object) -> list[list[tuple[str, float]]]:
    messages = [Message(data={TEXT: said}) for said in SAID]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    featurizer.process(messages)  # type: ignore[attr-defined]
    classifier.process(messages)
    return [[(i["name"], i["confidence"]) for i in m.get("intent_ranking")] for m in messages]


def test_loads_the_stored_arrays_with_the_same_answers(
    trained: tuple[LocalModelStorage, Resource, ExecutionContext, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage, resource, context, featurizer = trained
    config = {**LogisticRegressionClassifier.get_default_config(), "random_state": 42}
    with_skops = RasaClassifier.load(config, storage, resource, context)
    monkeypatch.setattr(RasaClassifier, "load", None)  # ours must not fall back to it
    ours = LogisticRegressionClassifier.load(config, storage, resource, context)
    assert np.array_equal(ours.clf.coef_, with_skops.clf.coef_)
    found = _ranked(ours, featurizer)
    assert found == _ranked(with_skops, featurizer)
    assert [ranking[0][0] for ranking in found[:3]] == ["ask_back_pain", "ask_price", "greet"]


def test_falls_back_to_skops_without_the_arrays(
    trained: tuple[LocalModelStorage, Resource, ExecutionContext, object],
) -> None:
    storage, resource, context, featurizer = trained
    with storage.write_to(resource) as folder:
        (folder / "logistic_regression.npz").unlink()
    config = {**LogisticRegressionClassifier.get_default_config(), "random_state": 42}
    loaded = LogisticRegressionClassifier.load(config, storage, resource, context)
    assert _ranked(loaded, featurizer)[2][0][0] == "greet"


def test_normalised_rows_weigh_the_same_whatever_the_length(tmp_path: Path) -> None:
    """`normalize`: log counts, each featurizer's block scaled to unit length."""
    from bot.rasa_adapter.nlu.intent_classifier import sentence_row

    data = TrainingData([Message(data={TEXT: t}) for t in ("back back back pain", "back pain")])
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "cv")
    featurizer = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("cv"), context
    )
    featurizer.train(data)
    featurizer.process_training_data(data)
    long, short = (sentence_row(m, normalize=True) for m in data.training_examples)
    for row in (long, short):
        assert np.isclose(float(row.multiply(row).sum()), 1.0)
    raw = sentence_row(data.training_examples[0])
    assert raw.max() == 3.0  # without it, Rasa's counts as they are


def test_a_message_with_no_features_gets_a_low_confidence_guess(
    trained: tuple[LocalModelStorage, Resource, ExecutionContext, object],
) -> None:
    """A message of symbols the cleaner drops reaches the classifier with nothing featurised:
    the guess from no evidence (the intents' priors, which the fallback threshold catches in the
    real model), never a crash that leaves the client unanswered."""
    storage, resource, context, _ = trained
    config = {**LogisticRegressionClassifier.get_default_config(), "random_state": 42}
    classifier = LogisticRegressionClassifier.load(config, storage, resource, context)
    message = Message(data={TEXT: ""})  # no tokens, no features
    classifier.process([message])
    ranking = message.get("intent_ranking")
    assert [i["name"] for i in ranking] == ["greet", "ask_price", "ask_back_pain"]
    assert sum(i["confidence"] for i in ranking) == pytest.approx(1.0)
