"""Every health claim can be traced: each `source:` names a file in data/sources/."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clinic.faq import load_faq_file
from bot.clinic.triage import get_lexicon

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "data" / "sources"


def test_every_faq_source_is_a_source_file_or_the_clinic() -> None:
    missing = [
        (item.id, name)
        for item in load_faq_file(ROOT / "data" / "faq.yml")
        for name in item.source.split(", ")
        if name != "clinic" and not (SOURCES / f"{name}.txt").is_file()
    ]
    assert missing == []


def test_health_answers_rest_on_a_source_file() -> None:
    unsourced = [
        item.id
        for item in load_faq_file(ROOT / "data" / "faq.yml")
        if item.health_advice and item.source.split(", ") == ["clinic"]
    ]
    assert unsourced == []


def test_no_research_claims_without_a_source() -> None:
    faq = (ROOT / "data" / "faq.yml").read_text(encoding="utf-8").lower()
    assert "small studies" not in faq


def test_every_lexicon_concept_names_a_source_file() -> None:
    for concept in get_lexicon().concepts:
        if not concept.helper:
            assert (SOURCES / f"{concept.source}.txt").is_file(), concept.id


@pytest.mark.parametrize("path", sorted(SOURCES.glob("*.txt")), ids=lambda p: p.stem)
def test_added_public_sources_say_what_and_where(path: Path) -> None:
    if path.stem in {"back-massage-benefits", "massage-therapy-notes"}:  # the clinic's articles
        return
    head = path.read_text(encoding="utf-8").splitlines()[:3]
    assert head[0].startswith("Title: ") and head[1].startswith("Address: ")
