"""A polite reply instead of silence when an action cannot run, and the settings that bound
how long a failing part may hold a client up.

When the action server is down (or answers with an error), Rasa logs the exception, drops the
action's events and carries on predicting — the client gets no reply at all, or the next
prediction fails the same way. We wrap every action the processor runs: on any failure other than
a deliberate rejection (forms use those), the client gets the clinic's apology with its phone
number and the bot listens again. The conversation state is left as it was before the failed
action, so the next message works as soon as the action server is back (a form carries on where
it was).

Rasa has no hook for a failed action: `patches.run_action` wraps the actions in
`MessageProcessor._run_action`, a private method of Rasa 3.6. tests/production/test_reliability.py
exercises it against a real server, so an upgrade that changes it fails loudly.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rasa.core.actions.action import Action, ActionExecutionRejection
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import BotUttered, Event, FollowupAction

from bot.settings import ConfigError

logger = logging.getLogger(__name__)

_GUARDED = "_massagebot_guarded"


def _number(env: Mapping[str, str], name: str, default: float, *, integer: bool) -> float:
    """A setting that must be a number ≥ 0 (`0` switches the feature off where that makes
    sense; the caller says); empty means the default."""
    text = (env.get(name) or "").strip()
    if not text:
        return default
    kind = "a whole number" if integer else "a number of seconds"
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise ConfigError(f"{name} must be {kind}, not '{text}'") from None
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{name} must be {kind} ≥ 0, not '{text}'")
    return value


@dataclass(frozen=True)
class ResilienceSettings:
    """How long Rasa waits for the action server, when it stops trying for a while, and how many
    messages one process handles at once (the rest are told to come back in a minute)."""

    action_timeout: float = 5.0  # ACTION_TIMEOUT_SECONDS
    circuit_failures: int = 3  # ACTION_CIRCUIT_FAILURES; 0 = never stop trying
    circuit_reset: float = 5.0  # ACTION_CIRCUIT_RESET_SECONDS
    max_in_flight: int = 64  # MAX_MESSAGES_IN_FLIGHT; 0 = no limit

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ResilienceSettings:
        env = os.environ if env is None else env
        settings = cls(
            action_timeout=_number(env, "ACTION_TIMEOUT_SECONDS", 5.0, integer=False),
            circuit_failures=int(_number(env, "ACTION_CIRCUIT_FAILURES", 3, integer=True)),
            circuit_reset=_number(env, "ACTION_CIRCUIT_RESET_SECONDS", 5.0, integer=False),
            max_in_flight=int(_number(env, "MAX_MESSAGES_IN_FLIGHT", 64, integer=True)),
        )
        if settings.action_timeout <= 0:
            raise ConfigError("ACTION_TIMEOUT_SECONDS must be more than 0 (e.g. 5)")
        if settings.circuit_failures and settings.circuit_reset <= 0:
            raise ConfigError(
                "ACTION_CIRCUIT_RESET_SECONDS must be more than 0 (e.g. 5); "
                "ACTION_CIRCUIT_FAILURES=0 switches the circuit breaker off"
            )
        return settings


@lru_cache(maxsize=1)
def clinic_apology() -> str:
    """The clinic's 'technical problem, call us' message, read once per process."""
    from bot.clinic import advice
    from bot.clinic.facts import load_clinic
    from bot.settings import Settings

    try:
        return advice.unavailable(load_clinic(Settings.from_env().clinic_file))
    except Exception:
        logger.exception("Could not read the clinic file for the apology message")
        return (
            "I'm sorry — something went wrong on our side. Please try again in a few minutes, "
            "or phone the clinic."
        )


@lru_cache(maxsize=1)
def message_not_taken() -> str:
    """The clinic's "couldn't take your message, send it again" (a store is down), read once."""
    from bot.clinic import advice
    from bot.clinic.facts import load_clinic
    from bot.settings import Settings

    try:
        return advice.not_taken(load_clinic(Settings.from_env().clinic_file))
    except Exception:
        logger.exception("Could not read the clinic file for the apology message")
        return (
            "I'm sorry — I couldn't take your last message because of a problem on our side. "
            "Please send it again in a moment, or phone the clinic."
        )


def apology_events(text: str) -> list[Event]:
    """What a failed action is replaced with: the apology, then wait for the client."""
    return [BotUttered(text=text), FollowupAction(ACTION_LISTEN_NAME)]


def guard_action(action: Action, reply: Callable[[], str]) -> Action:
    """Make `action.run` answer with `reply()` instead of raising (idempotent)."""
    if getattr(action, _GUARDED, False):
        return action
    run = action.run

    async def guarded_run(*args: Any, **kwargs: Any) -> list[Event]:
        try:
            return await run(*args, **kwargs)
        except (ActionExecutionRejection, asyncio.CancelledError):
            raise
        except Exception:
            logger.exception("Action '%s' failed; the client gets an apology", action.name())
            return apology_events(reply())

    action.run = guarded_run  # type: ignore[method-assign]
    setattr(action, _GUARDED, True)
    return action
