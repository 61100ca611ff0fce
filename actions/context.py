"""What every action needs from configuration: settings and the clinic, read once per process."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from bot.clinic.facts import Clinic, load_clinic
from bot.clinic.triage import Assessment, Finding
from bot.settings import Settings

HEALTH_CONCERNS = "health_concerns"


def settings() -> Settings:
    return Settings.from_env()


def clinic() -> Clinic:
    return load_clinic(settings().clinic_file)


def latest_entities(tracker: Tracker) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("value") is not None:
            found[entity["entity"]].append(str(entity["value"]))
    return dict(found)


def latest_assessment(tracker: Tracker) -> Assessment:
    """The triage the NLU pipeline attached to the latest message (`parse_data["triage"]`)."""
    return Assessment.from_dict(tracker.latest_message.get("triage"))


def health_concerns(tracker: Tracker) -> list[Finding]:
    """Every concern raised in this conversation so far (slot `health_concerns`)."""
    return [
        Finding.from_dict(raw)
        for raw in tracker.get_slot(HEALTH_CONCERNS) or []
        if isinstance(raw, dict) and raw.get("concept")
    ]


def remembered(tracker: Tracker, new: Iterable[Finding]) -> list[Finding]:
    """The conversation's concerns with `new` ones added (one per concept, the first words used)."""
    kept = {f.concept: f for f in health_concerns(tracker)}
    for finding in new:
        if finding.is_concern:
            kept.setdefault(finding.concept, finding)
    return list(kept.values())


def remember(tracker: Tracker, new: Iterable[Finding]) -> list[SlotSet]:
    """The slot event that remembers `new` concerns; none when there is nothing new."""
    concerns = [f.as_dict() for f in remembered(tracker, new)]
    if concerns == (tracker.get_slot(HEALTH_CONCERNS) or []):
        return []
    return [SlotSet(HEALTH_CONCERNS, concerns)]


def merged(tracker: Tracker, slot: str, new: list[str]) -> list[str]:
    return list(dict.fromkeys([*(tracker.get_slot(slot) or []), *new]))


def buttons(items: Any) -> list[dict[str, str]]:
    return [{"title": b.title, "payload": b.payload} for b in items]
