"""The clinic's clock: the real time, or a fixed instant for conversation tests.

Everything that asks "what time is it?" (the booking rules, availability, hand-off opening
hours, row timestamps) goes through `bot.clinic.models.utcnow`, which calls `now()` here.

Test-only: outside production the clock can be fixed, so "tomorrow at 2" always means the same
day and the conversation suite's expectations don't depend on when it runs.

- `MASSAGEBOT_FAKE_NOW="2026-03-10T09:30:00+00:00"`: the clock stands still at that instant.
- `MASSAGEBOT_FAKE_NOW_FILE=<path>`: the instant is read from that file on every call, so a test
  runner can move the clock between conversations without restarting the bot.

Both are ignored (with a warning) when `MASSAGEBOT_ENVIRONMENT=production`. The instant must be
ISO 8601 with an offset; a value without one is an error rather than a guess.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from pathlib import Path

logger = logging.getLogger(__name__)

FAKE_NOW = "MASSAGEBOT_FAKE_NOW"
FAKE_NOW_FILE = "MASSAGEBOT_FAKE_NOW_FILE"
_warned = False


def now() -> datetime:
    """The current instant, aware and in UTC."""
    fixed = _fixed_instant()
    return fixed if fixed is not None else datetime.now(timezone.utc)


def parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        raise ValueError(f"the fixed clock needs an offset, e.g. +00:00: {text!r}")
    return moment.astimezone(timezone.utc)


def _fixed_instant() -> datetime | None:
    global _warned
    value = os.environ.get(FAKE_NOW, "").strip()
    path = os.environ.get(FAKE_NOW_FILE, "").strip()
    if not value and not path:
        return None
    if os.environ.get("MASSAGEBOT_ENVIRONMENT", "development").strip().lower() == "production":
        if not _warned:
            logger.warning("%s/%s are ignored in production", FAKE_NOW, FAKE_NOW_FILE)
            _warned = True
        return None
    if path:
        value = Path(path).read_text(encoding="utf-8").strip() or value
    return parse_instant(value) if value else None
