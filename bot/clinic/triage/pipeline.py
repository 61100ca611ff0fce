"""Reading a message for the lexicon's concepts with medspaCy: targets, then their ConText.

The pipeline is the project's blank English (`bot.clinic.language`), then
1. spelling: every token gets a lemma key; an unknown word one letter (two, if long) away from a
   lexicon word reads as that word ("feaver", "numbnes", "apixiban", "osteoperosis").
   pyspellchecker's English word list says which words are unknown, and rapidfuzz finds the
   nearest lexicon word only, so a real word is never "corrected" into a symptom;
2. medspaCy's rule-based sentence splitter (PyRuSH), as there is no parser;
3. the lexicon's phrases as spaCy Matcher patterns, into a span group as medspaCy's TargetMatcher
   puts them (mentions may overlap: a swollen red calf is both swelling and a possible clot). The
   matcher is spaCy's own so the thousands of patterns are not schema-checked at every start (that
   was half the start-up time): tests/triage/test_triage.py checks each one instead;
4. medspaCy's ConText with the rules of data/triage/context.yml only. Its packaged rules were
   written for US clinical notes ("r/o", "patient was not"); clients write "no probs", "my mum",
   "years ago, all fine now", "does massage help with…", so the rules are our own, in data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from medspacy.context import ConTextRule
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spellchecker import SpellChecker

from bot.clinic.cleaning import normalise
from bot.clinic.english import english
from bot.clinic.triage import lexicon as lx
from bot.clinic.triage.model import Assessment, Context, Finding

GROUP = "triage"
MIN_CORRECTED_LENGTH = 4
TWO_EDITS_FROM = 7  # words this long may be two letters off ("osteoperosis" is one)
# pyspellchecker's list holds some misspellings too ("puled", "calfs"): a word seen fewer times
# than this in its corpus counts as unknown. Real words near symptoms ("fiver" 852, "flue" 207,
# "pane" 908) stay as written.
RARE_WORD_COUNT = 100
# pyspellchecker's count of the words a run-together pair is made of: "a" 49 M, "lot" 1.1 M,
# "fact" 178 k; a typo's pieces are far rarer ("feaver": "fe" 573, "aver" 356).
EVERYDAY_WORD_COUNT = 100_000


def _quiet_pyrush() -> None:
    """PyRuSH logs every sentence boundary at DEBUG through loguru; the bot logs only its own."""
    from loguru import logger

    logger.disable("PyRuSH")


class Reader:
    """One spaCy pipeline built from the lexicon; `assess` is safe to call from many threads."""

    def __init__(self, lexicon: lx.Lexicon) -> None:
        _quiet_pyrush()
        self.lexicon = lexicon
        self.nlp = english()
        lemmatizer: Any = self.nlp.get_pipe("lemmatizer")
        self._lemmas: Any = lemmatizer.lookups.get_table("lemma_lookup")
        self.nlp.remove_pipe("lemmatizer")  # lemmas are set by `_spell`, after correction
        self._speller = SpellChecker(distance=1)
        self._vocabulary = {w for w in lexicon.vocabulary() if len(w) >= MIN_CORRECTED_LENGTH}
        self._sentences: Any = self.nlp.add_pipe("medspacy_pyrush")
        self._targets = Matcher(self.nlp.vocab, validate=False)
        for concept in lexicon.concepts:
            self._targets.add(
                concept.id,
                lx.compile_phrases(concept.phrases, lexicon.words, self.key, concept.id),
            )
        self._exclusions = Matcher(self.nlp.vocab, validate=False)
        for concept in lexicon.concepts:
            if concept.not_when:
                self._exclusions.add(
                    concept.id,
                    lx.compile_phrases(concept.not_when, lexicon.words, self.key, concept.id),
                )
        self._someone_else = Matcher(self.nlp.vocab, validate=False)
        if lexicon.for_someone_else:
            self._someone_else.add(
                "for_someone_else",
                lx.compile_phrases(lexicon.for_someone_else, lexicon.words, self.key, "someone"),
            )
        context: Any = self.nlp.add_pipe(
            "medspacy_context",
            config={
                "rules": None,
                "input_span_type": "group",
                "span_group_name": GROUP,
                "span_attrs": None,
            },
        )
        rules = []
        for n, rule in enumerate(lexicon.context_rules):
            max_scope = rule.max_scope
            if max_scope is None and rule.category in (*lx.SCOPE_LIMITS, lx.TERMINATE):
                # medspaCy 1.3 only ends a scope at a terminator whose own scope starts or ends
                # inside it (util.tuple_overlaps misses containment): a sentence-wide terminator
                # would never end a four-word negation, so terminators get a one-word scope.
                max_scope = 1
            for phrase in rule.phrases:
                for i, pattern in enumerate(
                    lx.compile_phrase(phrase, lexicon.words, self.key, f"context: {phrase!r}")
                ):
                    rules.append(
                        ConTextRule(
                            f"{rule.category}:{n}:{phrase}:{i}",
                            rule.category,
                            pattern=pattern,
                            direction=rule.direction,
                            max_scope=max_scope,
                            terminated_by=set(rule.terminated_by) or None,
                        )
                    )
        context.add(rules)
        self._context = context
        self._concepts = {c.id: c for c in lexicon.concepts}

    # ------------------------------------------------------------------ words

    def _lemma(self, word: str) -> str:
        return str(self._lemmas.get(word, word))

    def key(self, written: str) -> list[str]:
        """The lemma keys of a lexicon word or phrase, as `_spell` sets them on a message."""
        return [self._lemma(t.norm_.lower()) for t in self.nlp.make_doc(written)]

    def _corrected(self, word: str) -> str:
        if (
            len(word) < MIN_CORRECTED_LENGTH
            or not word.isalpha()
            or word in self._vocabulary
            or self._speller[word] >= RARE_WORD_COUNT
            or self._run_together(word)
        ):
            return word
        allowed = 2 if len(word) >= TWO_EDITS_FROM else 1
        near = process.extract(
            word,
            self._vocabulary,
            scorer=DamerauLevenshtein.distance,
            score_cutoff=allowed,
            limit=None,
        )
        if not near:
            return word
        # Of equally near words, the one sharing the longest start: typos sit more often in the
        # middle or end of a word ("covd" is "covid", not "cold").
        return min(near, key=lambda found: (found[1], -_shared_start(word, found[0]), found[0]))[0]

    def _run_together(self, word: str) -> bool:
        """Two everyday words written as one ("alot", "aswell", "abit"): chat spelling, not a
        typo of a lexicon word ("hurts alot" is no clot)."""
        return any(
            (head == "a" or len(head) >= 2)
            and len(tail) >= 2
            and self._speller[head] >= EVERYDAY_WORD_COUNT
            and self._speller[tail] >= EVERYDAY_WORD_COUNT
            for head, tail in ((word[:i], word[i:]) for i in range(1, len(word) - 1))
        )

    def _spell(self, doc: Doc) -> Doc:
        for token in doc:
            word = self._corrected(token.norm_.lower())
            if word != token.norm_.lower():
                token.norm_ = word
            token.lemma_ = self._lemma(word)
        return doc

    # ------------------------------------------------------------------ reading

    def read(self, text: str) -> Doc:
        doc = self._spell(self.nlp.make_doc(normalise(text, max_length=None)))
        doc = self._sentences(doc)
        doc.spans[GROUP] = self._mentions(doc)
        result: Doc = self._context(doc)
        return result

    def _mentions(self, doc: Doc) -> list[Span]:
        """Every match of a concept's phrases, less those overlapping one of its `not_when`."""
        excluded: dict[str, list[tuple[int, int]]] = {}
        for match_id, start, end in self._exclusions(doc):
            excluded.setdefault(self.nlp.vocab.strings[match_id], []).append((start, end))
        mentions = []
        for match_id, start, end in self._targets(doc):
            label = self.nlp.vocab.strings[match_id]
            if not any(s < end and start < e for s, e in excluded.get(label, ())):
                mentions.append(Span(doc, start, end, label=label))
        return mentions

    def _context_of(self, span: Span, someone_else: bool) -> Context:
        concept = self._concepts[span.label_]
        # A trigger inside the mention is part of it ("don't make it to the loo"); medspaCy 1.3
        # skips only triggers that stick out of it (util.tuple_overlaps misses containment).
        categories = {
            m.category
            for m in span._.modifiers
            if not (span.start <= m.modifier_span[0] and m.modifier_span[1] <= span.end)
        }
        categories |= _straddling(span)
        if lx.NEGATED in categories:
            return Context.NEGATED
        if lx.HYPOTHETICAL in categories:
            return Context.HYPOTHETICAL
        if lx.OTHER_PERSON in categories and not (concept.any_person or someone_else):
            return Context.OTHER_PERSON
        if lx.HISTORICAL in categories and not concept.history_counts:
            return Context.HISTORICAL
        return Context.AFFIRMED

    def assess(self, text: str) -> Assessment:
        doc = self.read(text)
        someone_else = bool(self._someone_else(doc))
        mentions = sorted(doc.spans[GROUP], key=lambda s: (s.start, -s.end))
        read = [(span, self._context_of(span, someone_else)) for span in mentions]
        affirmed = {span.label_ for span, context in read if context is Context.AFFIRMED}
        findings: list[Finding] = []
        for span, context in read:
            concept = self._concepts[span.label_]
            if concept.needs is not None and concept.needs not in affirmed:
                if concept.otherwise is None:
                    continue
                concept = self._concepts[concept.otherwise]
            if concept.helper:
                continue
            findings.append(Finding(concept.id, concept.level, span.text, context, concept.advice))
        return Assessment(tuple(_one_per_concept_and_context(findings)))


