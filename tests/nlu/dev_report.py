"""Intent macro-F1 and confusions on the development set (tests/nlu/dev_clients.yml).

Scored the way tests/nlu/test_unseen_clients.py scores the frozen set (a fallback counts as the
classifier's underlying guess), but here the misread messages are printed: this set is for tuning.
`python -m tests.nlu.dev_report` reads the newest model in models/; `--train` first trains an
NLU-only model from data/nlu into a scratch folder (quicker than `make train`, no dialogue part).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "tests" / "nlu" / "dev_clients.yml"


def train_nlu(out: Path) -> Path:
    """An NLU-only model of config.yml and data/nlu, in `out`."""
    from bot.rasa_adapter.serve import rasa_env

    command = [sys.executable, "-m", "rasa", "train", "nlu", "--out", str(out)]
    command += ["--nlu", str(ROOT / "data" / "nlu"), "--config", str(ROOT / "config.yml")]
    subprocess.run(command, cwd=ROOT, env=rasa_env(), check=True, capture_output=True)
    return max(out.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)


def report(model: Path, path: Path) -> float:
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers.fallback_classifier import (
        is_fallback_classifier_prediction,
        undo_fallback_prediction,
    )
    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.metrics import classification_report, f1_score

    agent = Agent.load(str(model))
    examples = [e for e in load_data(str(path)).intent_examples if e.get("intent")]

    async def predict() -> list[tuple[str, float, bool]]:
        results = []
        for example in examples:
            parsed = await agent.parse_message(example.get("text"))
            fell_back = is_fallback_classifier_prediction(parsed)
            if fell_back:
                parsed = undo_fallback_prediction(parsed)
            results.append((parsed["intent"]["name"], parsed["intent"]["confidence"], fell_back))
        return results

    results = asyncio.run(predict())
    expected = [e.get("intent") for e in examples]
    predicted = [name for name, _, _ in results]
    print(f"{path.name}: {len(examples)} messages, {sum(f for *_, f in results)} fell back")
    print(classification_report(expected, predicted, zero_division=0, digits=3))
    pairs = Counter((e, p) for e, p in zip(expected, predicted, strict=True) if e != p)
    print("confusions (expected -> predicted):")
    for (e, p), n in pairs.most_common():
        print(f"  {n:2d}  {e} -> {p}")
    print("misread:")
    for example, (name, confidence, _), want in zip(examples, results, expected, strict=True):
        if name != want:
            print(f"  [{want} -> {name} {confidence:.2f}] {example.get('text')}")
    score = float(f1_score(expected, predicted, average="macro", zero_division=0))
    print(f"dev intent macro-F1: {score:.3f}")
    return score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="train an NLU-only model first")
    parser.add_argument("--model", type=Path, help="a model archive (default: newest in models/)")
    parser.add_argument("--data", type=Path, default=DEV)
    args = parser.parse_args()
    if args.train:
        with tempfile.TemporaryDirectory() as scratch:
            report(train_nlu(Path(scratch)), args.data)
        return
    if args.model is None:
        from tests.support.bots import latest_model

        args.model = latest_model()
    report(args.model, args.data)


if __name__ == "__main__":
    main()
