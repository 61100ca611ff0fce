"""Starting the bot shows the bot's own lines: no third-party warnings, no TensorFlow log."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.rasa_adapter.persistence import TRACKER_STORE_CLASS
from bot.rasa_adapter.serve import (
    action_server_command,
    rasa_command,
    rasa_env,
    stop,
    wait_until_up,
)
from tests.conftest import ROOT, free_port, latest_model

pytestmark = pytest.mark.e2e

# Python's warning lines ("file.py:12: DeprecationWarning: …"), and TensorFlow's C++ log
# ("2024-01-01 10:00:00.000000: I tensorflow/…").
NOISE = re.compile(r"^\S+:\d+: \w*Warning: |site-packages|^\S+ \S+: [IWE] tensorflow/", re.M)


def _environment(tmp_path: Path) -> dict[str, str]:
    """As from a terminal without `make`: nothing set that quiets the start."""
    env = rasa_env()
    for name in ("TF_CPP_MIN_LOG_LEVEL", "SQLALCHEMY_SILENCE_UBER_WARNING", "PYTHONWARNINGS"):
        env.pop(name, None)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'massagebot.db'}",
            "CLINIC_FILE": str(ROOT / "data" / "clinic.yml"),
            "MASSAGEBOT_HOME": str(ROOT),
        }
    )
    return env


def _endpoints(tmp_path: Path, action_port: int) -> Path:
    path = tmp_path / "endpoints.yml"
    path.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        f"tracker_store:\n  type: {TRACKER_STORE_CLASS}\n  dialect: sqlite\n"
        f"  db: {tmp_path / 'tracker.db'}\n",
        encoding="utf-8",
    )
    return path


def test_the_server_and_the_action_server_start_quietly(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    port, action_port = free_port(), free_port()
    endpoints = _endpoints(tmp_path, action_port)
    log = tmp_path / "start.log"
    processes = []
    with log.open("w", encoding="utf-8") as out:
        try:
            processes.append(
                subprocess.Popen(
                    action_server_command(action_port), env=env, cwd=ROOT, stdout=out, stderr=out
                )
            )
            wait_until_up(f"http://127.0.0.1:{action_port}/health", process=processes[0])
            command = rasa_command("run", latest_model(), port, endpoints)
            processes.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out))
            wait_until_up(
                f"http://127.0.0.1:{port}/webhooks/rest/", timeout=300, process=processes[1]
            )
        finally:
            stop(processes)
    output = log.read_text(encoding="utf-8")
    assert "Action endpoint is up and running" in output
    assert "Rasa server is up and running" in output
    assert not NOISE.findall(output), output


def test_the_staff_shell_starts_quietly(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    action_port = free_port()  # nothing listens: the shell starts its own action server
    endpoints = _endpoints(tmp_path, action_port)
    result = subprocess.run(
        [sys.executable, "-m", "bot.staff.shell", "--endpoints", str(endpoints)],
        env=env,
        cwd=ROOT,
        input="",  # leaves at once
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Staff test shell" in output
    assert not NOISE.findall(output), output
