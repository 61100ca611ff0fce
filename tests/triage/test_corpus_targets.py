"""The triage on the held-out test part of the corpus.

The test part was written before the lexicon by an author who never saw it, and is never tuned
on: its messages are scored here, never printed. The clinic's targets (emergency recall 100 %,
doctor-first recall at least 98 %, the emergency reply on at most 2 % of benign messages) are not
all met yet; `make triage-report` says which, and the README's Safety section gives the figures.
These tests hold the triage to the figures measured when the lexicon last changed (`FLOOR_*` in
tests/triage/report.py): a change to the lexicon or the ConText rules may raise them, never
lower them.
"""

from __future__ import annotations

import pytest

from tests.triage.report import (
    DOCTOR_RECALL,
    EMERGENCY_ON_BENIGN,
    EMERGENCY_RECALL,
    FLOOR_DOCTOR_RECALL,
    FLOOR_EMERGENCY_ON_BENIGN,
    FLOOR_EMERGENCY_RECALL,
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


def test_floors_lie_on_the_way_to_the_targets() -> None:
    assert 0 < FLOOR_EMERGENCY_RECALL <= EMERGENCY_RECALL
    assert FLOOR_DOCTOR_RECALL <= DOCTOR_RECALL
    assert 1 > FLOOR_EMERGENCY_ON_BENIGN >= EMERGENCY_ON_BENIGN


def test_emergency_recall_never_drops(test_part) -> None:  # type: ignore[no-untyped-def]
    assert test_part.recall("emergency") >= FLOOR_EMERGENCY_RECALL, (
        f"emergency recall {test_part.recall('emergency'):.1%} on the test part, "
        f"below the {FLOOR_EMERGENCY_RECALL:.1%} measured before"
    )


def test_doctor_first_recall_never_drops(test_part) -> None:  # type: ignore[no-untyped-def]
    assert test_part.recall("doctor") >= FLOOR_DOCTOR_RECALL, (
        f"doctor-first recall {test_part.recall('doctor'):.1%} on the test part, "
        f"below the {FLOOR_DOCTOR_RECALL:.1%} measured before"
    )


def test_emergency_wording_on_benign_messages_never_rises(test_part) -> None:  # type: ignore[no-untyped-def]
    assert test_part.emergency_on_benign() <= FLOOR_EMERGENCY_ON_BENIGN, (
        f"emergency reply on {test_part.emergency_on_benign():.1%} of benign messages, "
        f"above the {FLOOR_EMERGENCY_ON_BENIGN:.1%} measured before"
    )
