"""What the triage tells the rest of the bot: findings, their context, and the level they add up to.

This is the shared contract (`assess(text) -> Assessment`): the NLU pipeline puts
`Assessment.as_dict()` into the parse data under `triage`, and actions read it back with
`Assessment.from_dict()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Level(str, Enum):
    """How urgent a concern is; members compare in this order (none < … < emergency)."""

    NONE = "none"
    CONSENT = "consent"  # under 16: a parent or guardian has to agree and come along
    POSTPONE = "postpone"  # wait until it has settled (illness, fresh injury, skin, swelling)
    DOCTOR = "doctor"  # GP, midwife or surgeon first (pregnancy, blood thinners, recent surgery…)
    EMERGENCY = "emergency"  # 999 / A&E or urgent medical advice now

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank >= other.rank


_ORDER = (Level.NONE, Level.CONSENT, Level.POSTPONE, Level.DOCTOR, Level.EMERGENCY)


class Context(str, Enum):
    """The ConText status of a mention, scoped to its clause."""

    AFFIRMED = "affirmed"
    NEGATED = "negated"  # "no fever"
    HISTORICAL = "historical"  # "had a fall five years ago but I'm fine now"
    HYPOTHETICAL = "hypothetical"  # "if I get a cold…", "does massage help with fever?"
    OTHER_PERSON = "other_person"  # "my dad had a fever last week"


@dataclass(frozen=True)
class Finding:
    """One mention of a concept in the client's words."""

    concept: str
    level: Level
    phrase: str  # as the client wrote it (after cleaning)
    context: Context
    advice: str  # key of the wording in bot.clinic.advice

    @property
    def is_concern(self) -> bool:
        return self.context is Context.AFFIRMED

    def as_dict(self) -> dict[str, str]:
        return {
            "concept": self.concept,
            "level": self.level.value,
            "phrase": self.phrase,
            "context": self.context.value,
            "advice": self.advice,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Finding:
        return cls(
            concept=str(raw["concept"]),
            level=Level(raw.get("level", "none")),
            phrase=str(raw.get("phrase", "")),
            context=Context(raw.get("context", "affirmed")),
            advice=str(raw.get("advice") or raw["concept"]),
        )


@dataclass(frozen=True)
class Assessment:
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def concerns(self) -> tuple[Finding, ...]:
        """The findings that are about the client now (affirmed), most urgent first."""
        return most_urgent_first(f for f in self.findings if f.is_concern)

    @property
    def level(self) -> Level:
        return max((f.level for f in self.concerns), default=Level.NONE)

    def at(self, level: Level) -> tuple[Finding, ...]:
        return tuple(f for f in self.concerns if f.level is level)

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level.value,
            "findings": [f.as_dict() for f in self.findings],
            "concerns": [f.as_dict() for f in self.concerns],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> Assessment:
        """Read back `as_dict()`; anything else (an old model's parse data) reads as no finding."""
        if not raw or not isinstance(raw.get("findings"), list):
            return cls()
        return cls(tuple(Finding.from_dict(f) for f in raw["findings"] if isinstance(f, Mapping)))


def most_urgent_first(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Most urgent first, one finding per concept (the first phrase the client used)."""
    seen: dict[str, Finding] = {}
    for finding in findings:
        seen.setdefault(finding.concept, finding)
    return tuple(sorted(seen.values(), key=lambda f: -f.level.rank))
