"""The hot-spot fixes change nothing but speed."""

from __future__ import annotations

import copy
import gc
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import AwaitableTrackerStore, SQLTrackerStore
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.engine.loader import load_predict_graph_runner
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.exceptions import ModelNotFound
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from bot.rasa_adapter import model_speedups, speedups
from bot.rasa_adapter.serve import free_port
from tests.support import ROOT

# Rasa's own, even if another test already had the launcher patch this process.
ORIGINAL = speedups._originals.get("validate", RemoteAction._validate_action_result)
VALID = {
    "events": [{"event": "slot", "name": "x", "value": 1}],
    "responses": [{"text": "hello", "buttons": [{"title": "a", "payload": "/b"}]}],
}
INVALID = {"events": "not a list", "responses": []}
LR_CREATE_X = model_speedups._originals.get("create_x", LogisticRegressionClassifier._create_X)


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


def test_the_validator_is_compiled_once() -> None:
    """Every check reuses one compiled validator (how much faster that is: `make bench`)."""
    action = RemoteAction("action_x", None)
    speedups._validate_action_result(action, VALID)
    compiled = speedups._action_result_validator()
    for result in (VALID, VALID):
        assert speedups._validate_action_result(action, result) is True
    assert speedups._action_result_validator() is compiled


@pytest.fixture()
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Install the patches for one test; monkeypatch puts back what was there before."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result", ORIGINAL)
    monkeypatch.setattr(Event, "resolve_by_type", Event.__dict__["resolve_by_type"])
    monkeypatch.setattr(SQLTrackerStore, "_retrieve", SQLTrackerStore._retrieve)
    monkeypatch.setattr(SQLTrackerStore, "save", SQLTrackerStore.save)
    monkeypatch.setattr(DaskGraphRunner, "run", DaskGraphRunner.run)
    monkeypatch.setattr(LogisticRegressionClassifier, "_create_X", LR_CREATE_X)
    monkeypatch.setattr(SpacyNLP, "load_model", SpacyNLP.__dict__["load_model"])
    monkeypatch.delattr(Slot, "__copy__", raising=False)
    speedups.install()


def test_install_patches_once(patched: None) -> None:
    validate = RemoteAction._validate_action_result
    speedups.install()
    speedups.install()
    assert RemoteAction._validate_action_result is validate is speedups._validate_action_result
    assert SQLTrackerStore._retrieve is speedups._retrieve
    assert SQLTrackerStore.save is speedups._save
    assert DaskGraphRunner.run is model_speedups.run_graph
    assert model_speedups._originals["run"] is not model_speedups.run_graph


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


def test_model_loads_without_jax_or_skops(model: Path) -> None:
    """TensorFlow runs without JAX, and the trained model loads without importing skops
    (a fresh process: imports are global)."""
    code = (
        "import sys\n"
        "from bot.rasa_adapter import speedups\n"
        "speedups.import_before_rasa()\n"
        "assert 'tensorflow' not in sys.modules\n"
        "from rasa.core.processor import MessageProcessor\n"
        "from tensorflow.lite.python import util\n"
        "assert util._xla_computation is None and sys.modules['jax'] is None\n"
        f"_, _, runner = MessageProcessor._load_model({str(model)!r})\n"
        "assert runner and 'skops' not in sys.modules, 'skops was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]


async def _stored_rows(store: SQLTrackerStore) -> list[tuple]:
    with store.engine.connect() as connection:
        query = text(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
            "FROM events ORDER BY id"
        )
        return [tuple(row) for row in connection.execute(query)]


def _session(*texts: str) -> list[Event]:
    events: list[Event] = [ActionExecuted("action_session_start"), SessionStarted()]
    for said in texts:
        events += [
            ActionExecuted("action_listen"),
            UserUttered(said, intent={"name": "greet", "confidence": 0.9}),
            ActionExecuted("utter_greet"),
        ]
    return events


async def test_saving_appends_exactly_the_new_events(patched: None, tmp_path: Path) -> None:
    """Rows as Rasa writes them; a tracker read from the store appends only what it added,
    also after a new session started inside it; one made elsewhere is counted, as before."""
    ours = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "ours.db"))
    rasa = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"))
    made_here = DialogueStateTracker("c", [])
    for event in _session("one"):
        made_here.update(event)
    await ours.save(made_here)
    await ours.save(made_here)  # nothing new: nothing written
    await speedups._originals["save"](rasa, made_here)
    assert await _stored_rows(ours) == await _stored_rows(rasa)

    tracker = await ours.retrieve("c")
    for event in [*_session("two")[2:], *_session("three")]:  # then a new session
        tracker.update(event)
    await ours.save(tracker)
    await ours.save(tracker)
    stored = [json.loads(row[-1]) for row in await _stored_rows(ours)]
    # The store reads a session from its `session_started`: the action before it stays put.
    whole = [made_here.events[0], *tracker.events]
    assert stored == [event.as_dict() for event in whole]

    latest = await ours.retrieve("c")
    assert list(latest.events) == _session_events_after_last_start(tracker)
    assert latest.events == (await speedups._originals["retrieve"](ours, "c", False)).events
    assert list((await ours.retrieve_full_tracker("c")).events) == whole
    for store in (ours, rasa):
        store.engine.dispose()


