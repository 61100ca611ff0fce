"""Clinical triage of every client message: which concerns it mentions, and in what context.

Concepts (red flags, contraindications, caution signs) come from a reviewed lexicon in
data/triage/concepts.yml, each naming the source it rests on (data/sources/). Every mention is
read with ConText (Harkema et al. 2009, via medspaCy) scoped to its clause: "no fever but numb
legs" negates only the fever; "had a fall years ago, fine now" is historical; "does massage help
with fever?" is a general question; "my dad had a fever" is about someone else. Only affirmed
mentions are concerns. The whole message is read, however long: no length cap applies here.

Usage: `assess(text) -> Assessment` (findings, concerns, level); see `model`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clinic.triage.lexicon import Lexicon, LexiconError, load_lexicon
from bot.clinic.triage.model import Assessment, Context, Finding, Level, most_urgent_first

if TYPE_CHECKING:  # the reader imports medspaCy (seconds): only code that reads text loads it
    from bot.clinic.triage.pipeline import Reader

DATA = Path(__file__).resolve().parents[3] / "data"
CONCEPTS_FILE = DATA / "triage" / "concepts.yml"
CONTEXT_FILE = DATA / "triage" / "context.yml"
SOURCES_DIR = DATA / "sources"

__all__ = [
    "Assessment",
    "Context",
    "Finding",
    "Level",
    "Lexicon",
    "LexiconError",
    "assess",
    "get_lexicon",
    "most_urgent_first",
    "reader",
]


@lru_cache(maxsize=1)
def get_lexicon() -> Lexicon:
    return load_lexicon(CONCEPTS_FILE, CONTEXT_FILE, SOURCES_DIR)


@lru_cache(maxsize=1)
def reader() -> Reader:
    """Built once per process (a few seconds): the pipeline and its compiled patterns."""
    from bot.clinic.triage.pipeline import Reader

    return Reader(get_lexicon())


def assess(text: str) -> Assessment:
    """Every concern `text` mentions, each with its context; the level of the most urgent."""
    return reader().assess(text)
