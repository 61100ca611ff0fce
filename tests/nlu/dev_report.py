"""Intent macro-F1 and confusions on the development set (tests/nlu/dev_clients.yml).

Scored the way tests/nlu/test_unseen_clients.py scores the frozen set (a fallback counts as the
classifier's underlying guess), but here the misread messages are printed: this set is for tuning.
`python -m tests.nlu.dev_report` reads the newest model in models/; `--train` first trains an
NLU-only model from data/nlu into a scratch folder (quicker than `make train`, no dialogue part).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "tests" / "nlu" / "dev_clients.yml"
# Its twin with look-alike letters and typos: `python tests/nlu/make_dirty_copy.py dev_clients.yml
# dev_clients_dirty.yml` (the held-out set's seed and rates).
DEV_DIRTY = ROOT / "tests" / "nlu" / "dev_clients_dirty.yml"


def train_nlu(out: Path, config: Path = ROOT / "config.yml") -> Path:
    """An NLU-only model of `config` and data/nlu, in `out`."""
    from bot.rasa_adapter.serve import rasa_env

    command = [sys.executable, "-m", "rasa", "train", "nlu", "--out", str(out)]
    command += ["--nlu", str(ROOT / "data" / "nlu"), "--config", str(config)]
    subprocess.run(command, cwd=ROOT, env=rasa_env(), check=True, capture_output=True)
    return max(out.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)


def report(model: Path, paths: list[Path], quiet: bool = False) -> list[float]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [score(agent, path, quiet) for path in paths]


def score(agent, path: Path, quiet: bool) -> float:  # type: ignore[no-untyped-def]
    from rasa.nlu.classifiers.fallback_classifier import (
        is_fallback_classifier_prediction,
        undo_fallback_prediction,
    )
    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.metrics import classification_report, f1_score

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
        if name != want and not quiet:
            print(f"  [{want} -> {name} {confidence:.2f}] {example.get('text')}")
    macro = float(f1_score(expected, predicted, average="macro", zero_division=0))
    print(f"{path.name} intent macro-F1: {macro:.3f}")
    return macro


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="train an NLU-only model first")
    parser.add_argument("--model", type=Path, help="a model archive (default: newest in models/)")
    parser.add_argument("--data", type=Path, nargs="*", default=[DEV, DEV_DIRTY])
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--out", type=Path, help="keep the model trained by --train here")
    parser.add_argument("--quiet", action="store_true", help="no list of misread messages")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    if args.train:
        with tempfile.TemporaryDirectory() as scratch:
            out = args.out or Path(scratch)
            out.mkdir(parents=True, exist_ok=True)
            scores = report(train_nlu(out, args.config), args.data, args.quiet)
    else:
        if args.model is None:
            from tests.support.bots import latest_model

            args.model = latest_model()
        scores = report(args.model, args.data, args.quiet)
    print(" / ".join(f"{path.name} {s:.3f}" for path, s in zip(args.data, scores, strict=True)))


if __name__ == "__main__":
    main()
