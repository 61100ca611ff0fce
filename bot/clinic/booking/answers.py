"""What a client's message says to a booking form: which details it holds, and whether it is an
answer, a change of mind, a question or a wish to stop.

The forms read every message whole with the field checkers (the time reader, the service
catalogue, phonenumbers and email-validator, the name check) instead of trusting the pieces the
NLU's entity extractor cut out of it: on the free-text conversation suite the extractor split
"Siobhan O'Brien" into two names, kept "07400" of "07400 444555" and tagged "Dave Smith" as a
date, while the checkers read all of them right.

How a message is told apart (the order the forms apply, in `actions/booking.py`):
1. an explicit stop ("stop", "cancel", "never mind", also at the start of a longer message);
2. a change of another detail, when the message says so ("actually", "instead", "change",
   "make it", "should be", "wrong") or when it isn't a valid answer to the question asked but
   holds a valid value for another detail ("no wait, saturday please" at the phone question);
3. a valid answer to the question asked (the whole text, checked by that field's checker);
4. a question: it ends with "?" or starts like one ("how much…", "is it ok…"), or the intent
   classifier put a question intent first — questions the classifier is sure of never reach the
   form (the rules answer them first), so what arrives here is what it was unsure about;
5. otherwise it is a wrong answer, and the error speaks only of the question asked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import phonenumbers

from bot.clinic.booking.catalog import match_services, wanted_minutes
from bot.clinic.booking.contact import Checked, validate_contact, validate_name
from bot.clinic.booking.wanted_time import WantedTime, read_wanted_time
from bot.clinic.facts import Clinic, Service

_STOP_PHRASE = (
    r"(?:stop|never\s*mind|nevermind|forget\s+(?:it|about\s+it)|quit|exit|leave\s+it"
    r"|cancel(?:\s+(?:that|it|this|the\s+booking|the\s+appointment))?"
    r"|i\s+(?:don'?t|do\s+not)\s+want\s+to\s+(?:book|do\s+this)(?:\s+any\s*more)?"
    r"|i'?ve\s+changed\s+my\s+mind|don'?t\s+bother|not\s+any\s*more)"
)
# The whole message, or a stop phrase followed by a comma or full stop ("no, cancel it, I'll
# book another time"); "cancel" inside a sentence ("cancel my booking on Friday") is no stop here.
_STOP = re.compile(
    rf"^\W*(?:(?:no|oh|ok|okay|actually|sorry|please|um+|erm+)[,.!]?\s+)*{_STOP_PHRASE}"
    r"(?:\W*$|\s*[,.;!]|\s+(?:please|thanks|thank\s+you)\W*$)",
    re.IGNORECASE,
)
_NO_NOTE = re.compile(
    r"^\W*(?:no+|nope|nah|none|nothing|no\s+thanks?|no\s+thank\s+you|n/?a|not\s+really|"
    r"that'?s\s+(?:all|it)|nothing\s+(?:else|to\s+add|really)|all\s+good|i'?m\s+(?:fine|good)|"
    r"no\s+need|-)(?:[\s,.!]+(?:thanks|thank\s+you|that'?s\s+(?:all|it)|nothing\s+else|"
    r"all\s+good|cheers|i'?m\s+(?:fine|good)))*\W*$",
    re.IGNORECASE,
)
_NOTE_WANTED = re.compile(r"^\W*(?:yes|yeah|yep|sure|ok|okay|yes\s+please)\W*$", re.IGNORECASE)
_YES = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|ya|sure|ok|okay|correct|confirm(?:ed)?|perfect|great|lovely|"
    r"sounds\s+(?:good|great|perfect)|that'?s\s+(?:right|correct|fine|great|perfect|lovely)|"
    r"all\s+(?:correct|good)|looks\s+(?:good|right|great)|go\s+ahead|book\s+it|please\s+do)"
    r"(?:[\s,.!]+(?:please|thanks|thank\s+you|book\s+it(?:\s+in)?|go\s+ahead|that'?s\s+"
    r"(?:right|fine|great|perfect)|please\s+book\s+it|yes|perfect|lovely))*\W*$",
    re.IGNORECASE,
)
_NO = re.compile(r"^\W*(?:no|nope|nah|no\s+thanks?|no\s+thank\s+you|not\s+really)\W*$", re.I)
_QUESTION_START = re.compile(
    r"^\W*(?:(?:sorry|oh|ok|okay|and|also|btw|by\s+the\s+way|quick\s+question)[,\s]+)*"
    r"(?:what|what's|whats|how|where|where's|when|why|who|which|is|are|am|do|does|did|can|could|"
    r"will|would|should|shall|may|have|has)\b",
    re.IGNORECASE,
)
_STRONG_QUESTION = re.compile(
    r"^\W*(?:(?:sorry|oh|ok|okay|and|also|btw|by\s+the\s+way|quick\s+question)[,\s]+)*"
    r"(?:what(?!\s+about)|what's|whats|how(?!\s+about)|where|where's|why|who|do\s+you|does|are\s+you)\b"
    r"(?!.*\b(?:free|available|have|got)\b)",
    re.IGNORECASE,
)
_CORRECTION = re.compile(
    r"\b(?:actually|instead|change|changed|make\s+it|make\s+that|rather|prefer|should\s+be|"
    r"wrong|mistake|meant|sorry|no\s+wait|wait|not\s+\w+\s*,?\s+but|switch|swap)\b",
    re.IGNORECASE,
)
_NAME_CUE = re.compile(
    r"\b(?:(?:my\s+)?name(?:'s|\s+is|\s+should\s+be|\s+to)?|i'?m|i\s+am|under(?:\s+the\s+name)?|"
    r"call\s+me|this\s+is|it'?s\s+for)\s*[:,]?\s+"
    r"((?:[^\W\d_][\w'’.-]*)(?:\s+(?:[^\W\d_][\w'’.-]*))*)",
    re.IGNORECASE,
)
_NAME_STOP_WORDS = {
    "and", "i", "i'd", "id", "i'll", "im", "i'm", "would", "like", "want", "please", "phone",
    "email", "e-mail", "number", "on", "for", "at", "a", "an", "the", "to", "book", "booking",
    "thanks", "thank", "my", "is", "mobile", "tel", "contact", "with", "looking", "wanting",
}  # fmt: skip
_REFERENCE = re.compile(r"\bMB[\s-]?[A-Z0-9]{6}\b", re.IGNORECASE)
_EMAIL = re.compile(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+")
_DOMAIN_LIKE = re.compile(r"^[\w.+-]+\.[a-z]{2,}(?:\.[a-z]{2,})?$", re.IGNORECASE)
_PHONE_DIGITS = 7  # the fewest digits of a dialable number; dates and times have fewer
_BARE_HOUR = re.compile(
    r"(?<![\d/:.])((?:[1-9]|1[0-2])(?:[:.][0-5]\d)?)(?![\d/:.]|\s*(?:min|hour))"
)
_SAME_AGAIN = re.compile(r"\b(?:another|same|again)\b", re.IGNORECASE)


def clean(text: str) -> str:
    """NFC, curly apostrophes straight, spaces collapsed."""
    text = unicodedata.normalize("NFC", text or "").replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", text).strip()


def is_stop(text: str) -> bool:
    return bool(_STOP.match(clean(text)))


def is_no_note(text: str) -> bool:
    """ "no", "nothing", "no thanks", "nope, that's all": nothing for the therapist."""
    return bool(_NO_NOTE.match(clean(text)))


def wants_to_add_note(text: str) -> bool:
    """A bare "yes" to "anything the therapist should know?": they will type it next."""
    return bool(_NOTE_WANTED.match(clean(text)))


def is_yes(text: str) -> bool:
    return bool(_YES.match(clean(text)))


def is_no(text: str) -> bool:
    return bool(_NO.match(clean(text)))


def looks_like_question(text: str) -> bool:
    text = clean(text)
    return text.endswith("?") or bool(_QUESTION_START.match(text))


def is_strong_question(text: str) -> bool:
    """A question even when it names a day or a time ("what time do you close on Saturday?"),
    unlike "can you do Friday at 3?" or "what about Friday?", which answer."""
    return bool(_STRONG_QUESTION.match(clean(text)))


def says_correction(text: str) -> bool:
    return bool(_CORRECTION.search(clean(text)))


def refers_to_last_booking(text: str) -> bool:
    """ "another one", "the same again": the treatment of the booking just made."""
    return bool(_SAME_AGAIN.search(text or ""))


def without_details(text: str, region: str) -> str:
    """The text with phone numbers, e-mail addresses and booking references taken out, so the
    time reader never sees "07400 444555" or "MB-K7Q2XT"."""
    text = _REFERENCE.sub(" ", text or "")
    text = _EMAIL.sub(" ", text)
    for match in reversed(list(_phone_matches(text, region))):
        if sum(ch.isdigit() for ch in match.raw_string) >= _PHONE_DIGITS:  # not "13/03"
            text = text[: match.start] + " " + text[match.end :]
    return re.sub(r"\s+", " ", text).strip()


def read_time(
    text: str, clinic: Clinic, now: datetime, default_day: date | None = None
) -> WantedTime:
    """The day or time a message names, phone numbers and references aside."""
    return read_wanted_time(
        without_details(text, clinic.region), clinic, now, default_day=default_day
    )


def bare_hour(text: str) -> str | None:
    """ "ok 12 then", "11.30 please": a clock time alone, as an answer to free times offered
    for one day (the time reader wants "at 12" before it reads a bare number as a time)."""
    found = _BARE_HOUR.findall(clean(text))
    return f"at {found[0].replace('.', ':')}" if len(found) == 1 else None


def names_time(text: str, clinic: Clinic, now: datetime) -> bool:
    return read_time(text, clinic, now).understood


def read_contact(text: str, region: str) -> Checked | None:
    """A phone number or e-mail address anywhere in the message, if there is one."""
    text = clean(text)
    email = _EMAIL.search(text)
    if email:
        checked = validate_contact(email.group(0).rstrip(".,!"), region)
        return checked if checked.ok else None
    match = next(_phone_matches(text, region), None)
    if match is None:
        return None
    checked = validate_contact(match.raw_string, region)
    return checked if checked.ok else None


def contact_answer(text: str, region: str) -> Checked:
    """The answer to "what's your phone number or e-mail?": the whole text, or the number or
    address inside it ("call me on 07400 111 222 please"); the reason speaks of contact only."""
    text = clean(text)
    whole = validate_contact(text, region)
    if whole.ok:
        return whole
    inside = read_contact(text, region)
    if inside is not None:
        return inside
    if "@" not in text and _DOMAIN_LIKE.match(text):
        return Checked(reason="That e-mail address seems to be missing its @ — could you check it?")
    return whole


def name_answer(text: str) -> Checked:
    """The answer to "what name should I put the booking under?", kept whole."""
    return validate_name(clean(text))


def read_name(text: str, entity_spans: Sequence[tuple[int, int]] = ()) -> str | None:
    """A name inside a longer message: "I'm Tom Hughes and…", "name Maria Lopez, phone …",
    "the name should be Sarah O'Connor"; or the NLU's name entities, joined into one span."""
    original = clean(text)
    for match in _NAME_CUE.finditer(original):
        words: list[str] = []
        for word in match.group(1).split():
            bare = word.strip(".,!")
            if bare.casefold() in _NAME_STOP_WORDS or not bare:
                break
            words.append(bare)
            if word != bare:  # "Lopez," ends the name
                break
        if words and words[0][:1].isupper():
            checked = validate_name(" ".join(words))
            if checked.ok:
                return checked.value
    if entity_spans:
        start = min(s for s, _ in entity_spans)
        end = max(e for _, e in entity_spans)
        checked = validate_name(text[start:end])
        if checked.ok:
            return checked.value
    return None


