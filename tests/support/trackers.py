"""Rasa SDK trackers for testing actions, shaped like what the Rasa server sends them."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def make_tracker(
    intent: str,
    text: str = "",
    entities: list[dict[str, Any]] | None = None,
    triage: dict[str, Any] | None = None,
    slots: dict[str, Any] | None = None,
    ranking: list[dict[str, Any]] | None = None,
    sender_id: str = "client-1",
) -> Tracker:
    """A conversation whose latest message is `text`, read as `intent` (confidence 0.97)."""
    latest: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.97},
        "entities": entities or [],
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.97}],
    }
    if triage is not None:
        latest["triage"] = triage
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
