"""The hot-spot fixes change nothing but speed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import AwaitableTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from bot import speedups
from tests.conftest import ROOT, free_port

# Rasa's own, even if another test already had the launcher patch this process.
ORIGINAL = speedups._originals.get("validate", RemoteAction._validate_action_result)
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


@pytest.fixture()
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Install the patches for one test; monkeypatch puts back what was there before."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result", ORIGINAL)
    monkeypatch.setattr(Event, "resolve_by_type", Event.__dict__["resolve_by_type"])
    monkeypatch.setattr(SQLTrackerStore, "_retrieve", SQLTrackerStore._retrieve)
    speedups.install()


def test_install_patches_once(patched: None) -> None:
    validate = RemoteAction._validate_action_result
    speedups.install()
    speedups.install()
    assert RemoteAction._validate_action_result is validate is speedups._validate_action_result
    assert SQLTrackerStore._retrieve is speedups._retrieve


def test_event_classes_resolve_as_before(patched: None) -> None:
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("user") is UserUttered  # from the cache
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("nonsense", default=UserUttered) is UserUttered
    assert Event.resolve_by_type("nonsense", default=SlotSet) is SlotSet  # default not cached
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("nonsense")


async def test_conversation_loads_the_same(patched: None, tmp_path: Path) -> None:
    domain = Domain.from_dict({"slots": {"x": {"type": "text", "mappings": []}}})
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    tracker = DialogueStateTracker("c", domain.slots)
    for event in (SessionStarted(), ActionExecuted("action_listen"), UserUttered("hi")):
        tracker.update(event)
    tracker.update(SlotSet("x", "kept"))
    await store.save(tracker)
    loaded = await store.retrieve("c")
    original = await speedups._originals["retrieve"](store, "c", False)
    assert loaded.events == original.events == tracker.events
    assert loaded.get_slot("x") == "kept"
    assert await store.retrieve("nobody") is None
    store.engine.dispose()


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


def test_imports_settled_before_rasa() -> None:
    """skops comes first and TensorFlow runs without JAX (a fresh process: imports are global)."""
    code = (
        "import sys\n"
        "from bot import speedups\n"
        "speedups.import_before_rasa()\n"
        "assert 'skops.io' in sys.modules and 'tensorflow' not in sys.modules\n"
        "from rasa.nlu.classifiers.logistic_regression_classifier import "
        "LogisticRegressionClassifier\n"
        "from tensorflow.lite.python import util\n"
        "assert util._xla_computation is None and sys.modules['jax'] is None\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]
