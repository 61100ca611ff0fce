"""Spotting warning signs in a client's message, so safety never depends on an ML guess.

Red flags need a doctor before any massage; caution signs (inflammation, swelling, a fresh injury,
muscles that tense up under pressure) mean "wait until it settles and check with a doctor".
Matching is done on the normalised text with plain patterns: explicit, reviewable by clinicians,
and deterministic. Patterns err towards flagging; a short negation check ("no fever") avoids the
commonest false alarm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum


class Level(str, Enum):
    NONE = "none"
    CAUTION = "caution"
    RED_FLAG = "red_flag"


_W = r"(?:\W+\w+){0,6}?\W+"  # up to six words in between
# "...during the massage", "...when the therapist presses": the seed's "tense instead of relax".
_UNDER_PRESSURE = (
    r" (?:during|when|while|under|with|as)(?:\W+\w+){0,3}?\W+"
    r"(?:massag\w*|pressure|press\w*|touch\w*|treatment|session|therapist)\b"
)

RED_FLAGS: dict[str, re.Pattern[str]] = {
    "leg_numbness_or_weakness": re.compile(
        rf"\b(?:numb\w*|pins and needles|tingl\w*|weak\w*|no feeling|lost (?:the )?feeling|"
        rf"can'?t feel|cannot feel|giv\w* way|gave way)"
        rf"{_W}(?:legs?|foot|feet|thighs?|groin|saddle)\b"
        rf"|\b(?:legs?|foot|feet|thighs?|groin|saddle){_W}(?:numb\w*|tingl\w*|weak\w*|giv\w* way|"
        rf"gave way|pins and needles)\b|\bsaddle (?:area )?numb\w*"
    ),
    "bladder_or_bowel": re.compile(
        r"\b(?:bladder|bowels?|incontinen\w*|wet (?:myself|the bed)|soil(?:ed|ing) myself|"
        r"can'?t (?:pee|wee|urinate)|cannot (?:pee|wee|urinate))\b"
    ),
    "fever": re.compile(
        r"\b(?:fever\w*|high temp\w*|(?:a|running a) temp(?:erature)?|chills|shivery)\b"
    ),
    "fall_or_accident": re.compile(
        r"\b(?:fell(?! asleep)|fallen|had a fall|a bad fall|falling (?:off|down|over)|"
        r"(?:car|road|bike|cycling|work|sports?) (?:accident|crash)|accident|crash(?:ed)?|"
        r"collision|whiplash|hit by)\b"
    ),
    "chest_pain": re.compile(
        r"\bchest (?:pain\w*|tight\w*|hurts?|aches?|pressure)\b|\bpains? in (?:my|the) chest\b|"
        r"\btight chest\b"
    ),
    "unexplained_weight_loss": re.compile(
        r"\b(?:unexplained|unexpected|unintentional|unintended|sudden|rapid) weight ?loss\b|"
        r"\b(?:losing|lost|dropp\w*) (?:a lot of |lots of )?weight (?:without (?:trying|dieting)|"
        r"for no (?:reason|apparent reason))\b|\bweight loss (?:without trying|for no reason)\b"
    ),
}

CAUTION_SIGNS: dict[str, re.Pattern[str]] = {
    "inflammation": re.compile(r"\binflam\w*"),
    "swelling": re.compile(r"\b(?:swollen|swelling|swelled|puffy)\b"),
    "acute_injury": re.compile(
        r"\b(?:pulled|strained|torn|tore|sprained|ripped|twisted|tweaked|injured|hurt)"
        r" (?:a |my |the )?(?:\w+ )?(?:muscle|back|hamstring|shoulder|neck)\b|\bacute injur\w*|"
        r"\bmuscle (?:tear|strain)\b|\bjust (?:injured|hurt)\b"
    ),
    "muscles_tense_up": re.compile(
        rf"\b(?:tense|tenses|tensed|tensing|tighten\w*|seiz\w*|clench\w*|stiffen\w*) up"
        rf"{_UNDER_PRESSURE}|\btens\w* (?:up )?instead of relax\w*|"
        rf"\b(?:get|gets|got|go|goes|went) (?:more |even )?(?:tense|tight|tighter|stiffer)"
        rf"{_UNDER_PRESSURE}"
    ),
}

_NEGATION = re.compile(
    r"\b(?:no|not|never|without|nor|denies|haven'?t(?: had)?|hasn'?t|don'?t have|didn'?t have|"
    r"free of|isn'?t|wasn'?t)\W+(?:\w+\W+){0,2}$"
)


@dataclass(frozen=True)
class Triage:
    level: Level = Level.NONE
    red_flags: tuple[str, ...] = field(default_factory=tuple)
    caution_signs: tuple[str, ...] = field(default_factory=tuple)

    @property
    def signs(self) -> tuple[str, ...]:
        return self.red_flags + self.caution_signs


def _found(patterns: dict[str, re.Pattern[str]], text: str) -> tuple[str, ...]:
    hits = []
    for sign, pattern in patterns.items():
        for match in pattern.finditer(text):
            if not _NEGATION.search(text[max(0, match.start() - 40) : match.start()]):
                hits.append(sign)
                break
    return tuple(hits)


def assess(text: str) -> Triage:
    """Classify one (normalised) message by the most serious warning sign it mentions."""
    lowered = text.lower().replace("’", "'")
    red = _found(RED_FLAGS, lowered)
    caution = _found(CAUTION_SIGNS, lowered)
    if red:
        return Triage(Level.RED_FLAG, red, caution)
    if caution:
        return Triage(Level.CAUTION, (), caution)
    return Triage()
