"""Our CRF entity extractor loads the taggers it trained; Rasa's trains them again on load."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor as RasaCRF
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import coo_matrix

from bot.rasa_adapter.nlu.crf import CRFEntityExtractor

REGIONS = ("lower back", "neck", "shoulders", "upper back", "spine")
SAID = ("my neck hurts", "I have pain in my upper back", "massage for the spine please", "hello")


def _example(region: str, template: str) -> Message:
    text = template.format(region)
    start = text.index(region)
    entity = {"start": start, "end": start + len(region), "value": region, "entity": "region"}
    return Message(data={TEXT: text, "intent": "ask_back_pain", ENTITIES: [entity]})


def _prepared(messages: list[Message]) -> list[Message]:
    """Tokens, and a (blank) feature: Rasa's CRF only takes messages some featurizer saw."""
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    for message in messages:
        blank = Features(coo_matrix((1, 1)), FEATURE_TYPE_SENTENCE, TEXT, "test")
        message.add_features(blank)
    return messages


@pytest.fixture()
def trained(tmp_path: Path) -> tuple[LocalModelStorage, Resource, ExecutionContext]:
    storage, resource = LocalModelStorage(tmp_path), Resource("crf")
    context = ExecutionContext(GraphSchema({}), "test")
    templates = ("my {} hurts", "I have pain in my {}", "massage for the {} please")
    data = TrainingData(_prepared([_example(r, t) for r in REGIONS for t in templates]))
    config = CRFEntityExtractor.get_default_config()
    CRFEntityExtractor.create(config, storage, resource, context).train(data)
    return storage, resource, context


def _entities(extractor: RasaCRF) -> list[list[dict]]:
    messages = _prepared([Message(data={TEXT: said}) for said in SAID])
    extractor.process(messages)
    return [message.get(ENTITIES, []) for message in messages]


def test_loads_the_trained_taggers_without_training(
    trained: tuple[LocalModelStorage, Resource, ExecutionContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage, resource, context = trained
    config = CRFEntityExtractor.get_default_config()
    retrained = RasaCRF.load(config, storage, resource, context)  # Rasa: trains again

    def no_training(*_: object) -> None:
        raise AssertionError("trained again")

    monkeypatch.setattr(CRFEntityExtractor, "train_model", classmethod(no_training))
    loaded = CRFEntityExtractor.load(config, storage, resource, context)
    found = _entities(loaded)
    assert found == _entities(retrained)
    assert [e["value"] for e in found[0]] == ["neck"]
    assert [e["value"] for e in found[1]] == ["upper back"]
    assert found[3] == []


def test_falls_back_to_training_when_a_tagger_is_missing(
    trained: tuple[LocalModelStorage, Resource, ExecutionContext],
) -> None:
    storage, resource, context = trained
    with storage.write_to(resource) as folder:
        for tagger in folder.glob("*.crfsuite"):
            tagger.unlink()
    config = CRFEntityExtractor.get_default_config()
    loaded = CRFEntityExtractor.load(config, storage, resource, context)
    assert [e["value"] for e in _entities(loaded)[0]] == ["neck"]
