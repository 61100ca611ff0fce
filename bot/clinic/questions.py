"""What a client's message asks, read the way a receptionist would: every question in it, and a
follow-up ("what about sunday?", "and for sleep?") against the topic talked about last.

The NLU gives one intent and the entities its model found. Two things it can't do are done here:
- a message may ask two things ("does it help with sciatica and how much is it"): clinic details
  (price, hours, payment, access…) are always a question of their own, so each one found is
  answered after the main question;
- a follow-up names only the new detail: it is answered under the last topic's intent.
Clinic details and weekdays are also spotted by the phrases below, because the entity model
misses short forms ("how much is it?", "do you take card"): a fixed list of the clinic's own
words is more reliable there than a statistical model trained on a few examples, and these
phrases are the whole vocabulary of the question.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.clinic.topics import ENTITY_HOME, ENTITY_VALUES, FAQ_TOPICS

FOLLOW_UP = "follow_up"
MASSAGE_TYPES = "ask_massage_types"
# A follow-up with nothing before it to follow ("what about that one?" as a first message).
UNCLEAR_FOLLOW_UP = (
    "Sorry, I'm not sure what you're asking about. Could you tell me a bit more? For example: "
    '"What are your opening hours?" or "Does massage help lower back pain?"'
)

# Clinic details: each is a question of its own wherever it appears in a message.
_INFO_PHRASES: dict[str, str] = {
    "price": r"how much|prices?|pricing|costs?|costing|charges?|fees?|rates|expensive"
    r"|cheap(?:er|est)?|£\s?\d*|quid",
    "payment": r"(?:credit |debit )?cards?|cash|contactless|apple ?pay|google ?pay|paypal|amex"
    r"|pay(?:ing)? (?:by|with|in|on the day)|payment(?: methods?)?|bank transfer",
    "hours": r"opening (?:hours|times)|(?:are|is) (?:you|the clinic|it) open|you open|do you close"
    r"|closing time|what time do you|hours",
    "location": r"(?<!email )(?<!e-mail )address|where (?:are|is) (?:you|the clinic|your clinic|it)"
    r"|where(?:'s| is) the (?:clinic|centre|center)|located|location|postcode|directions"
    r"|find you|get to you",
    "parking": r"park|parking|car park",
    "phone": r"phone number|telephone|landline|contact number|number (?:to|i can) (?:call|ring)"
    r"|e-?mail"
    r"|call you|ring you",
    "access": r"wheelchairs?|step[- ]free|stairs|steps|disabled|accessible|accessibility|ramp"
    r"|mobility scooter|pram|buggy|(?:is there|have you got|do you have) an? (?:lift|elevator)",
    "duration": r"how long (?:is|are|does|do|will) (?:a |the |each |your |my )?(?:session|massage"
    r"|appointment|treatment)s?(?: (?:last|take))?|session (?:length|duration)s?"
    r"|how many minutes",
    "website": r"web ?sites?|web ?page|home ?page",
}
_INFO = {
    name: re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE)
    for name, pattern in _INFO_PHRASES.items()
}

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(
    r"\b(monday|tuesday|tues|wednesday|weds|thursday|thurs|friday|saturday|sunday|weekends?)s?\b",
    re.IGNORECASE,
)
_SHORT_DAY = {"tues": "tuesday", "weds": "wednesday", "thurs": "thursday"}

# Where on the back, said relative to the last region ("what about lower down?") or as a whole.
_REGION_PHRASES: dict[str, str] = {
    "lower": r"lower down|further down|down low|bottom of (?:my|the) back|small of (?:my|the) back",
    "upper": r"higher up|further up|top of (?:my|the) back",
    "mid": r"in the middle|middle bit|middle of (?:my|the) back",
    "whole": r"(?:parts?|sections?|areas?|regions?|bits?) of (?:the|your|my|a) back"
    r"|three (?:sections|parts|areas|regions)|(?:whole|full|entire) back|all of (?:my|the) back",
}
_REGION = {
    name: re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)
    for name, pattern in _REGION_PHRASES.items()
}

# Clinic details answered by their own entries: a second question, never folded into the first.
_SEPARATE_QUESTIONS = ("info_type", "weekday")
# Clinic details a kind of treatment has its own answer for ("how much is a sports massage?").
_PER_TREATMENT = ("price", "duration")

# Words that carry no question of their own around a clinic detail ("and how long is each
# session, please?"): English function words and chat fillers. Written out rather than taken
# from spaCy's STOP_WORDS because importing spaCy costs the action server, which asks this on
# every FAQ question, about 10 s and 440 MB (measured: 2.4 s / 68 MB without it), and
# bot.clinic.language keeps spaCy out of it for that reason; these 124 words cover what
# surrounds a clinic-detail question.
_NOTHING_ELSE = frozenset({
    "a", "about", "again", "all", "also", "am", "an", "and", "any", "anything", "are", "as", "at",
    "be", "been", "but", "by", "can", "could", "did", "do", "does", "doing", "each", "either",
    "else", "for", "from", "get", "got", "had", "has", "have", "how", "i", "i'd", "i'm", "if",
    "in", "into", "is", "it", "it's", "its", "just", "me", "might", "more", "much", "my", "need",
    "no", "nor", "not", "now", "of", "oh", "ok", "okay", "on", "one", "ones", "or", "other", "our",
    "please", "pls", "plz", "really", "should", "so", "some", "sorry", "than", "thanks", "thank",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too",
    "uh", "um", "us", "very", "was", "we", "well", "were", "what", "what's", "whats", "when",
    "where", "which", "while", "who", "why", "will", "with", "would", "yeah", "yes", "yet", "you",
    "your", "you're", "hi", "hello", "hey", "cheers", "hmm", "tell", "let", "know", "like",
    "massage", "massages",
})  # fmt: skip
_WORDS = re.compile(r"[a-z]+(?:'[a-z]+)?")


# An unsure classifier's best guess is still answered next to a clinic detail from this much.
MIN_GUESS_WITH_DETAIL = 0.4


@dataclass(frozen=True)
class Question:
    """One thing asked: an intent and the sub-topics named for it (entity -> values)."""

    intent: str
    entities: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # False: only the intent's entries for these sub-topics answer it, never its general entry
    # (the classifier's topic for "how long is each session?" may have no entry on durations).
    general: bool = True


@dataclass(frozen=True)
class Topic:
    """What was answered last, kept in the conversation to read follow-ups against."""

    intent: str
    entities: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_slots(cls, intent: str | None, entities: object) -> Topic | None:
        if not intent:
            return None
        found = entities if isinstance(entities, Mapping) else {}
        return cls(intent, {str(k): str(v) for k, v in found.items()})


def spotted(text: str) -> dict[str, list[str]]:
    """Clinic details, weekdays and back regions named in `text` by the clinic's usual phrases."""
    found: dict[str, list[str]] = {}
    for name, pattern in _INFO.items():
        if pattern.search(text):
            found.setdefault("info_type", []).append(name)
    for match in _WEEKDAY.finditer(text):
        word = match.group(1).lower()
        days = (
            ["saturday", "sunday"] if word.startswith("weekend") else [_SHORT_DAY.get(word, word)]
        )
        for day in days:
            if day in _WEEKDAYS and day not in found.get("weekday", []):
                found.setdefault("weekday", []).append(day)
    for name, pattern in _REGION.items():
        if pattern.search(text):
            found.setdefault("back_region", []).append(name)
    return found


