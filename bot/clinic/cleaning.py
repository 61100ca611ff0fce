"""Cleaning client text before anything reads it: the NLU sees plain Latin letters.

Clients paste from web pages and type on phones, so messages arrive with look-alike letters from
other scripts (Cyrillic "а", "ѕ"), Latin letters with hooks or accents ("ƭ", "ū"), stray markup and
odd spacing. Each is handled by a library made for it: Unicode NFKC (stdlib), confusable-homoglyphs
for letters that merely look Latin, anyascii for transliterating the remaining letters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii
from confusable_homoglyphs import confusables

MAX_MESSAGE_LENGTH = 1000

# Markup that has no meaning to a reader: BBCode-like [tag]/[/tag] pairs, HTML tags and entities.
_MARKUP = re.compile(r"\[/?[a-z][\w-]*\]|</?[a-z][^<>]{0,200}>|&(?:[a-z]+|#\d+);", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def _latin_for(char: str) -> str:
    """The plain Latin spelling of one non-ASCII letter or punctuation mark."""
    if not unicodedata.category(char).startswith("L"):
        # Quotes, dashes and the like become ASCII; symbols such as £ or emoji stay as they are.
        if unicodedata.category(char)[0] in "PZ":
            return anyascii(char) or " "
        return char
    found = confusables.is_confusable(char, preferred_aliases=["latin"], greedy=True)
    if found:
        for glyph in found[0]["homoglyphs"]:
            letter: str = glyph["c"]
            if letter.isascii() and letter.isalpha():
                return letter
    return anyascii(char) or char


def normalise(text: str, max_length: int | None = MAX_MESSAGE_LENGTH) -> str:
    """Return `text` as the NLU should read it: NFKC, Latin letters, no markup, single spaces.

    `max_length=None` keeps every word (the triage reads the whole message).
    """
    text = unicodedata.normalize("NFKC", text)
    # Format and control characters (zero-width joiners, right-to-left marks, NULs) carry no words.
    text = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
        for c in text
        if unicodedata.category(c) not in ("Cf", "Cs", "Co", "Cn")
    )
    text = "".join(c if c.isascii() else _latin_for(c) for c in text)
    text = _MARKUP.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    return text if max_length is None else text[:max_length].rstrip()
