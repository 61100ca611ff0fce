"""The reviewed lexicon (data/triage/concepts.yml) and ConText rules (data/triage/context.yml).

Both files are data a clinician can read: words and short phrases, never regular expressions.
A phrase is compiled into spaCy token patterns matched on lemmas, so "leg" also finds "legs" and
"fall" finds "fell". The phrase notation (also explained at the top of each file):

- `word` one word; written as in the message ("can't" = "cant" = "cannot" = "can not").
- `a|b|c` any one of these (an alternative may be several words: `pins and needles|numb`).
- `{name}` any one of the word list `name` from the `words:` section.
- `x?` `{name}?` optional.
- `~` up to three words in between, never across a clause boundary (a full stop, "but"…) nor
  a negation ("my legs are fine, no tingling" is no numb leg); `~6` up to six.
- `#` a number; `=AF` this exact spelling, capitals included (for abbreviations);
  `^been` this word form only, not its other forms ("been", not "am" or "is").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.clinic.triage.model import Level

# Clause boundaries: a gap (`~`) in a phrase never crosses these, so "no fever but numb legs" and
# "legs are fine. Numb…" stay apart. The ConText rules end a modifier's scope at the same words.
CLAUSE_BREAKS = (".", "?", "!", ";", "but", "however", "although", "though", "whereas", "except")
DEFAULT_GAP = 3
# A gap never skips a negation either: "calf isn't red" or "legs are fine, no tingling" must not
# read as one mention with its own "not" inside (a trigger inside a mention does not modify it).
NEGATIONS = ("no", "not", "never", "without", "nor", "neither", "none", "nothing")

# ConText categories of data/triage/context.yml and what each means for a finding.
NEGATED = "NEGATED_EXISTENCE"
HISTORICAL = "HISTORICAL"
HYPOTHETICAL = "HYPOTHETICAL"
OTHER_PERSON = "OTHER_PERSON"
TERMINATE = "TERMINATE"
PSEUDO = "PSEUDO"
# Scope limits only (they modify nothing): the client speaking of themself ("I", "my"), a clause
# break (a comma, "and"), and words that make it current ("now", "this week").
SCOPE_LIMITS = ("SELF", "SELF_NOW", "CLAUSE", "CLAUSE_NEW")
CATEGORIES = (NEGATED, HISTORICAL, HYPOTHETICAL, OTHER_PERSON, TERMINATE, PSEUDO, *SCOPE_LIMITS)
DIRECTIONS = ("FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO")


class LexiconError(ValueError):
    """The lexicon or the context rules are malformed; the message says which entry."""


Pattern = list[dict[str, Any]]
Key = Callable[[str], list[str]]  # a written word -> the keys (lemmas) of its tokens


@dataclass(frozen=True)
class FaqTopic:
    """The FAQ entry that answers a general question about a concept ("does massage help with
    fever?"): its intent and the entity value that selects it (data/faq.yml)."""

    intent: str
    entity: str
    value: str


@dataclass(frozen=True)
class Concept:
    id: str
    level: Level
    advice: str
    source: str
    phrases: tuple[str, ...]
    not_when: tuple[str, ...] = ()
    # "counts": a past event is the concern itself ("I had a DVT years ago"), so a historical
    # context does not clear it. "resolves" (default): "broke my ankle as a kid" raises nothing.
    history_counts: bool = False
    # "anyone": the mention concerns whoever comes for the massage ("my son is 13").
    any_person: bool = False
    # Only together with an affirmed mention of `needs` in the same message (fever + back pain);
    # otherwise the mention counts as `otherwise` (a plain fever: illness, postpone), if given.
    needs: str | None = None
    otherwise: str | None = None
    faq: FaqTopic | None = None

    @property
    def helper(self) -> bool:
        """A level-none concept only other concepts refer to (`needs`); never reported."""
        return self.level is Level.NONE


@dataclass(frozen=True)
class ContextRule:
    category: str
    direction: str
    phrases: tuple[str, ...]
    max_scope: int | None = None
    terminated_by: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Lexicon:
    words: Mapping[str, tuple[str, ...]]
    concepts: tuple[Concept, ...]
    context_rules: tuple[ContextRule, ...] = ()
    # Phrases saying the massage is for someone else ("booking for my dad"): what the client
    # says about that person is then about the client-to-be.
    for_someone_else: tuple[str, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)

    def concept(self, concept_id: str) -> Concept:
        for concept in self.concepts:
            if concept.id == concept_id:
                return concept
        raise KeyError(concept_id)

    def vocabulary(self) -> set[str]:
        """Every word the lexicon spells out (lower case): the targets of spelling correction."""
        phrases = [p for c in self.concepts for p in c.phrases]
        phrases += [w for ws in self.words.values() for w in ws]
        found: set[str] = set()
        for phrase in phrases:
            for element in phrase.replace("_", " ").split():
                for word in element.rstrip("?").split("|"):
                    if word.startswith("{"):
                        continue  # a word list: its words are read from `words`
                    word = word.strip("=^").lower()
                    if word.isalpha():
                        found.add(word)
        return found


# --------------------------------------------------------------------------- loading


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise LexiconError(f"{where}: expected a list of phrases")
    return tuple(x.strip() for x in raw)


def load_lexicon(
    concepts_file: Path, context_file: Path, sources_dir: Path | None = None
) -> Lexicon:
    try:
        raw = yaml.safe_load(concepts_file.read_text(encoding="utf-8")) or {}
        raw_context = yaml.safe_load(context_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise LexiconError(f"cannot read the triage lexicon: {error}") from error
    words = {
        str(name): _strings(values, f"{concepts_file}: words.{name}")
        for name, values in (raw.get("words") or {}).items()
    }
    concepts = []
    for index, entry in enumerate(raw.get("concepts") or []):
        where = f"{concepts_file}: concepts[{index}]"
        try:
            concept = Concept(
                id=str(entry["id"]),
                level=Level(entry["level"]),
                advice=str(entry.get("advice") or entry["id"]),
                source=str(entry.get("source") or ""),
                phrases=_strings(entry.get("phrases"), f"{where}.phrases"),
                not_when=_strings(entry.get("not_when"), f"{where}.not_when"),
                history_counts=entry.get("history", "resolves") == "counts",
                any_person=entry.get("person", "client") == "anyone",
                needs=entry.get("needs"),
                otherwise=entry.get("otherwise"),
                faq=FaqTopic(**entry["faq"]) if entry.get("faq") else None,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise LexiconError(f"{where}: {error!r}") from error
        if not concept.phrases:
            raise LexiconError(f"{where} ({concept.id}): no phrases")
        if not concept.helper and not concept.source:
            raise LexiconError(f"{where} ({concept.id}): every concept names its source")
        concepts.append(concept)
    ids = [c.id for c in concepts]
    if len(set(ids)) != len(ids):
        raise LexiconError(f"{concepts_file}: a concept id is used twice")
    for concept in concepts:
        for other in (concept.needs, concept.otherwise):
            if other is not None and other not in ids:
                raise LexiconError(f"{concept.id}: refers to unknown concept {other!r}")
    sources = {}
    if sources_dir is not None:
        for concept in concepts:
            if concept.helper:
                continue
            path = sources_dir / f"{concept.source}.txt"
            if not path.exists():
                raise LexiconError(
                    f"{concept.id}: source {concept.source!r} is not in {sources_dir}"
                )
            sources[concept.id] = concept.source
    rules = []
    for index, entry in enumerate(raw_context.get("context_rules") or []):
        where = f"{context_file}: context_rules[{index}]"
        category = str(entry.get("category", ""))
        direction = str(entry.get("direction", "FORWARD"))
        if category not in CATEGORIES or direction not in DIRECTIONS:
            raise LexiconError(f"{where}: unknown category or direction")
        rules.append(
            ContextRule(
                category=category,
                direction=direction,
                phrases=_strings(entry.get("phrases"), f"{where}.phrases"),
                max_scope=entry.get("max_scope"),
                terminated_by=frozenset(entry.get("terminated_by") or ()),
            )
        )
    return Lexicon(
        words=words,
        concepts=tuple(concepts),
        context_rules=tuple(rules),
        for_someone_else=_strings(raw_context.get("for_someone_else"), "for_someone_else"),
        sources=sources,
    )


# --------------------------------------------------------------------------- phrase notation


def _alternatives(element: str, words: Mapping[str, tuple[str, ...]], where: str) -> list[str]:
    found: list[str] = []
    for part in element.split("|"):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if name not in words:
                raise LexiconError(f"{where}: unknown word list {{{name}}}")
            found.extend(words[name])
        else:
            found.append(part)
    return [a.replace("_", " ") for a in found]


def _slot(alternatives: list[str], key: Key, where: str) -> list[Pattern]:
    """The alternatives for one position -> token-pattern variants (one-word lemmas merged)."""
    single: set[str] = set()
    variants: list[Pattern] = []
    for alternative in alternatives:
        if alternative.startswith("=") and len(alternative) > 1:
            variants.append([{"ORTH": alternative[1:]}])
            continue
        keys = key(alternative)
        if not keys:
            raise LexiconError(f"{where}: empty alternative {alternative!r}")
        if len(keys) == 1:
            single.add(keys[0])
        else:
            variants.append([{"LEMMA": k} for k in keys])
    if single:
        words = sorted(single)
        variants.insert(0, [{"LEMMA": words[0]} if len(words) == 1 else {"LEMMA": {"IN": words}}])
    return variants


def compile_phrase(
    phrase: str, words: Mapping[str, tuple[str, ...]], key: Key, where: str = "phrase"
) -> list[Pattern]:
    """One phrase of the notation above -> the spaCy Matcher patterns it stands for."""
    positions: list[list[Pattern]] = []
    for element in phrase.split():
        if element.startswith("~"):
            size = int(element[1:] or DEFAULT_GAP)
            gap = {"LEMMA": {"NOT_IN": [*CLAUSE_BREAKS, *NEGATIONS]}, "OP": "?"}
            positions.append([[dict(gap) for _ in range(size)]])
            continue
        if element == "#":
            positions.append([[{"LIKE_NUM": True}]])
            continue
        if element.startswith("^") and len(element) > 1:
            forms = sorted({w.lower() for w in element[1:].split("|")})
            positions.append([[{"NORM": {"IN": forms}}]])
            continue
        optional = element.endswith("?") and len(element) > 1
        if optional:
            element = element[:-1]
        variants = _slot(_alternatives(element, words, where), key, where)
        if optional:
            variants.append([])
        positions.append(variants)
    if not positions:
        raise LexiconError(f"{where}: empty phrase")
    patterns = []
    for combination in itertools.product(*positions):
        pattern = [token for part in combination for token in part]
        if any(t.get("OP") != "?" for t in pattern):
            patterns.append(pattern)
    return patterns


def compile_phrases(
    phrases: Iterable[str], words: Mapping[str, tuple[str, ...]], key: Key, where: str
) -> list[Pattern]:
    patterns: list[Pattern] = []
    for phrase in phrases:
        patterns.extend(compile_phrase(phrase, words, key, f"{where}: {phrase!r}"))
    return patterns
