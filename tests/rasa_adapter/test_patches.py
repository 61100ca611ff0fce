"""The patches registry: one way in and out, Rasa's own code on another version or when switched
off, and each patch giving Rasa's own results."""

from __future__ import annotations

import copy
import gc
import logging
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import Action, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.exceptions import ModelNotFound
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_adapter import patches, sessions
from bot.rasa_adapter.graph_runner import SequentialGraphRunner
from bot.rasa_adapter.patches import PATCHES, PatchSettings
from tests.conftest import ROOT, latest_model

VALID = {
    "events": [{"event": "slot", "name": "x", "value": 1}],
    "responses": [{"text": "hello", "buttons": [{"title": "a", "payload": "/b"}]}],
}
INVALID = {"events": "not a list", "responses": []}


def _rasas_own() -> dict[str, Any]:
    """What Rasa's classes hold where the patches go (None: nothing)."""
    return {p.name: p.target().__dict__.get(p.attribute) for p in PATCHES}


@pytest.fixture(autouse=True)
def rasas_code_afterwards() -> Any:
    """Every test here leaves Rasa as it found it (other tests in the session may have patched
    it: then the same patches go back)."""
    with patches.left_out():
        yield


def test_install_patches_everything_once_and_restore_puts_rasa_back() -> None:
    rasa = _rasas_own()
    assert rasa["Slot.__copy__"] is None  # Rasa's slots are copied by the generic protocol
    assert patches.install(env={})
    first = _rasas_own()
    assert all(first[name] is not rasa[name] for name in rasa)
    assert patches.install(env={})  # again: a fresh set on Rasa's code, not patches of patches
    for patch in PATCHES:
        assert patches.original(patch.name) is (rasa[patch.name] or patches._ABSENT)
        assert patch.why.strip(), f"{patch.name} says why it is a patch"
    patches.restore()
    assert _rasas_own() == rasa
    assert not patches.installed()


def test_switched_off_rasa_runs_its_own_code(caplog: pytest.LogCaptureFixture) -> None:
    rasa = _rasas_own()
    for env in ({"MASSAGEBOT_PATCHES": "0"}, {"MASSAGEBOT_PATCHES": "off"}):
        assert not patches.install(env=env)
    assert _rasas_own() == rasa
    with caplog.at_level(logging.WARNING, logger="bot.rasa_adapter.patches"):
        assert not patches.install(env={"MASSAGEBOT_SPEEDUPS": "0"})  # the old name
    assert "MASSAGEBOT_SPEEDUPS is now called MASSAGEBOT_PATCHES" in caplog.text
    assert _rasas_own() == rasa
    assert patches.install(env={"MASSAGEBOT_PATCHES": "1", "MASSAGEBOT_SPEEDUPS": "0"})
    # Installed, then switched off: the earlier patches are taken back, not left half in place.
    assert not patches.install(env={"MASSAGEBOT_PATCHES": "0"})
    assert _rasas_own() == rasa and not patches.installed()


def test_another_rasa_version_keeps_its_own_code(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rasa = _rasas_own()
    assert patches.install(env={})  # installed on 3.6; a later install on another version …
    monkeypatch.setattr(patches, "rasa_version", lambda: "3.7.0")
    with caplog.at_level(logging.INFO, logger="bot.rasa_adapter.patches"):
        assert not patches.install(env={})
    assert _rasas_own() == rasa  # … takes them back
    assert [r.getMessage() for r in caplog.records] == [
        "Rasa 3.7.0 is installed but bot/rasa_adapter/patches.py is written for Rasa 3.6: "
        "running Rasa's own code without the patches (slower; no apology when an action "
        "fails; sessions end only after a pause)"
    ]
    assert patches.supported("3.6.21") and patches.supported("3.6")
    assert not patches.supported("3.60.0") and not patches.supported("4.0.0")


def test_a_changed_target_leaves_every_patch_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Slot, "__copy__", lambda self: self, raising=False)  # as if Rasa had one
    rasa = _rasas_own()
    assert not patches.install(env={})
    assert _rasas_own() == rasa  # all or nothing


def test_action_results_are_checked_exactly_as_rasa_checks_them() -> None:
    action = RemoteAction("action_x", None)
    rasas = RemoteAction._validate_action_result
    ours = patches.validate_action_result(rasas, PatchSettings())
    assert rasas(action, VALID) is True
    assert ours(action, VALID) is True
    messages = []
    for check in (rasas, ours):
        with pytest.raises(jsonschema.ValidationError) as error:
            check(action, INVALID)
        messages.append(error.value.message)
    assert messages[0] == messages[1]


def test_slots_copy_as_rasa_copies_them() -> None:
    slots = Domain.load(ROOT / "domain.yml").slots
    for slot in slots:
        slot.value = ["kept"] if isinstance(slot.value, list) else "kept"
    rasas = [copy.copy(slot) for slot in slots]
    with patches.applied():
        assert Slot.__dict__["__copy__"] is not None
        ours = [copy.copy(slot) for slot in slots]
    for slot, theirs, mine in zip(slots, rasas, ours, strict=True):
        assert type(mine) is type(theirs) is type(slot) and mine is not slot
        assert mine.__dict__ == theirs.__dict__ == slot.__dict__
        mine.reset()
        assert slot.value in (["kept"], "kept")  # the original keeps its value


