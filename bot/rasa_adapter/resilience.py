"""A polite reply instead of silence when an action cannot run.

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
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from rasa.core.actions.action import Action, ActionExecutionRejection
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import BotUttered, Event, FollowupAction

logger = logging.getLogger(__name__)

_GUARDED = "_massagebot_guarded"


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
