"""The held-out NLU test set must not leak into the training data.

A test message that also appears (after lower-casing and whitespace folding)
among the training examples would inflate the measured F1, so this guards it.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TRAIN_DIR = ROOT / "data" / "nlu"
HELD_OUT = Path(__file__).resolve().parent / "held_out.yml"
DIRTY = Path(__file__).resolve().parent / "held_out_dirty.yml"

# [text](entity) or [text]{"entity": ...}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def _fold(text: str) -> str:
    return " ".join(_ANNOTATION.sub(r"\1", text).lower().split())


def _intent_examples(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs: list[tuple[str, str]] = []
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((block["intent"], line[2:].strip()))
    return pairs


def _training_texts() -> set[str]:
    return {
        _fold(text)
        for path in sorted(TRAIN_DIR.glob("*.yml"))
        for _, text in _intent_examples(path)
    }


def test_held_out_not_in_training() -> None:
    training = _training_texts()
    leaked = [text for _, text in _intent_examples(HELD_OUT) if _fold(text) in training]
    assert not leaked, f"held-out examples also present in training data: {leaked}"


def test_held_out_has_enough_examples_per_intent() -> None:
    counts: dict[str, int] = {}
    for intent, _ in _intent_examples(HELD_OUT):
        counts[intent] = counts.get(intent, 0) + 1
    # other_language is set by the language detector, not learnt: it is measured on
    # tests/clinic/language_samples.yml (bot/clinic/language.py).
    training_intents = {
        intent for path in TRAIN_DIR.glob("*.yml") for intent, _ in _intent_examples(path)
    } - {"other_language"}
    assert training_intents <= set(counts), training_intents - set(counts)
    assert all(n >= 12 for n in counts.values()), counts


def test_dirty_copy_matches_held_out() -> None:
    clean = [(intent, _fold(text)) for intent, text in _intent_examples(HELD_OUT)]
    dirty = _intent_examples(DIRTY)
    assert [intent for intent, _ in dirty] == [intent for intent, _ in clean]