def _session_events_after_last_start(tracker: DialogueStateTracker) -> list[Event]:
    events = list(tracker.events)
    start = max(i for i, event in enumerate(events) if isinstance(event, SessionStarted))
    return events[start:]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, model: Path) -> tuple[Any, Any]:
    """The trained model's metadata and graph runner, loaded with Rasa's own loader."""
    folder = tmp_path_factory.mktemp("model")
    return load_predict_graph_runner(folder, model, LocalModelStorage, DaskGraphRunner)


def _parse(metadata: Any, runner: Any, said: str) -> dict[str, Any]:
    message = UserMessage(said, sender_id="t")
    tracker = DialogueStateTracker("t", metadata.domain.slots)
    inputs = {PLACEHOLDER_MESSAGE: [message], PLACEHOLDER_TRACKER: tracker}
    results = runner.run(inputs=inputs, targets=[metadata.nlu_target])
    return results[metadata.nlu_target][0].as_dict(only_output_properties=True)


def _predict(metadata: Any, runner: Any, said: str, intent: str) -> tuple[Any, list[float]]:
    tracker = DialogueStateTracker("t", metadata.domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(said, intent={"name": intent, "confidence": 1.0}))
    results = runner.run(inputs={PLACEHOLDER_TRACKER: tracker}, targets=[metadata.core_target])
    prediction = results[metadata.core_target]
    return prediction.policy_name, prediction.probabilities


SAID = (
    "hello",
    "my lower back hurts, can I book a massage for tomorrow at 10am?",
    "Cаn І cοmе wіth іnflаmеd muѕсlеѕ?",  # look-alike letters
    "jkl qwe zzz",
)


def test_model_gives_the_same_answers(
    trained: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parses and predictions through our graph runner and feature stacking equal Rasa's."""
    metadata, runner = trained
    monkeypatch.setattr(
        DaskGraphRunner, "run", model_speedups._originals.get("run", runner.run.__func__)
    )
    monkeypatch.setattr(LogisticRegressionClassifier, "_create_X", LR_CREATE_X)
    rasa_parses = [_parse(metadata, runner, said) for said in SAID]
    rasa_predictions = [_predict(metadata, runner, said, "greet") for said in SAID[:2]]
    model_speedups.install()
    assert [_parse(metadata, runner, said) for said in SAID] == rasa_parses
    assert [_predict(metadata, runner, said, "greet") for said in SAID[:2]] == rasa_predictions
    assert rasa_parses[2]["intent"]["name"] == "ask_inflammation"  # a real parse, not empty


def test_graph_runner_keeps_rasas_contract(
    trained: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.engine.exceptions import GraphRunError

    metadata, runner = trained
    monkeypatch.setattr(DaskGraphRunner, "run", model_speedups.run_graph)
    node = next(iter(metadata.predict_schema.nodes))
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        runner.run(inputs={PLACEHOLDER_MESSAGE: node}, targets=[metadata.nlu_target])
    # An input named like a node stands in for it, as in a dask graph.
    assert runner.run(inputs={node: "given"}, targets=[node]) == {node: "given"}


def test_preloaded_model_is_loaded_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model: Path
) -> None:
    monkeypatch.setattr(MessageProcessor, "_load_model", MessageProcessor.__dict__["_load_model"])
    calls: list[str] = []
    real = MessageProcessor.__dict__["_load_model"].__func__

    def counting(path: Any) -> Any:
        calls.append(str(path))
        return real(path)

    monkeypatch.setitem(speedups._originals, "load_model", counting)
    monkeypatch.setattr(speedups, "_preloaded", {})
    try:
        speedups.preload_model(str(model))
    finally:
        gc.unfreeze()  # this test process keeps collecting garbage
    first = MessageProcessor._load_model(model)
    assert MessageProcessor._load_model(str(model)) is first  # the same loaded graph
    assert calls == [str(model)]
    other = tmp_path / "other.tar.gz"  # any other model is Rasa's business, as before
    other.write_bytes(b"not a model")
    with pytest.raises(ModelNotFound):
        MessageProcessor._load_model(other)
    assert calls == [str(model), str(other)]


def test_slots_copy_as_before(patched: None) -> None:
    assert Slot.__dict__["__copy__"] is model_speedups.copy_slot
    for slot in Domain.load(ROOT / "domain.yml").slots:
        slot.value = ["kept"] if isinstance(slot.value, list) else "kept"
        copied = copy.copy(slot)
        assert type(copied) is type(slot) and copied is not slot
        assert copied.__dict__ == slot.__dict__
        copied.reset()
        assert slot.value in (["kept"], "kept")  # the original keeps its value


@pytest.mark.server  # starts the launcher in a process of its own
def test_launcher_says_when_the_model_does_not_load(tmp_path: Path) -> None:
    """The model is loaded before serving: one that fails stops the start with a clear error
    (a fresh process: the launcher sets up logging and patches for the whole process)."""
    broken = tmp_path / "broken.tar.gz"
    with tarfile.open(broken, "w:gz") as archive:
        note = tmp_path / "metadata.json"
        note.write_text("{}")
        archive.add(note, arcname="metadata.json")
    result = subprocess.run(
        [sys.executable, "-m", "bot.rasa_adapter.server", "--model", str(broken), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"error: could not load the model {broken}" in result.stderr