def named_services(clinic: Clinic, text: str, among: tuple[Service, ...] = ()) -> list[Service]:
    """The services a message names ("deep tissue", "the hour long back massage", "30 min
    back"). A length alone ("the 60 minute one") picks among `among` (the services just offered,
    or the one already chosen and its other lengths), else among all services."""
    text = clean(text)
    ranked = _by_superlative(clinic, text, among)
    if ranked:
        return ranked
    minutes = wanted_minutes(text)
    kind = match_services(clinic, _LENGTHS.sub(" ", text)) if _names_a_kind(text) else []
    if not kind:
        if minutes is None:
            return []
        pool = among or clinic.services
        return [s for s in pool if s.duration_minutes == minutes]
    if minutes is not None:
        timed = [s for s in kind if s.duration_minutes == minutes]
        return timed or kind
    return kind


_LENGTHS = re.compile(
    r"\b\d{2,3}\s*-?\s*(?:min|mins|minutes?|m)\b|\b(?:half\s+an?\s+hour|an\s+hour(?:\s+and\s+a\s+half)?|"
    r"one\s+hour|\d\s+hours?|hour[\s-]+long|full\s+hour|half[\s-]+hour)\b",
    re.IGNORECASE,
)
_KIND_WORDS = re.compile(
    r"\bmassage|\bback\b|sport|tissue|tisue|swed|sweed|hot\s+stone|medical|"
    r"remedial|relax|pregnan|deep",
    re.IGNORECASE,
)


