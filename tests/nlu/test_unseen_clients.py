"""Intent macro-F1 on messages written by people who never saw the training data.

tests/nlu/unseen_clients.yml (308 messages over every intent) is frozen test data: nothing was
tuned on it, and it was measured once at the end of the work it judges. unseen_clients_dirty.yml
is its twin with look-alike letters and typos, written by make_dirty_copy.py with the held-out
set's seed and rates. The clinic's targets, 0.96 as written and 0.95 dirty, are not met yet
(docs/nlu-evaluation.md): the tests hold the model to the figures measured after the last change
to the NLU data and configuration (FLOOR_*), so a change may raise them, never lower them. Only
the scores and the per-intent report are printed, never the misread messages: they are not for
tuning.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.nlu.classifiers.fallback_classifier import (
    is_fallback_classifier_prediction,
    undo_fallback_prediction,
)
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.metrics import classification_report, f1_score

from tests.conftest import latest_model
from tests.nlu.make_dirty_copy import read_intents, strip_annotations

pytestmark = pytest.mark.model

HERE = Path(__file__).resolve().parent
TRAINING = HERE.parents[1] / "data" / "nlu"
UNSEEN = HERE / "unseen_clients.yml"
UNSEEN_DIRTY = HERE / "unseen_clients_dirty.yml"
TARGET_CLEAN = 0.96
TARGET_DIRTY = 0.95
# Measured on 2026-12-01 with the model `make train` builds from this data (0.866 and 0.854),
# rounded down to the third decimal.
FLOOR_CLEAN = 0.865
FLOOR_DIRTY = 0.853


@pytest.fixture(scope="module")
def agent():  # type: ignore[no-untyped-def]
    from rasa.core.agent import Agent

    return Agent.load(str(latest_model()))


def macro_f1(agent, path: Path) -> float:  # type: ignore[no-untyped-def]
    """As `rasa test nlu` counts it: a fallback counts as the classifier's underlying guess."""
    examples = [e for e in load_data(str(path)).intent_examples if e.get("intent")]
    fallbacks = 0

    async def predict() -> list[str]:
        nonlocal fallbacks
        names = []
        for example in examples:
            result = await agent.parse_message(example.get("text"))
            if is_fallback_classifier_prediction(result):
                fallbacks += 1
                result = undo_fallback_prediction(result)
            names.append(result["intent"]["name"])
        return names

    predicted = asyncio.run(predict())
    expected = [e.get("intent") for e in examples]
    print(f"\n{path.name}: {len(examples)} messages, {fallbacks} went to the fallback")
    print(classification_report(expected, predicted, zero_division=0, digits=3))
    # The same without the messages that are also training examples (as written).
    training = _training_texts()
    fresh = [
        (e, p)
        for e, p, example in zip(expected, predicted, examples, strict=True)
        if _fold(example.get("text")) not in training
    ]
    fresh_f1 = f1_score(
        [e for e, _ in fresh], [p for _, p in fresh], average="macro", zero_division=0
    )
    print(f"without the {len(expected) - len(fresh)} also in the training data: {fresh_f1:.3f}")
    # sklearn's macro average (below) counts every label seen, so an intent the set has no
    # examples of (follow_up, other_language) scores 0 whenever the model predicts it once.
    own = f1_score(
        expected, predicted, labels=sorted(set(expected)), average="macro", zero_division=0
    )
    print(f"over the set's own {len(set(expected))} intents: {own:.3f}")
    return float(f1_score(expected, predicted, average="macro", zero_division=0))


def _fold(text: str) -> str:
    return " ".join(strip_annotations(text).lower().split())


# Everyday phrases ("thanks", "hello"…) that the unseen set's authors wrote independently and
# the training data already had when the set was frozen. New training data adds none.
OVERLAP_WHEN_FROZEN = 39


def _training_texts() -> set[str]:
    return {
        _fold(text)
        for path in TRAINING.glob("*.yml")
        for _, texts in read_intents(path)
        for text in texts
    }


def test_no_unseen_message_was_added_to_the_training_data() -> None:
    """Counted, not listed: a leak would inflate the score (and listing it would show the set)."""
    training = _training_texts()
    shared = sum(_fold(text) in training for _, texts in read_intents(UNSEEN) for text in texts)
    assert shared <= OVERLAP_WHEN_FROZEN, f"{shared} unseen messages are training examples"


def test_dirty_copy_matches_the_unseen_set() -> None:
    clean = [(intent, len(texts)) for intent, texts in read_intents(UNSEEN)]
    dirty = [(intent, len(texts)) for intent, texts in read_intents(UNSEEN_DIRTY)]
    assert dirty == clean


def test_unseen_intent_macro_f1_never_drops(agent) -> None:  # type: ignore[no-untyped-def]
    score = macro_f1(agent, UNSEEN)
    met = "met" if score >= TARGET_CLEAN else "NOT met"
    print(f"unseen clients, intent macro-F1: {score:.3f} (target {TARGET_CLEAN}: {met})")
    assert score >= FLOOR_CLEAN, f"{score:.3f}, below the {FLOOR_CLEAN} measured before"


def test_unseen_dirty_intent_macro_f1_never_drops(agent) -> None:  # type: ignore[no-untyped-def]
    score = macro_f1(agent, UNSEEN_DIRTY)
    met = "met" if score >= TARGET_DIRTY else "NOT met"
    print(f"unseen clients, look-alikes and typos, macro-F1: {score:.3f} ({TARGET_DIRTY}: {met})")
    assert score >= FLOOR_DIRTY, f"{score:.3f}, below the {FLOOR_DIRTY} measured before"


def test_floors_lie_on_the_way_to_the_targets() -> None:
    assert 0 < FLOOR_CLEAN <= TARGET_CLEAN and 0 < FLOOR_DIRTY <= TARGET_DIRTY
