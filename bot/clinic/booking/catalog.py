"""Which of the clinic's services a client means: "a back massage", "the 60 minute one".

The NLU's `massage_type` entity gives the kind of massage (its synonyms map "back rub" to
`back`); the duration, if any, is read from the words. When several services fit, all of them
are returned so the bot can offer them as buttons instead of guessing.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from bot.clinic.facts import Clinic, Service

_DURATION = re.compile(
    r"\b(\d{2,3})\s*(?:-|\s)?(?:min|mins|minutes?|m)\b|\b(half an hour|half hour|half-hour|"
    r"an hour and a half|hour long|hour-long|full hour|an hour|one hour|1 hour|90 minutes|"
    r"two hours|2 hours)\b"
)
_DURATION_WORDS = {
    "half an hour": 30, "half hour": 30, "half-hour": 30, "an hour": 60, "one hour": 60,
    "1 hour": 60, "hour long": 60, "hour-long": 60, "full hour": 60,
    "an hour and a half": 90, "90 minutes": 90, "two hours": 120, "2 hours": 120,
}  # fmt: skip


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower().replace("_", " ")).strip()


def wanted_minutes(text: str) -> int | None:
    match = _DURATION.search((text or "").lower())
    if not match:
        return None
    return int(match.group(1)) if match.group(1) else _DURATION_WORDS[match.group(2)]


def match_services(clinic: Clinic, *texts: str | None) -> list[Service]:
    """Services fitting what the client said (an entity value, their words, or both).

    Exact ids (as sent by buttons) win; otherwise the massage type, then a fuzzy match on the
    service name; a duration, when given, narrows the result.
    """
    said = [t for t in texts if t]
    if not said:
        return []
    for text in said:
        exact = clinic.service(text.strip())
        if exact is not None:
            return [exact]
    joined = _words(" ".join(said))
    by_type = [
        s
        for s in clinic.services
        if re.search(rf"\b{re.escape(_words(s.massage_type))}\b", joined)
        or re.search(rf"\b{re.escape(_words(s.name.split('(')[0]))}\b", joined)
    ]
    candidates = by_type or _fuzzy(clinic, joined)
    minutes = wanted_minutes(" ".join(said))
    if minutes is not None:
        timed = [s for s in (candidates or clinic.services) if s.duration_minutes == minutes]
        if timed:
            return timed
    return candidates


def _fuzzy(clinic: Clinic, joined: str) -> list[Service]:
    """Typos ("sweedish", "deep tisue"): the best name above a similarity threshold."""
    scored = []
    for service in clinic.services:
        name = _words(service.name.split("(")[0]).replace(" massage", "").strip()
        best = max(
            (
                SequenceMatcher(None, name, joined[i : i + len(name)]).ratio()
                for i in range(max(1, len(joined) - len(name) + 1))
            ),
            default=0.0,
        )
        scored.append((best, service))
    top = max((score for score, _ in scored), default=0.0)
    if top < 0.8:
        return []
    return [service for score, service in scored if score == top]
