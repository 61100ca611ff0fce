"""Score the triage on the labelled corpus: recall and precision per level, and the confusion table.

`make triage-report` prints the test part first (written before the lexicon, never tuned on), then
the two development parts (by two authors). Only the development parts' misses can be listed
(`--misses`): the test part's messages are scored, never shown, so nobody tunes on them by accident.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.clinic.triage import Level, assess

HERE = Path(__file__).resolve().parent
PARTS = {
    "test": HERE / "corpus_test.yml",
    "dev": HERE / "corpus_dev.yml",
    "dev2": HERE / "corpus_dev2.yml",
    "dev3": HERE / "corpus_dev3.yml",
}
DEV_PARTS = ("dev", "dev2", "dev3")
LEVELS = [level.value for level in Level]
# The clinic's targets on the test part. Not all are met yet (README, Safety): the report says
# which, and tests/triage/test_corpus_targets.py holds the triage to the figures measured when
# the lexicon last changed (FLOOR_*), so it can only get closer to them.
EMERGENCY_RECALL = 1.0
DOCTOR_RECALL = 0.98
EMERGENCY_ON_BENIGN = 0.02
# Measured on 2026-12-01 (104 of 110 emergencies, 80 of 84 doctor-first, 4 of 121 benign).
FLOOR_EMERGENCY_RECALL = 104 / 110
FLOOR_DOCTOR_RECALL = 80 / 84
FLOOR_EMERGENCY_ON_BENIGN = 4 / 121


@dataclass
class Score:
    part: str
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (expected, predicted)
    # (expected, got, text): kept for the development part only, and never in the repr, so a
    # failing assertion can't print a test-part message.
    misses: list[tuple[str, str, str]] = field(default_factory=list, repr=False)

    def total(self, expected: str | None = None, predicted: str | None = None) -> int:
        return sum(
            n
            for (e, p), n in self.confusion.items()
            if (expected is None or e == expected) and (predicted is None or p == predicted)
        )

    def recall(self, level: str) -> float | None:
        expected = self.total(expected=level)
        return self.confusion[(level, level)] / expected if expected else None

    def precision(self, level: str) -> float | None:
        predicted = self.total(predicted=level)
        return self.confusion[(level, level)] / predicted if predicted else None

    def emergency_on_benign(self) -> float:
        """Share of messages labelled level none that got the emergency reply."""
        benign = self.total(expected="none")
        return self.confusion[("none", "emergency")] / benign if benign else 0.0


def load(part: str) -> list[dict]:
    return yaml.safe_load(PARTS[part].read_text(encoding="utf-8"))["messages"]


def score(part: str) -> Score:
    result = Score(part)
    for message in load(part):
        expected = str(message["level"])
        got = assess(str(message["text"])).level.value
        result.confusion[(expected, got)] += 1
        if got != expected and part in DEV_PARTS:
            result.misses.append((expected, got, str(message["text"])))
    return result


def _percent(value: float | None) -> str:
    return "   -  " if value is None else f"{value * 100:5.1f}%"


def render(result: Score) -> str:
    lines = [f"## {result.part} part: {result.total()} messages", ""]
    lines.append(f"{'level':<10} {'messages':>8} {'recall':>7} {'precision':>9}")
    for level in LEVELS:
        lines.append(
            f"{level:<10} {result.total(expected=level):>8} {_percent(result.recall(level)):>7} "
            f"{_percent(result.precision(level)):>9}"
        )
    lines.append(
        f"emergency wording on benign (level none) messages: "
        f"{result.confusion[('none', 'emergency')]}/{result.total(expected='none')} = "
        f"{_percent(result.emergency_on_benign()).strip()}"
    )
    lines += ["", "confusion (rows: labelled level, columns: triage level)"]
    lines.append(f"{'':<10}" + "".join(f"{level:>10}" for level in LEVELS))
    for expected in LEVELS:
        row = "".join(f"{result.confusion[(expected, got)]:>10}" for got in LEVELS)
        lines.append(f"{expected:<10}{row}")
    return "\n".join(lines)


def target_lines(result: Score) -> list[str]:
    """Each target of the test part, met or not."""
    emergency = result.recall("emergency") or 0.0
    doctor = result.recall("doctor") or 0.0
    benign = result.emergency_on_benign()
    checks = [
        (
            "emergency recall",
            emergency,
            f"= {_percent(EMERGENCY_RECALL).strip()}",
            emergency >= EMERGENCY_RECALL,
        ),
        (
            "doctor-first recall",
            doctor,
            f">= {_percent(DOCTOR_RECALL).strip()}",
            doctor >= DOCTOR_RECALL,
        ),
        (
            "emergency on benign",
            benign,
            f"<= {_percent(EMERGENCY_ON_BENIGN).strip()}",
            benign <= EMERGENCY_ON_BENIGN,
        ),
    ]
    return [
        f"target {name} {target}: {_percent(value).strip()} ({'met' if met else 'NOT met'})"
        for name, value, target, met in checks
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--misses", action="store_true", help="also list the development parts' misses"
    )
    parser.add_argument(
        "--part", choices=list(PARTS), action="append", help="only this part (default: all)"
    )
    args = parser.parse_args()
    for part in args.part or list(PARTS):
        result = score(part)
        print(render(result))
        if part == "test":
            print("\n" + "\n".join(target_lines(result)))
        if part in DEV_PARTS and args.misses:
            print(f"\n{part} misses (labelled -> triage):")
            for expected, got, text in result.misses:
                print(f"  {expected:>9} -> {got:<9} {text}")
        print()


if __name__ == "__main__":
    main()