_SUPERLATIVES = (
    (re.compile(r"\b(?:cheapest|least\s+expensive|lowest\s+price)\b", re.I), "price", min),
    (re.compile(r"\b(?:most\s+expensive|dearest)\b", re.I), "price", max),
    (re.compile(r"\b(?:shortest|quickest)\b", re.I), "duration_minutes", min),
    (re.compile(r"\b(?:longest)\b", re.I), "duration_minutes", max),
)


def _by_superlative(clinic: Clinic, text: str, among: tuple[Service, ...]) -> list[Service]:
    """ "the cheapest one", "the longest one": all the services that share that price or length
    (more than one is then offered as a choice)."""
    pool = among or clinic.services
    for pattern, field, pick in _SUPERLATIVES:
        if pattern.search(text) and pool:
            best = pick(getattr(s, field) for s in pool)
            return [s for s in pool if getattr(s, field) == best]
    return []


def of_kind(clinic: Clinic, massage_type: str) -> list[Service]:
    """The clinic's services of one kind ("back": the 30 and 60 minute back massages)."""
    return [s for s in clinic.services if s.massage_type == massage_type]


def refers_back(text: str) -> bool:
    """ "can I book one?", "book that": the treatment the conversation was just about."""
    return bool(_REFERS_BACK.search(text or ""))


