"""The trained model: held-out NLU scores and Rasa's own story test.

These load the newest model in models/ (`make test` trains it first; unchanged data is not
retrained) and check the figures the clinic relies on.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rasa.nlu.classifiers.fallback_classifier import (
    is_fallback_classifier_prediction,
    undo_fallback_prediction,
)
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.metrics import classification_report, f1_score

from bot.rasa_adapter.serve import rasa_env
from tests.support import ROOT
from tests.support.bots import latest_model

pytestmark = pytest.mark.model

HELD_OUT = ROOT / "tests" / "nlu" / "held_out.yml"
HELD_OUT_DIRTY = ROOT / "tests" / "nlu" / "held_out_dirty.yml"


@pytest.fixture(scope="module")
def agent():  # type: ignore[no-untyped-def]
    from rasa.core.agent import Agent

    return Agent.load(str(latest_model()))


def macro_f1(agent, path: Path) -> float:  # type: ignore[no-untyped-def]
    """Intent macro-F1 as `rasa test nlu` measures it: a fallback counts as its underlying guess.

    The fallback rate is printed too, since for a client a fallback means a clarifying question.
    """
    examples = [e for e in load_data(str(path)).intent_examples if e.get("intent")]

    async def predict() -> list[str]:
        names = []
        for example in examples:
            result = await agent.parse_message(example.get("text"))
            if is_fallback_classifier_prediction(result):
                fallbacks.append(example.get("text"))
                result = undo_fallback_prediction(result)
            names.append(result["intent"]["name"])
        return names

    fallbacks: list[str] = []

    predicted = asyncio.run(predict())
    expected = [e.get("intent") for e in examples]
    print(f"\n{path.name}: {len(examples)} messages, {len(fallbacks)} went to the fallback")
    print(classification_report(expected, predicted, zero_division=0))
    return float(f1_score(expected, predicted, average="macro", zero_division=0))


def test_held_out_intent_macro_f1(agent) -> None:  # type: ignore[no-untyped-def]
    score = macro_f1(agent, HELD_OUT)
    print(f"held-out intent macro-F1: {score:.3f}")
    assert score >= 0.95


def test_dirty_held_out_intent_macro_f1(agent) -> None:  # type: ignore[no-untyped-def]
    score = macro_f1(agent, HELD_OUT_DIRTY)
    print(f"look-alike/typo held-out intent macro-F1: {score:.3f}")
    assert score >= 0.92


def test_stories_pass_with_fail_on_prediction_errors(tmp_path: Path) -> None:
    # `--e2e`: the stories' typed messages go through the trained NLU (intent and entities
    # must match), instead of their labels being taken as given.
    # `--stories` takes one path, so every tests/test_*stories.yml goes into one folder.
    stories = tmp_path / "stories"
    stories.mkdir()
    for path in (ROOT / "tests").glob("test_*stories.yml"):
        shutil.copy(path, stories / path.name)
    command = [sys.executable, "-m", "rasa", "test", "core", "--model", str(latest_model())]
    command += ["--stories", str(stories), "--e2e", "--fail-on-prediction-errors"]
    command += ["--out", str(tmp_path)]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    failed = tmp_path / "failed_test_stories.yml"
    report = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:] + report
