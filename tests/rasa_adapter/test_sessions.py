"""Long conversations continue in a new session every SESSION_MESSAGE_LIMIT messages, without
losing slots, a form in progress, a hand-off, or any stored message (tests/production/
test_sessions.py runs a long conversation through the trained bot)."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_adapter import sessions


def conversation(rasa_domain: Domain, messages: int) -> DialogueStateTracker:
    tracker = DialogueStateTracker("c", rasa_domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    for i in range(messages):
        tracker.update(UserUttered(f"question {i}", {"name": "ask_benefits", "confidence": 1.0}))
        tracker.update(ActionExecuted("action_answer_faq"))
        tracker.update(BotUttered(f"answer {i}"))
        tracker.update(ActionExecuted("action_listen"))
    return tracker


def test_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sessions.ENV, raising=False)
    assert sessions.limit_from_env() == sessions.DEFAULT_LIMIT
    monkeypatch.setenv(sessions.ENV, "0")
    assert sessions.limit_from_env() == 0
    for bad in ("ten", "-1", "2.5"):
        monkeypatch.setenv(sessions.ENV, bad)
        with pytest.raises(sessions.SessionConfigError, match=sessions.ENV):
            sessions.limit_from_env()


def test_a_new_session_starts_only_at_a_safe_moment(rasa_domain: Domain) -> None:
    tracker = conversation(rasa_domain, 3)
    assert sessions.messages_in_session(tracker) == 3
    assert not sessions.should_start_new_session(tracker, 4)
    assert not sessions.should_start_new_session(tracker, 0)  # 0: no limit
    assert sessions.should_start_new_session(tracker, 3)

    tracker.update(ActiveLoop("booking_form"))
    assert not sessions.should_start_new_session(tracker, 3)  # never inside a form
    tracker.update(ActiveLoop(None))
    tracker.update(ConversationPaused())
    assert not sessions.should_start_new_session(tracker, 3)  # never while staff have the chat


def test_the_new_session_keeps_slots_and_the_last_bot_action(rasa_domain: Domain) -> None:
    tracker = conversation(rasa_domain, 3)
    tracker.update(SlotSet("client_name", "Ada"))
    tracker.update(ActionExecuted("utter_anything_else"))
    for event in sessions.new_session_events(tracker):
        tracker.update(event, rasa_domain)

    assert sessions.messages_in_session(tracker) == 0
    assert tracker.get_slot("client_name") == "Ada"
    states = tracker.past_states(rasa_domain)
    assert states[-2]["prev_action"]["action_name"] == "utter_anything_else"
    assert states[-1]["prev_action"]["action_name"] == "action_listen"
    assert tracker.events[1].text == "question 0"  # the earlier session is still there


def test_launcher_refuses_a_bad_limit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.rasa_adapter.server import main

    monkeypatch.setenv(sessions.ENV, "thirty")
    assert main(["--model", "nowhere"]) == 2
    assert "SESSION_MESSAGE_LIMIT must be a whole number" in capsys.readouterr().err