_REFERS_BACK = re.compile(r"\b(?:one|that|it|this|them)\b", re.IGNORECASE)


def _names_a_kind(text: str) -> bool:
    """Only a message with a massage word is read for a kind: the catalogue's fuzzy match would
    otherwise find one in a name or a sentence about something else."""
    return bool(_KIND_WORDS.search(text))


@dataclass(frozen=True)
class FirstMessage:
    """The details a request to book already holds ("a 30 min back massage tomorrow 2ish")."""

    services: tuple[Service, ...]
    names_time: bool
    name: str | None
    contact: str | None


def read_first_message(
    text: str,
    clinic: Clinic,
    now: datetime,
    name_spans: Sequence[tuple[int, int]] = (),
) -> FirstMessage:
    contact = read_contact(text, clinic.region)
    return FirstMessage(
        services=tuple(named_services(clinic, without_details(text, clinic.region))),
        names_time=names_time(text, clinic, now),
        name=read_name(text, name_spans),
        contact=contact.value if contact else None,
    )


def _phone_matches(text: str, region: str) -> Iterator[phonenumbers.PhoneNumberMatch]:
    return iter(
        phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
    )


_PRICE = re.compile(r"\b(?:how\s+much|price|prices|cost|costs|charge|fee|fees|pay)\b", re.I)
_PARKING = re.compile(r"\bpark(?:ing)?\b|\bcar\s+park\b", re.IGNORECASE)


def asks_price(text: str | None) -> bool:
    return bool(_PRICE.search(text or ""))


def asks_parking(text: str | None) -> bool:
    return bool(_PARKING.search(text or ""))


def price(clinic: Clinic, service: Service) -> str:
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(clinic.currency, "")
    amount = f"{service.price:.2f}".removesuffix(".00")
    return f"{symbol}{amount}" if symbol else f"{amount} {clinic.currency}"


def service_title(service: Service) -> str:
    """ "30-minute back massage" from "Back massage (30 minutes)", to use inside a sentence."""
    kind = service.name.split("(")[0].strip()
    first = kind.split(" ")[0]
    if first.casefold() not in _PROPER_ADJECTIVES and not first[:2].isupper():
        kind = kind[:1].lower() + kind[1:]
    return f"{service.duration_minutes}-minute {kind}"


_PROPER_ADJECTIVES = {"swedish", "thai", "indian", "hawaiian", "japanese", "chinese", "balinese"}
