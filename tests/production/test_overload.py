"""Real Rasa servers in front of an action server that stalls or fails: past
MAX_MESSAGES_IN_FLIGHT clients are told to come back in a minute (REST: 503 + Retry-After); a
call that outlasts ACTION_TIMEOUT_SECONDS becomes the clinic's apology; after
ACTION_CIRCUIT_FAILURES failures in a row the action server is left alone while clients get the
apology at once. `/ready` stays 200 throughout: the instance itself is fine.

The action server is a fake in this process, so the test knows exactly when a call has arrived
(a stopped real one accepts connections without saying so)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.clinic.facts import load_clinic
from bot.rasa_adapter.security import BUSY
from tests.support import ROOT
from tests.support.bots import prepare_database, sender, texts
from tests.support.deployments import Server, deployment_env, rasa_servers

SLEEP = "does massage help with sleep?"  # answered by a custom action (the FAQ)
HELD_ANSWER = "An answer the action server held back."


@dataclass
class FakeActionServer:
    """`/health` answers; `/webhook` holds each call until `release` (mode `hold`), or answers
    500 (mode `fail`). `arrived` is set when a call comes in."""

    mode: str = "hold"
    calls: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def serve(self) -> ThreadingHTTPServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._json(200, {"status": "ok"})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.calls += 1
                fake.arrived.set()
                if fake.mode == "fail":
                    self._json(500, {"error": "broken"})
                    return
                fake.release.wait(120)
                self._json(200, {"events": [], "responses": [{"text": HELD_ANSWER}]})

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@dataclass
class StalledBot:
    busy: Server  # MAX_MESSAGES_IN_FLIGHT=1, and patient with the action server
    impatient: Server  # ACTION_TIMEOUT_SECONDS=1
    actions: FakeActionServer


@pytest.fixture(scope="module")
def stalled_bot(tmp_path_factory: pytest.TempPathFactory, model: Path) -> Iterator[StalledBot]:
    folder = tmp_path_factory.mktemp("stalled")
    actions = FakeActionServer()
    http = actions.serve()
    database = prepare_database(f"sqlite:///{folder / 'massagebot.db'}")
    common = {
        "ACTION_CIRCUIT_FAILURES": "3",
        "ACTION_CIRCUIT_RESET_SECONDS": "3600",  # an open circuit stays open for the test
    }
    busy = deployment_env(
        database,
        TRACKER_STORE_URL=f"sqlite:///{folder / 'busy.db'}",
        MAX_MESSAGES_IN_FLIGHT="1",
        ACTION_TIMEOUT_SECONDS="120",  # a held call stays held for the whole test
        **common,
    )
    impatient = deployment_env(
        database,
        TRACKER_STORE_URL=f"sqlite:///{folder / 'impatient.db'}",
        ACTION_TIMEOUT_SECONDS="1",
        **common,
    )
    try:
        with rasa_servers(folder, model, actions.port, [busy, impatient]) as servers:
            yield StalledBot(*servers, actions)
    finally:
        actions.release.set()
        http.shutdown()


def post(rasa: Server, text: str, client: str) -> requests.Response:
    return requests.post(
        f"{rasa.url}/webhooks/rest/webhook", json={"sender": client, "message": text}, timeout=150
    )


def ready(rasa: Server) -> tuple[int, dict[str, Any]]:
    answer = requests.get(f"{rasa.url}/ready", timeout=30)
    return answer.status_code, answer.json()


@pytest.mark.e2e
def test_a_busy_instance_sheds_new_messages_with_503_and_retry_after(
    stalled_bot: StalledBot,
) -> None:
    rasa, actions = stalled_bot.busy, stalled_bot.actions
    assert ready(rasa)[0] == 200
    actions.mode, actions.calls = "hold", 0
    actions.arrived.clear()
    actions.release.clear()
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(post, rasa, SLEEP, sender())
        assert actions.arrived.wait(120), "the first message never reached the action server"

        # One message in flight, MAX_MESSAGES_IN_FLIGHT=1: the next is turned away at once.
        busy = post(rasa, "hello", sender())
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "60"
        assert busy.json()[0]["text"] == BUSY
        assert ready(rasa)[0] == 200  # busy is not broken: no reason to leave the load balancer

        actions.release.set()
        answered = first.result(timeout=150)
    assert answered.status_code == 200 and HELD_ANSWER in texts(answered.json())
    again = post(rasa, "hello", sender())
    assert again.status_code == 200 and BUSY not in texts(again.json())


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["hold", "fail"])
def test_a_slow_or_failing_action_server_gets_an_apology_then_is_left_alone(
    stalled_bot: StalledBot, mode: str
) -> None:
    """`hold`: every call outlasts ACTION_TIMEOUT_SECONDS=1; `fail`: every call answers 500.
    Each of the two runs on a fresh server's own circuit (the busy one is patient: 120 s)."""
    rasa = stalled_bot.impatient if mode == "hold" else stalled_bot.busy
    actions = stalled_bot.actions
    phone = load_clinic(ROOT / "data" / "clinic.yml").phone
    actions.mode, actions.calls = mode, 0
    actions.release.clear()  # held calls stay held until the fixture ends
    client = sender()
    for expected_calls in (1, 2, 3, 3, 3):  # the circuit opens after the third failure
        replies = post(rasa, SLEEP, client).json()
        assert len(replies) == 1 and phone in replies[0]["text"], replies
        assert actions.calls == expected_calls
    status, body = ready(rasa)
    assert status == 200 and body["checks"]["action_server"] == "ok (circuit open)"