def _shared_start(a: str, b: str) -> int:
    """How many letters two words share at their start."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _straddling(span: Span) -> set[str]:
    """Categories of the forward triggers that begin before or with a mention and end inside it.

    medspaCy skips every trigger overlapping its target, so in "I've not had any surgery" the
    trigger "not had" would not negate the mention "had any surgery". Such a trigger counts when
    the words it shares with the mention hold no negation: in "I haven't had a wee since" the
    mention itself is about the "not" ("n't had a wee"), so the trigger is part of it. A trigger
    that begins with the mention counts only if it names someone else ("my cat's op").
    """
    found: set[str] = set()
    for modifier in span.doc._.context_graph.modifiers:
        start, end = modifier.modifier_span
        if not start <= span.start < end < span.end:
            continue
        if start == span.start and modifier.category != lx.OTHER_PERSON:
            continue  # "came off my bike" is no "came off my [tablets]"
        if str(modifier.direction).upper() not in ("FORWARD", "BIDIRECTIONAL"):
            continue
        if modifier.scope_span[1] <= end:
            continue
        if any(token.lemma_ in lx.NEGATIONS for token in span.doc[span.start : end]):
            continue
        found.add(modifier.category)
    return found


def _one_per_concept_and_context(findings: Iterable[Finding]) -> list[Finding]:
    """Overlapping matches of one phrase collapse to the shortest; each context is kept."""
    kept: dict[tuple[str, Context], Finding] = {}
    for finding in findings:
        key = (finding.concept, finding.context)
        if key not in kept or len(finding.phrase) < len(kept[key].phrase):
            kept[key] = finding
    return list(kept.values())