def asks_nothing_else(text: str, names: Iterable[str] = ()) -> bool:
    """Whether `text` asks only for the clinic details and weekdays it names (and `names`, the
    other things it names: "and the sports one?"), so that no guess of the classifier's at a
    topic ("how long is each session?" read as "how many sessions") is answered besides."""
    rest = text.casefold()
    for pattern in (*_INFO.values(), _WEEKDAY):
        rest = pattern.sub(" ", rest)
    for name in names:
        rest = rest.replace(name.casefold(), " ")
    return not [w for w in _WORDS.findall(rest.replace("’", "'")) if w not in _NOTHING_ELSE]


def _merge(*sources: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for source in sources:
        for entity, values in source.items():
            known = ENTITY_VALUES.get(entity)
            for value in values:
                if known is not None and value in known and value not in merged.get(entity, []):
                    merged.setdefault(entity, []).append(value)
    if merged.get("weekday") and "hours" in merged.get("info_type", []):
        # "are you open on sunday" asks for that day's hours, not the whole week's.
        merged["info_type"].remove("hours")
        if not merged["info_type"]:
            del merged["info_type"]
    return merged


def questions_asked(
    intent: str, entities: Mapping[str, Iterable[str]], text: str, last: Topic | None = None
) -> list[Question]:
    """Every question in the message, the main one first; none when there is nothing to answer."""
    found = _merge(entities, spotted(text))
    if intent == FOLLOW_UP:
        return _follow_up(found, last)
    if intent not in FAQ_TOPICS:
        return []
    # The main question keeps every detail: its intent may have its own entry for one
    # ("how long does a session last" under what to expect); answers_for skips an entry for a
    # detail already answered.
    main = {e: tuple(v) for e, v in found.items()}
    if intent == "ask_clinic_info":
        return [Question(intent, _clinic_details(main))]
    extra = {e: tuple(v) for e, v in found.items() if e in _SEPARATE_QUESTIONS}
    if extra and asks_nothing_else(text):
        # "How long is each session?": the words ask a clinic detail and nothing else. The
        # classifier's topic answers only with its own entry for that detail, if it has one
        # ("how long does a session last" under what to expect), never with its general entry.
        return [Question(intent, extra, general=False), Question("ask_clinic_info", extra)]
    asked = [Question(intent, main)]
    if extra:
        asked.append(Question("ask_clinic_info", extra))
    if "whole" in found.get("back_region", []) and intent != "ask_back_pain":
        # "which parts of the back do you work on" has its own answer, whatever the intent.
        asked.insert(0, Question("ask_back_pain", {"back_region": ("whole",)}))
        asked.remove(Question(intent, main))
    return asked


def _clinic_details(found: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """A clinic-detail question: "how much is a sports massage?" asks that treatment's price
    (its own answer, not the whole price list); a kind of treatment named with any other detail
    ("where do you do sports massage?") has no answer among the clinic's details."""
    details = dict(found)
    kinds = details.pop("massage_type", ())
    info = details.get("info_type", ())
    if kinds and any(detail in info for detail in _PER_TREATMENT):
        rest = tuple(i for i in info if i not in _PER_TREATMENT)
        details.pop("info_type")
        if rest:
            details["info_type"] = rest
        details["massage_type"] = kinds
    return details


def about_prices(topic: Topic | None) -> bool:
    """Whether the last answer was a price list or a treatment's price: "and the sports one?"
    then asks that treatment's price."""
    return (
        topic is not None
        and topic.intent == "ask_clinic_info"
        and (topic.entities.get("info_type") in _PER_TREATMENT or "massage_type" in topic.entities)
    )


def _follow_up(found: dict[str, list[str]], last: Topic | None) -> list[Question]:
    """A follow-up names a new detail for the last topic, or asks about the last topic again."""
    if not found:
        return [Question(last.intent)] if last else []
    asked: list[Question] = []
    for entity, values in found.items():
        intent = ENTITY_HOME[entity]
        if entity == "massage_type" and about_prices(last):
            intent = "ask_clinic_info"
        question = Question(intent, {entity: tuple(values)})
        same = next((q for q in asked if q.intent == intent), None)
        if same:
            asked[asked.index(same)] = Question(intent, {**same.entities, entity: tuple(values)})
        else:
            asked.append(question)
    if last:
        # The last topic's intent first: "and sunday?" after the hours is the main question.
        asked.sort(key=lambda q: q.intent != last.intent)
    return asked


def intent_when_unsure(
    ranking: Iterable[tuple[str, float]],
    text: str,
    entities: Mapping[str, Iterable[str]] | None = None,
    last: Topic | None = None,
    names: Iterable[str] = (),
) -> str | None:
    """The intent to answer an unsure message as, when it asks a clinic detail anyway.

    "does it help with sciatica and how much is it" leaves the classifier torn between topics,
    but "how much is it" is a sure question: answer it, with the best guess for the rest when
    that guess is fair; "how long is each session?" asks the detail and nothing else. After a
    price answer, a message naming only a treatment ("and the sports one?", `names` being the
    words the entities were found in) is a follow-up; after an answer about a kind of massage
    ("and swedish?"), a question about that kind. None otherwise (then the fallback asks).
    """
    found = spotted(text)
    if not found.get("info_type") and not found.get("weekday"):
        kinds = (entities or {}).get("massage_type")
        if kinds and asks_nothing_else(text, names):
            if about_prices(last):
                return FOLLOW_UP
            if last is not None and last.intent == MASSAGE_TYPES:
                return MASSAGE_TYPES
        return None
    if asks_nothing_else(text):
        return "ask_clinic_info"
    guesses = [(intent, confidence) for intent, confidence in ranking if intent in FAQ_TOPICS]
    if guesses and guesses[0][1] >= MIN_GUESS_WITH_DETAIL:
        return guesses[0][0]
    return "ask_clinic_info"
