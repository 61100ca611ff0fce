"""The hot-spot fixes change nothing but speed."""

from __future__ import annotations

import time
from pathlib import Path

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import AwaitableTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from bot import speedups
from tests.conftest import free_port

ORIGINAL = RemoteAction._validate_action_result
ORIGINAL = RemoteAction._validate_action_result  # Rasa's, before any patch
VALID = {
    "events": [{"event": "slot", "name": "x", "value": 1}],
    "responses": [{"text": "hello", "buttons": [{"title": "a", "payload": "/b"}]}],
}
INVALID = {"events": "not a list", "responses": []}


def test_action_results_are_checked_exactly_as_before() -> None:
    action = RemoteAction("action_x", None)
    original = ORIGINAL
    assert original(action, VALID) is True
    assert speedups._validate_action_result(action, VALID) is True
    messages = []
    for check in (original, speedups._validate_action_result):
        with pytest.raises(jsonschema.ValidationError) as error:
            check(action, INVALID)
        messages.append(error.value.message)
    assert messages[0] == messages[1]


def test_compiled_validator_is_much_faster() -> None:
    action = RemoteAction("action_x", None)
    original = ORIGINAL

    def timed(check: object) -> float:
        started = time.perf_counter()
        for _ in range(20):
            check(action, VALID)  # type: ignore[operator]
        return time.perf_counter() - started

    speedups._validate_action_result(action, VALID)  # compile once
    assert timed(speedups._validate_action_result) * 5 < timed(original)


def test_install_patches_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RemoteAction, "_validate_action_result", ORIGINAL)
    monkeypatch.setattr(speedups, "_installed", {})
    speedups.install()
    patched = RemoteAction._validate_action_result
    speedups.install()
    assert RemoteAction._validate_action_result is patched is speedups._validate_action_result


async def test_sqlite_tracker_store_is_pooled_wal_and_still_works(tmp_path: Path) -> None:
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))
    tracker = DialogueStateTracker("c", [])
    tracker.update(UserUttered("before"))
    await store.save(tracker)
    speedups.tune_tracker_store(AwaitableTrackerStore(store))
    assert isinstance(store.engine.pool, QueuePool)
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    tracker = await store.retrieve("c")
    tracker.update(UserUttered("after"))
    await store.save(tracker)
    texts = [e.text for e in (await store.retrieve("c")).events if isinstance(e, UserUttered)]
    assert texts == ["before", "after"]
    store.engine.dispose()


async def test_action_endpoint_reuses_its_connection() -> None:
    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    peers: list[object] = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        speedups.keep_connections(endpoint)
        for _ in range(3):
            assert await endpoint.request(json={"next_action": "x"}) == {
                "events": [],
                "responses": [],
            }
        assert len(set(peers)) == 1 and len(peers) == 3  # one connection, three calls
    finally:
        await endpoint._massagebot_kept["session"].close()
        await runner.cleanup()
