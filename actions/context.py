"""What every action needs from configuration: settings and the clinic, read once per process."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rasa_sdk import Tracker

from bot.clinic.facts import Clinic, load_clinic
from bot.settings import Settings


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


def latest_triage(tracker: Tracker) -> dict[str, Any]:
    """The warning-sign assessment the NLU pipeline attached to the latest message, if any."""
    return tracker.latest_message.get("triage") or {}


def merged(tracker: Tracker, slot: str, new: list[str]) -> list[str]:
    return list(dict.fromkeys([*(tracker.get_slot(slot) or []), *new]))


def buttons(items: Any) -> list[dict[str, str]]:
    return [{"title": b.title, "payload": b.payload} for b in items]
