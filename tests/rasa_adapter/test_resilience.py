"""A failing action becomes an apology and a return to listening; rejections pass through."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.actions.action import Action, ActionExecutionRejection
from rasa.shared.core.events import BotUttered, FollowupAction

from bot.rasa_adapter.resilience import guard_action


class Failing(Action):
    def __init__(self, error: Exception) -> None:
        self.error = error

    def name(self) -> str:
        return "action_failing"

    async def run(self, *args: Any, **kwargs: Any) -> list:
        raise self.error


async def test_failure_becomes_apology_then_listen() -> None:
    action = guard_action(Failing(RuntimeError("connection refused")), lambda: "sorry, call us")
    assert guard_action(action, lambda: "other") is action  # wrapped once only
    events = await action.run(None, None, None, None)
    assert isinstance(events[0], BotUttered) and events[0].text == "sorry, call us"
    assert isinstance(events[1], FollowupAction) and events[1].action_name == "action_listen"


async def test_form_rejections_are_not_apologised_for() -> None:
    action = guard_action(Failing(ActionExecutionRejection("form")), lambda: "sorry")
    with pytest.raises(ActionExecutionRejection):
        await action.run(None, None, None, None)
