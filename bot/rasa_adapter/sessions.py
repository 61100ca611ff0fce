"""Long conversations continue in a fresh Rasa session every `SESSION_MESSAGE_LIMIT` messages.

Rasa reads, replays and featurises a conversation's whole current session for every message, so
each message of a long conversation costs more than the one before (three times as much at
message 200 as at message 20, `make bench`). Rasa bounds that work with sessions, but only
starts one after a pause (`session_expiration_time`). Here a session also ends once it holds
`limit` client messages, at a moment when nothing is lost:

- not inside a form (the booking form keeps its place) and not while staff have the chat;
- the new session carries every slot over and starts from the bot's last action, so the rules
  and memoization that look at the previous turn ("Would you like to book?" → "yes") still match.

The stored conversation stays whole: staff tools and the privacy commands read every session.
Rasa decides about sessions in a private method; `patches.update_tracker_session` adds this rule
there.
"""

from __future__ import annotations

import os
from typing import Any

DEFAULT_LIMIT = 30
ENV = "SESSION_MESSAGE_LIMIT"


class SessionConfigError(ValueError):
    """SESSION_MESSAGE_LIMIT is not a whole number ≥ 0."""


def limit_from_env() -> int:
    """SESSION_MESSAGE_LIMIT (default 30; 0 keeps Rasa's time-only sessions)."""
    raw = os.environ.get("SESSION_MESSAGE_LIMIT", "").strip() or str(DEFAULT_LIMIT)
    try:
        limit = int(raw)
    except ValueError:
        limit = -1
    if limit < 0:
        raise SessionConfigError(f"{ENV} must be a whole number ≥ 0 (0 = no limit), not {raw!r}")
    return limit


def messages_in_session(tracker: Any) -> int:
    """Client messages since the latest session start."""
    count = 0
    for event in reversed(tracker.events):
        name = event.type_name
        if name == "session_started":
            break
        if name == "user":
            count += 1
    return count


def should_start_new_session(tracker: Any, limit: int) -> bool:
    return (
        limit > 0
        and tracker.active_loop_name is None
        and not tracker.is_paused()
        and messages_in_session(tracker) >= limit
    )


def new_session_events(tracker: Any) -> list[Any]:
    """What Rasa's `action_session_start` writes with slots carried over, plus the bot's last
    action so the next prediction sees the turn it answers."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet

    events: list[Any] = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted()]
    events += [
        SlotSet(slot.name, slot.value)
        for slot in tracker.slots.values()
        if slot.value != slot.initial_value
    ]
    last_action = tracker.latest_action_name
    if last_action and last_action != ACTION_LISTEN_NAME:
        events.append(ActionExecuted(last_action))
    events.append(ActionExecuted(ACTION_LISTEN_NAME))
    return events
