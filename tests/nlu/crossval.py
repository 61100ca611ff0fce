"""5-fold cross-validation of candidate NLU pipelines on the same data, seeds fixed.

Run with `make crossval` (slow: five trainings per candidate). Prints a Markdown table and writes
it to results/crossval/table.md, to be copied into docs/nlu-evaluation.md so the choice of
pipeline in config.yml stays explained.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = {
    "rasa init default": ROOT / "tests" / "nlu" / "configs" / "rasa_init_default.yml",
    "ours (config.yml)": ROOT / "config.yml",
    "ours without spaCy": ROOT / "tests" / "nlu" / "configs" / "whitespace_cleaner.yml",
}
SEED = 42
ENTITY_EXTRACTORS = ("CRFEntityExtractor", "DIETClassifier")


async def evaluate(config: Path, folds: int, out: Path) -> dict[str, float]:
    from rasa.nlu.test import cross_validate
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.utils.io import read_config_file

    # Rasa shuffles folds with NumPy's global generator: seed it so every candidate sees the same.
    random.seed(SEED)
    np.random.seed(SEED)
    data = load_data(str(ROOT / "data" / "nlu"))
    started = time.monotonic()
    config_data = read_config_file(str(config))
    await cross_validate(data, folds, config_data, str(out), disable_plotting=True)
    seconds = time.monotonic() - started
    intents = json.loads((out / "intent_report.json").read_text())
    # Rasa writes `<Extractor>_report.json` for whichever entity extractor the pipeline has.
    entities: dict[str, dict[str, float]] = {}
    for extractor in ENTITY_EXTRACTORS:
        entities_file = out / f"{extractor}_report.json"
        if entities_file.exists():
            entities = json.loads(entities_file.read_text())
            break
    return {
        "intent_macro_f1": intents["macro avg"]["f1-score"],
        "intent_accuracy": intents.get("accuracy", intents.get("micro avg", {}).get("f1-score")),
        "entity_macro_f1": entities.get("macro avg", {}).get("f1-score", float("nan")),
        "minutes": seconds / 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="candidate names to run")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "crossval")
    args = parser.parse_args()
    rows = []
    for name, config in CANDIDATES.items():
        if args.only and name not in args.only:
            continue
        slug = name.replace(" ", "-").replace(",", "").replace("(", "").replace(")", "")
        scores = asyncio.run(evaluate(config, args.folds, args.out / slug))
        rows.append((name, config.relative_to(ROOT), scores))
        print(name, scores, flush=True)
    lines = [
        f"| candidate | config | intent macro-F1 | intent accuracy | entity macro-F1 "
        f"| minutes for {args.folds} folds |",
        "|---|---|---|---|---|---|",
    ]
    for name, config, s in rows:
        lines.append(
            f"| {name} | `{config}` | {s['intent_macro_f1']:.3f} | {s['intent_accuracy']:.3f} "
            f"| {s['entity_macro_f1']:.3f} | {s['minutes']:.1f} |"
        )
    table = "\n".join(lines)
    print(table)
    (args.out / "table.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
