"""The trained model gives Rasa's own answers through our graph runner and NLU subclasses."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.engine.exceptions import GraphRunError
from rasa.engine.loader import load_predict_graph_runner
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import (
    LogisticRegressionClassifier as RasaLogisticRegressionClassifier,
)
from rasa.nlu.utils.spacy_utils import SpacyNLP as RasaSpacyNLP
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_adapter.graph_runner import SequentialGraphRunner
from bot.rasa_adapter.nlu.intent_classifier import LogisticRegressionClassifier
from bot.rasa_adapter.nlu.spacy_nlp import SpacyNLP
from tests.conftest import latest_model

pytestmark = pytest.mark.model

SAID = (
    "hello",
    "my lower back hurts, can I book a massage for tomorrow at 10am?",
    "Cаn І cοmе wіth іnflаmеd muѕсlеѕ?",  # look-alike letters
    "jkl qwe zzz",
)


@pytest.fixture(scope="module")
def runners(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Any]:
    """The trained model's metadata, with Rasa's runner and with ours (Rasa's loader)."""
    model = latest_model()
    metadata, rasas = load_predict_graph_runner(
        tmp_path_factory.mktemp("rasa"), model, LocalModelStorage, DaskGraphRunner
    )
    _, ours = load_predict_graph_runner(
        tmp_path_factory.mktemp("ours"), model, LocalModelStorage, SequentialGraphRunner
    )
    return metadata, rasas, ours


def _parse(metadata: Any, runner: Any, said: str) -> dict[str, Any]:
    message = UserMessage(said, sender_id="t")
    tracker = DialogueStateTracker("t", metadata.domain.slots)
    inputs = {PLACEHOLDER_MESSAGE: [message], PLACEHOLDER_TRACKER: tracker}
    results = runner.run(inputs=inputs, targets=[metadata.nlu_target])
    return results[metadata.nlu_target][0].as_dict(only_output_properties=True)


def _predict(metadata: Any, runner: Any, said: str, intent: str) -> tuple[Any, list[float]]:
    tracker = DialogueStateTracker("t", metadata.domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(said, intent={"name": intent, "confidence": 1.0}))
    results = runner.run(inputs={PLACEHOLDER_TRACKER: tracker}, targets=[metadata.core_target])
    prediction = results[metadata.core_target]
    return prediction.policy_name, prediction.probabilities


def test_parses_and_predictions_equal_rasas(runners: tuple[Any, Any, Any]) -> None:
    metadata, rasas, ours = runners
    rasa_parses = [_parse(metadata, rasas, said) for said in SAID]
    assert [_parse(metadata, ours, said) for said in SAID] == rasa_parses
    assert rasa_parses[2]["intent"]["name"] == "ask_inflammation"  # a real parse, not empty
    for said in SAID[:2]:
        assert _predict(metadata, ours, said, "greet") == _predict(metadata, rasas, said, "greet")
    assert set(ours.run(inputs={PLACEHOLDER_MESSAGE: [UserMessage("hi")]})) == set(
        rasas.run(inputs={PLACEHOLDER_MESSAGE: [UserMessage("hi")]})
    )  # no targets: all of the schema's


def test_runner_keeps_rasas_contract(runners: tuple[Any, Any, Any]) -> None:
    metadata, rasas, ours = runners
    node = next(iter(metadata.predict_schema.nodes))
    for runner in (rasas, ours):
        with pytest.raises(GraphRunError, match="clashes with a node name"):
            runner.run(inputs={PLACEHOLDER_MESSAGE: node}, targets=[metadata.nlu_target])
        # An input named like a node stands in for it, as in a dask graph.
        assert runner.run(inputs={node: "given"}, targets=[node]) == {node: "given"}


def _node(runner: Any, cls: type) -> Any:
    """The component instances of a runner's nodes of this class."""
    return [
        node._component
        for node in runner._instantiated_nodes.values()
        if isinstance(node._component, cls)
    ]


def test_the_spacy_pipeline_is_loaded_once(runners: tuple[Any, Any, Any]) -> None:
    _, _, ours = runners
    loaders = _node(ours, RasaSpacyNLP)
    assert len(loaders) == 2 and all(type(c) is SpacyNLP for c in loaders)
    assert loaders[0]._model is loaders[1]._model  # one pipeline for both nodes
    assert SpacyNLP.load_model("var/spacy/en_massagebot") is loaders[0]._model


def test_one_message_features_equal_rasas(runners: tuple[Any, Any, Any]) -> None:
    """The classifier's one-message feature row equals the matrix Rasa stacks."""
    metadata, _, ours = runners
    (classifier,) = _node(ours, LogisticRegressionClassifier)
    featurised = []
    for said in SAID:
        message = UserMessage(said, sender_id="t")
        tracker = DialogueStateTracker("t", metadata.domain.slots)
        inputs = {PLACEHOLDER_MESSAGE: [message], PLACEHOLDER_TRACKER: tracker}
        # The node before the classifier: the message with every featurizer's features.
        node = next(
            name
            for name, schema_node in metadata.predict_schema.nodes.items()
            if schema_node.uses is LogisticRegressionClassifier
        )
        feeding = metadata.predict_schema.nodes[node].needs["messages"]
        (featured,) = ours.run(inputs=inputs, targets=[feeding])[feeding]
        featurised.append(featured)
    for message in featurised:
        mine = classifier._create_X([message])
        rasas = RasaLogisticRegressionClassifier._create_X(classifier, [message])
        assert mine.shape == rasas.shape and mine.shape[1] > 100
        assert (mine != rasas).nnz == 0
    many = classifier._create_X(featurised)  # several (training): Rasa's own stacking
    assert (many != RasaLogisticRegressionClassifier._create_X(classifier, featurised)).nnz == 0