def _conversation(domain: Domain, messages: int) -> DialogueStateTracker:
    tracker = DialogueStateTracker("c", domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    for i in range(messages):
        tracker.update(UserUttered(f"question {i}", {"name": "ask_benefits", "confidence": 1.0}))
        tracker.update(ActionExecuted("action_answer_faq"))
        tracker.update(BotUttered(f"answer {i}"))
        tracker.update(ActionExecuted("action_listen"))
    return tracker


async def test_sessions_roll_over_at_the_limit_and_not_before() -> None:
    """With the limit reached, the new session of `sessions`; otherwise (and with limit 0)
    exactly what Rasa's `_update_tracker_session` does."""
    domain = Domain.load(ROOT / "domain.yml")
    processor = MessageProcessor.__new__(MessageProcessor)  # the method needs only the domain
    processor.domain = domain
    rasas = MessageProcessor._update_tracker_session
    for limit, messages in ((0, 5), (3, 2)):
        tracker, expected = _conversation(domain, messages), _conversation(domain, messages)
        ours = patches.update_tracker_session(rasas, PatchSettings(session_limit=limit))
        await ours(processor, tracker, None)
        await rasas(processor, expected, None)
        assert [type(e) for e in tracker.events] == [type(e) for e in expected.events]
    tracker = _conversation(domain, 3)
    ours = patches.update_tracker_session(rasas, PatchSettings(session_limit=3))
    await ours(processor, tracker, None)
    assert any(isinstance(event, SessionStarted) for event in tracker.events)
    assert sessions.messages_in_session(tracker) == 0


class Failing(Action):
    def name(self) -> str:
        return "action_failing"

    async def run(self, *args: Any, **kwargs: Any) -> list:
        raise ConnectionError("action server down")


async def test_failed_actions_reach_rasa_as_an_apology() -> None:
    given: list[Any] = []

    async def rasas(processor: Any, action: Action, *args: Any, **kwargs: Any) -> bool:
        given.append(action)
        return True

    ours = patches.run_action(rasas, PatchSettings(apology=lambda: "sorry, call us"))
    assert await ours(None, Failing(), "channel", "nlg") is True
    events = await given[0].run(None, None, None, None)
    assert isinstance(events[0], BotUttered) and events[0].text == "sorry, call us"


class BrokenStore(InMemoryTrackerStore):
    """A conversation store whose database is down."""

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        raise ConnectionError("database down")

    async def save(self, tracker: DialogueStateTracker) -> None:
        raise ConnectionError("database down")


async def test_a_failing_conversation_store_is_not_papered_over() -> None:
    """Rasa's wrapper carries on with no conversation (and keeps the new one in memory only);
    ours lets the error through, so the message is not taken as if it were."""
    store = FailSafeTrackerStore(BrokenStore(Domain.empty()))
    tracker = DialogueStateTracker("client", [])
    assert await store.retrieve("client") is None  # Rasa's own
    with patches.applied():
        with pytest.raises(ConnectionError, match="database down"):
            await store.retrieve("client")
        with pytest.raises(ConnectionError, match="database down"):
            await store.save(tracker)


async def test_a_store_failure_tells_the_client_the_message_was_not_taken() -> None:
    async def rasas(agent: Any, message: UserMessage) -> Any:
        if message.text == "fine":
            return [{"text": "hello"}]
        raise ConnectionError("Redis down")

    ours = patches.answer_when_a_store_fails(
        rasas, PatchSettings(store_apology=lambda: "not taken, send it again")
    )
    collector = CollectingOutputChannel()
    assert await ours(None, UserMessage("hi", collector, "client")) is None
    assert [m["text"] for m in collector.messages] == ["not taken, send it again"]
    assert await ours(None, UserMessage("fine", CollectingOutputChannel(), "client")) == [
        {"text": "hello"}
    ]


@pytest.mark.model
def test_model_loads_once_with_our_runner_and_rasas_answers(tmp_path: Path) -> None:
    """Rasa's loader, our graph runner; preloaded once; any other path is Rasa's business."""
    model = latest_model()
    rasas_name, rasas_metadata, rasas_runner = MessageProcessor._load_model(model)
    with patches.applied():
        try:
            patches.preload_model(str(model))
        finally:
            gc.unfreeze()  # this test process keeps collecting garbage
        first = MessageProcessor._load_model(model)
        assert MessageProcessor._load_model(str(model)) is first  # the same loaded graph
        name, metadata, runner = first
        assert isinstance(runner, SequentialGraphRunner)
        assert (name, metadata.model_id) == (rasas_name, rasas_metadata.model_id)
        assert metadata.predict_schema == rasas_metadata.predict_schema
        other = tmp_path / "other.tar.gz"
        other.write_bytes(b"not a model")
        for path in (other, tmp_path / "nowhere"):
            with pytest.raises(ModelNotFound):
                MessageProcessor._load_model(path)
    assert type(rasas_runner).__name__ == "DaskGraphRunner"


@pytest.mark.model
def test_model_loads_without_jax_or_skops() -> None:
    """TensorFlow runs without JAX, and the trained model loads without importing skops
    (a fresh process: imports are global)."""
    code = (
        "import sys\n"
        "from bot.rasa_adapter.startup import prepare_process\n"
        "prepare_process()\n"
        "assert 'tensorflow' not in sys.modules\n"
        "from bot.rasa_adapter import patches\n"
        "assert patches.install(env={})\n"
        "from rasa.core.processor import MessageProcessor\n"
        "from tensorflow.lite.python import util\n"
        "assert util._xla_computation is None and sys.modules['jax'] is None\n"
        f"_, _, runner = MessageProcessor._load_model({str(latest_model())!r})\n"
        "assert runner and 'skops' not in sys.modules, 'skops was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.model
def test_launcher_says_when_the_model_does_not_load(tmp_path: Path) -> None:
    """The model is preloaded before serving: one that fails stops the start with a clear
    error (a fresh process: the launcher sets up logging and patches for the whole process)."""
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
