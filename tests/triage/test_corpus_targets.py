"""Acceptance test: the triage's targets on the held-out test part of the corpus.

The test part was written before the lexicon by an author who never saw it, and is never tuned
on: its messages are scored here, never printed. Targets: emergency recall 100 %, doctor-first
recall at least 98 %, the emergency reply on at most 2 % of benign (level none) messages.
`make triage-report` prints the full figures for both parts.
"""

from __future__ import annotations

import pytest

from tests.triage.report import (
    DOCTOR_RECALL,
    EMERGENCY_ON_BENIGN,
    EMERGENCY_RECALL,
    LEVELS,
    load,
    score,
)


@pytest.fixture(scope="module")
def test_part():  # type: ignore[no-untyped-def]
    return score("test")


def test_corpus_parts_are_labelled_with_the_agreed_levels() -> None:
    for part in ("test", "dev", "dev2", "dev3"):
        messages = load(part)
        assert messages and all(m["level"] in LEVELS for m in messages)
    assert len(load("test")) + len(load("dev")) >= 500


def test_emergency_recall(test_part) -> None:  # type: ignore[no-untyped-def]
    assert test_part.recall("emergency") >= EMERGENCY_RECALL, (
        f"emergency recall {test_part.recall('emergency'):.1%} on the test part"
    )


def test_doctor_first_recall(test_part) -> None:  # type: ignore[no-untyped-def]
    assert test_part.recall("doctor") >= DOCTOR_RECALL, (
        f"doctor-first recall {test_part.recall('doctor'):.1%} on the test part"
    )


def test_emergency_wording_on_benign_messages(test_part) -> None:  # type: ignore[no-untyped-def]
    assert test_part.emergency_on_benign() <= EMERGENCY_ON_BENIGN, (
        f"emergency reply on {test_part.emergency_on_benign():.1%} of benign messages"
    )
