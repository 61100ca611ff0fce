"""`massagebot serve` keeps the bot running: the action server killed outright (kill -9) is
started again by the supervisor and the bot answers as before, without anybody restarting it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bot.rasa_adapter.serve import free_port, process_tree
from tests.support import ROOT
from tests.support.bots import prepare_database, send_rest, sender, texts
from tests.support.deployments import deployment_env

SLEEP = "does massage help with sleep?"


def eventually(condition: Callable[[], bool], what: str, log: Path, deadline: float) -> None:
    """Poll with a generous deadline: only a hang fails, never slowness."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-60:])
            raise AssertionError(f"{what} did not happen; the log ends:\n{tail}")
        time.sleep(0.5)


def answers_about_sleep(url: str, client: str) -> bool:
    try:
        return "sleep" in texts(send_rest(url, SLEEP, client, timeout=30)).lower()
    except Exception:
        return False


def test_the_action_server_killed_outright_comes_back(tmp_path: Path, model: Path) -> None:
    port, action_port = free_port(), free_port()
    env = deployment_env(
        prepare_database(f"sqlite:///{tmp_path / 'massagebot.db'}"),
        TRACKER_STORE_URL=f"sqlite:///{tmp_path / 'tracker.db'}",
        ACTION_SERVER_URL=f"http://127.0.0.1:{action_port}/webhook",
    )
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "bot", "serve", "--model", str(model)]
    command += ["--port", str(port), "--action-port", str(action_port)]
    with log.open("ab") as out:
        serve = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url, client = f"http://127.0.0.1:{port}", sender()
    try:
        eventually(lambda: "The bot is up" in log.read_text(), "serve coming up", log, 420)
        assert answers_about_sleep(url, client)

        actions = [
            pid
            for pid in process_tree([serve.pid])
            if "bot.rasa_adapter.action_server" in Path(f"/proc/{pid}/cmdline").read_text()
        ]
        assert len(actions) == 1, actions
        os.kill(actions[0], signal.SIGKILL)

        restarted = "the action server exited with signal SIGKILL"
        eventually(lambda: restarted in log.read_text(), "the restart", log, 60)
        eventually(lambda: answers_about_sleep(url, client), "an answer again", log, 180)
        assert serve.poll() is None  # serve itself never stopped
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
            raise
    assert serve.returncode == 0
