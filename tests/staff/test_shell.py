"""The staff shell: unit tests of its pieces, and two staff driving it at once through
pseudo terminals against the trained model."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.rasa_adapter.serve import free_port
from bot.staff.shell import StaffShell, describe_parse, render
from tests.support import ROOT
from tests.support.bots import latest_model, prepare_database, write_endpoints


def test_render_numbers_buttons() -> None:
    text, buttons = render(
        [
            {"text": "Hello!\nHow can I help?"},
            {"text": "Pick one", "buttons": [{"title": "Prices", "payload": "/ask_clinic_info"}]},
        ]
    )
    assert text == (
        "bot> Hello!\n     How can I help?\nbot> Pick one\n     [1] Prices  (/ask_clinic_info)"
    )
    assert [b.payload for b in buttons] == ["/ask_clinic_info"]


def test_describe_parse() -> None:
    parse = {
        "intent": {"name": "ask_benefits", "confidence": 0.9731},
        "entities": [{"entity": "benefit", "value": "sleep"}],
    }
    assert describe_parse(parse) == "intent: ask_benefits (0.97)  entities: benefit=sleep"


class FakeAgent:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def handle_text(self, text: str, sender_id: str) -> list[dict[str, Any]]:
        self.sent.append((text, sender_id))
        return [{"text": "Sure", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]


async def test_numbers_pick_buttons_and_restart_changes_conversation() -> None:
    agent = FakeAgent()
    shell = StaffShell(agent, "staff-ana")
    first = shell.sender_id
    assert first.startswith("shell:staff-ana-")
    assert "[1] Yes" in await shell.turn("hello")
    await shell.turn("1")
    assert agent.sent[-1] == ("/affirm", first)
    assert (await shell.turn("/restart")).startswith("(new conversation: shell:staff-ana-")
    assert shell.sender_id != first
    assert await shell.turn("/intent") == "(intent display on)"


@pytest.mark.e2e
def test_two_staff_at_once_through_a_terminal(tmp_path: Path) -> None:
    import pexpect

    from bot.rasa_adapter.serve import rasa_env, start_action_server, stop

    database_url = prepare_database(f"sqlite:///{tmp_path / 'massagebot.db'}")
    env = rasa_env() | {
        "DATABASE_URL": database_url,
        "CLINIC_FILE": str(ROOT / "data" / "clinic.yml"),
        "MASSAGEBOT_HOME": str(ROOT),
        "TERM": "dumb",
    }
    action_port = free_port()
    endpoints = write_endpoints(tmp_path, action_port, tmp_path / "tracker.db")
    actions = start_action_server(action_port, env)
    shells = []
    try:
        for name in ("ana", "ben"):
            shells.append(
                pexpect.spawn(
                    sys.executable,
                    [
                        "-m",
                        "bot.staff.shell",
                        "--model",
                        str(latest_model()),
                        "--endpoints",
                        str(endpoints),
                        "--name",
                        name,
                    ],
                    cwd=str(ROOT),
                    env=env,
                    encoding="utf-8",
                    timeout=240,
                )
            )
        for shell in shells:
            shell.expect(r"Conversation id: (shell:staff-\w+-\w+)")
            shell.expect_exact("you> ")
        ana, ben = shells
        ana.sendline("does back massage help with blood circulation?")
        ben.sendline("/intent")
        ben.expect_exact("(intent display on)")
        ben.sendline("what are your opening hours?")
        ana.expect(re.compile("not medical advice", re.I))
        ana.expect_exact("you> ")
        ben.expect(r"intent: (\w+) \((0\.\d\d|1\.00)\)")
        assert ben.match.group(1) == "ask_clinic_info"
        ben.expect_exact("you> ")
        for shell in shells:
            shell.sendline("/quit")
            shell.expect(pexpect.EOF)
            shell.close()
            assert shell.exitstatus == 0
    finally:
        for shell in shells:
            if shell.isalive():
                shell.terminate(force=True)
        stop([actions])
    # Both conversations went to the configured tracker store, each under its own id.
    import sqlite3

    with sqlite3.connect(tmp_path / "tracker.db") as db:
        senders = {row[0] for row in db.execute("select distinct sender_id from events")}
    assert any(s.startswith("shell:staff-ana-") for s in senders)
    assert any(s.startswith("shell:staff-ben-") for s in senders)
