"""Every change this project makes to Rasa's own code, in one place, each with why.

Rasa's public extension points carry most of what the bot adds, and we use them: the
conversation store named in endpoints.yml (`tracker_store`), NLU components named in config.yml
(`nlu.spacy_nlp`, `nlu.intent_classifier`, `nlu.crf`), the graph-runner class handed to Rasa's
model loader (`graph_runner`), the action endpoint class the server builds (`action_endpoint`),
channels in credentials.yml and the lock store. What is left in `PATCHES` has no extension
point; each patch's docstring says what it changes, why, and why Rasa offers no other way.

`install()` is the one way in:
- it checks the installed Rasa against `RASA_SERIES`, the version the patches were written
  and tested for: on any other it logs one line and leaves Rasa's code as it is;
- it checks every target still looks as expected before changing any, and records the
  originals; `restore()` puts them all back (the tests use the same registry);
- `MASSAGEBOT_PATCHES=0` leaves all of them out: Rasa's own code paths, to compare with
  `make bench` or to rule the patches out. That also means no apology when an action fails and
  no session roll-over. The switch's old name, `MASSAGEBOT_SPEEDUPS=0`, still works and says so.

tests/rasa_adapter/test_patches.py checks each patch gives Rasa's own results, so an upgrade that
changes what they replace fails there first.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

RASA_SERIES = "3.6"
SWITCH = "MASSAGEBOT_PATCHES"
OLD_SWITCH = "MASSAGEBOT_SPEEDUPS"
_OFF = ("0", "false", "off", "no")


@dataclass(frozen=True)
class PatchSettings:
    """What the patches need from the configuration."""

    # The text sent when an action fails (default: `resilience.clinic_apology`).
    apology: Callable[[], str] | None = None
    # The text sent when the conversation or lock store fails (`resilience.message_not_taken`).
    store_apology: Callable[[], str] | None = None
    session_limit: int = 0  # client messages per session; 0 = Rasa's time-only sessions


# --- the model, loaded once, run without dask ----------------------------------------------------

_preloaded: dict[str, Any] = {}


def _model_key(model_path: Any) -> str:
    return str(Path(model_path).resolve())


def load_model(original: Callable[..., Any] | None, _settings: PatchSettings) -> Callable:
    """`MessageProcessor._load_model`: the model preloaded by `preload_model`, and our graph
    runner (`graph_runner.SequentialGraphRunner`) instead of `DaskGraphRunner`.

    Why a patch: every processor loads its model from a path inside Rasa's `Agent`, and
    `_load_model` hard-codes `DaskGraphRunner` in its call to Rasa's loader; nothing lets a
    caller pass a loaded model or another runner class. The rest is Rasa's code: the same
    archive lookup, errors and loader.
    """

    def _load_model(model_path: Any) -> Any:
        import tarfile

        from rasa.engine import loader
        from rasa.engine.storage.local_model_storage import LocalModelStorage
        from rasa.exceptions import ModelNotFound
        from rasa.model import get_latest_model
        from rasa.utils.common import TempDirectoryPath, get_temp_dir_name

        from bot.rasa_adapter.graph_runner import SequentialGraphRunner

        loaded = _preloaded.get(_model_key(model_path))
        if loaded is not None:
            return loaded
        try:
            if os.path.isfile(model_path):
                model_tar = model_path
            else:
                model_tar = get_latest_model(model_path)
                if not model_tar:
                    raise ModelNotFound(f"No model found at path '{model_path}'.")
        except TypeError as error:
            raise ModelNotFound(f"Model {model_path} can not be loaded.") from error
        logging.getLogger("rasa.core.processor").info("Loading model %s...", model_tar)
        with TempDirectoryPath(get_temp_dir_name()) as temporary_directory:
            try:
                metadata, runner = loader.load_predict_graph_runner(
                    Path(temporary_directory),
                    Path(model_tar),
                    LocalModelStorage,
                    SequentialGraphRunner,
                )
            except tarfile.ReadError as error:
                raise ModelNotFound(f"Model {model_path} can not be loaded.") from error
        return os.path.basename(model_tar), metadata, runner

    return _load_model


def preload_model(model_path: str) -> None:
    """Load the model in the launcher, before Sanic forks its workers (`SANIC_WORKERS`).

    Each worker used to load the model for itself after the fork: the workers started one after
    the other on a busy machine and each held its own copy (~600 MB). Forked after the load, they
    start at once and share the model's memory copy-on-write. `gc.freeze()` (Python's advice
    for this) keeps the garbage collector from writing to the shared objects, which would copy
    them into every worker after all. Needs the `_load_model` patch (`install()` first).
    """
    from rasa.core.processor import MessageProcessor

    if "MessageProcessor._load_model" not in _originals:
        raise RuntimeError("preload_model needs the patches installed")
    _preloaded[_model_key(model_path)] = MessageProcessor._load_model(model_path)
    gc.freeze()


# --- conversations -------------------------------------------------------------------------------


def update_tracker_session(original: Callable[..., Any] | None, settings: PatchSettings) -> Any:
    """`MessageProcessor._update_tracker_session`, which also starts a new session after
    `settings.session_limit` client messages (see `sessions` for when and how).

    Why a patch: Rasa decides here, and only here, whether a conversation needs a new session,
    and only by the time since the last message (`session_expiration_time`); no setting or hook
    counts messages.
    """
    from bot.rasa_adapter import sessions

    assert original is not None
    limit = settings.session_limit

    async def _update_tracker_session(
        self: Any, tracker: Any, output_channel: Any, metadata: Any = None
    ) -> None:
        before = len(tracker.events)
        await original(self, tracker, output_channel, metadata)
        if len(tracker.events) == before and sessions.should_start_new_session(tracker, limit):
            logger.debug("Conversation %s continues in a new session", tracker.sender_id)
            for event in sessions.new_session_events(tracker):
                tracker.update(event, self.domain)

    return _update_tracker_session


def run_action(original: Callable[..., Any] | None, settings: PatchSettings) -> Any:
    """`MessageProcessor._run_action`, with the action answering the clinic's apology instead of
    failing (see `resilience`).

    Why a patch: Rasa catches an action's exception inside `_run_action`, logs it and carries on
    without a reply; there is no callback for a failed action (`on_circuit_break` only covers
    the prediction loop), and the actions are Rasa's own objects, made per call.
    """
    from bot.rasa_adapter.resilience import clinic_apology, guard_action

    assert original is not None
    apology = settings.apology or clinic_apology

    async def _run_action(self: Any, action: Any, *args: Any, **kwargs: Any) -> bool:
        return await original(self, guard_action(action, apology), *args, **kwargs)

    return _run_action


# --- a store that fails: say so, never carry on with a blank or unsaved conversation -----------


def fail_loudly(_original: Callable[..., Any] | None, _settings: PatchSettings) -> Any:
    """`FailSafeTrackerStore.on_tracker_store_error` (and `…_retrieve_error`), raising the
    conversation store's error instead of carrying on without it.

    Rasa's "fail-safe" wrapper answers a failed read with no conversation at all (the client's
    booking form and all they said are forgotten for that message), and a failed write by
    keeping the conversation in this process's memory, which the next read from the database
    never sees: the client gets an answer and the message is lost (`make chaos` counted them).
    Raised, the message is not taken and the client is told so (`answer_when_a_store_fails`).

    Why a patch: Rasa wraps every tracker store in this class (`Agent._create_tracker_store`)
    without its error callback, and with no setting to leave it out; these methods are where
    it gives up on the real store.
    """

    def _on_tracker_store_error(self: Any, error: Exception) -> None:
        logger.error("The conversation store failed (%s): the message is not taken", error)
        raise error

    return _on_tracker_store_error


def answer_when_a_store_fails(original: Callable[..., Any] | None, settings: PatchSettings) -> Any:
    """`Agent.handle_message`, answering the clinic's "couldn't take your message, send it
    again" when the lock store (Redis) or the conversation store fails, instead of nothing (any
    other failure while handling the message, such as the model's, gets the same answer).

    Why a patch: both are used in `Agent.handle_message` itself (the lock around the message,
    the conversation read and saved inside it); Rasa's channels catch the error, log it and
    answer an empty list, so the client sees no reply at all and cannot tell it was not taken.
    """
    from bot.rasa_adapter.resilience import message_not_taken

    assert original is not None
    notice = settings.store_apology or message_not_taken

    async def _handle_message(self: Any, message: Any) -> Any:
        try:
            return await original(self, message)
        except Exception:
            logger.exception("A message was not taken: handling it failed (a store, or the model)")
            if message.output_channel is not None:
                await message.output_channel.send_text_message(message.sender_id, notice())
            return None

    return _handle_message


# --- hot spots -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, instead of on every action call
    return cls(schema)


def validate_action_result(_original: Callable[..., Any] | None, _settings: PatchSettings) -> Any:
    """`RemoteAction._validate_action_result` with a validator compiled once.

    Rasa checks every custom action's response with `jsonschema.validate(result, schema)`, which
    first re-validates the *schema itself* against the JSON Schema meta-schema: with jsonschema
    4 that was over a third of the Rasa server's CPU under load. The response is checked exactly
    as before and an invalid one raises the same error with the same message.

    Why a patch: Rasa makes a `RemoteAction` for every custom action itself
    (`action_for_name_or_text`), with no way to give it another class or validator.
    """

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        from jsonschema import ValidationError
        from rasa.shared.constants import DOCS_BASE_URL

        try:
            _action_result_validator().validate(result)
            return True
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response "
                f"from the Action endpoint is valid. For more information about the format "
                f"visit {DOCS_BASE_URL}/custom-actions"
            )
            raise

    return _validate_action_result


def copy_slot(_original: Callable[..., Any] | None, _settings: PatchSettings) -> Any:
    """`Slot.__copy__`: what `copy.copy` does for a slot (a new instance sharing the attribute
    values), without going through `__reduce_ex__`: four times faster.

    Policies replay the conversation into fresh trackers several times per message, and each
    new tracker copies every slot of the domain with `copy.copy`, whose generic protocol made
    that a twelfth of the CPU.

    Why a patch: Rasa's slots have no `__copy__`. Custom slot classes can be named in
    domain.yml, but Rasa adds its own slots (`requested_slot`, `session_started_metadata`, …)
    from its own classes, and every slot type in the domain would become a project class only
    to copy faster.
    """

    def __copy__(self: Any) -> Any:
        new = self.__class__.__new__(self.__class__)
        new.__dict__.update(self.__dict__)
        return new

    return __copy__


# --- the registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Patch:
    """Replace `owner.attribute` with what `build(original, settings)` returns."""

    owner: str  # "module:Class"
    attribute: str
    build: Callable[[Callable[..., Any] | None, PatchSettings], Any]
    adds: bool = False  # Rasa has no such attribute: we add one
    name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"{self.owner.split(':')[1]}.{self.attribute}")

    def target(self) -> type:
        module, cls = self.owner.split(":")
        return getattr(importlib.import_module(module), cls)

    @property
    def why(self) -> str:
        return self.build.__doc__ or ""


_PROCESSOR = "rasa.core.processor:MessageProcessor"
_REMOTE_ACTION = "rasa.core.actions.action:RemoteAction"
_FAIL_SAFE = "rasa.core.tracker_store:FailSafeTrackerStore"
PATCHES: tuple[Patch, ...] = (
    Patch(_PROCESSOR, "_load_model", load_model),
    Patch(_PROCESSOR, "_update_tracker_session", update_tracker_session),
    Patch(_PROCESSOR, "_run_action", run_action),
    Patch(_REMOTE_ACTION, "_validate_action_result", validate_action_result),
    Patch(_FAIL_SAFE, "on_tracker_store_error", fail_loudly),
    Patch(_FAIL_SAFE, "on_tracker_store_retrieve_error", fail_loudly),
    Patch("rasa.core.agent:Agent", "handle_message", answer_when_a_store_fails),
    Patch("rasa.shared.core.slots:Slot", "__copy__", copy_slot, adds=True),
)

_ABSENT = object()
# Patch name -> (class, attribute, what the class held before: Rasa's own, or _ABSENT).
_originals: dict[str, tuple[type, str, Any]] = {}
_installed_with: list[PatchSettings] = []  # the settings of the patches in place


def enabled(env: Mapping[str, str] | None = None) -> bool:
    """False when MASSAGEBOT_PATCHES (or its old name MASSAGEBOT_SPEEDUPS) is 0/false/off/no."""
    env = os.environ if env is None else env
    value = env.get(SWITCH, "").strip()
    if not value and env.get(OLD_SWITCH, "").strip():
        value = env[OLD_SWITCH].strip()
        logger.warning("%s is now called %s; please rename it", OLD_SWITCH, SWITCH)
    return value.lower() not in _OFF


def rasa_version() -> str:
    return version("rasa")


def supported(installed: str) -> bool:
    return installed == RASA_SERIES or installed.startswith(f"{RASA_SERIES}.")


def install(settings: PatchSettings | None = None, env: Mapping[str, str] | None = None) -> bool:
    """Apply every patch (again, with these settings, if already applied); True if applied.

    Switched off or not applicable, it also takes back patches installed earlier: the process
    then runs Rasa's own code throughout, never half of each.
    """
    restore()
    if not enabled(env):
        logger.info("%s=0: running Rasa's own code, without the patches", SWITCH)
        return False
    installed = rasa_version()
    if not supported(installed):
        logger.warning(
            "Rasa %s is installed but bot/rasa_adapter/patches.py is written for Rasa %s: "
            "running Rasa's own code without the patches (slower; no apology when an action "
            "fails; sessions end only after a pause)",
            installed,
            RASA_SERIES,
        )
        return False
    settings = settings or PatchSettings()
    found = []
    for patch in PATCHES:
        cls = patch.target()
        before = cls.__dict__.get(patch.attribute, _ABSENT)
        if (before is _ABSENT) != patch.adds:
            logger.warning(
                "Rasa %s %s %s: running Rasa's own code without the patches",
                installed,
                "already has" if patch.adds else "has no",
                patch.name,
            )
            return False
        found.append((patch, cls, before))
    for patch, cls, before in found:
        original = None if patch.adds else getattr(cls, patch.attribute)
        replacement = patch.build(original, settings)
        if isinstance(before, staticmethod):
            replacement = staticmethod(replacement)
        _originals[patch.name] = (cls, patch.attribute, before)
        setattr(cls, patch.attribute, replacement)
    _installed_with.append(settings)
    logger.debug("Rasa %s patched: %s", installed, ", ".join(p.name for p in PATCHES))
    return True


def restore() -> None:
    """Put Rasa's own code back everywhere `install` changed it."""
    for cls, attribute, before in reversed(_originals.values()):
        if before is _ABSENT:
            delattr(cls, attribute)
        else:
            setattr(cls, attribute, before)
    _originals.clear()
    _installed_with.clear()
    _preloaded.clear()


def installed() -> bool:
    return bool(_originals)


def original(name: str) -> Any:
    """Rasa's own attribute that the patch `name` replaced (as the class held it)."""
    return _originals[name][2]


@contextmanager
def _then_as_before() -> Iterator[None]:
    before = list(_installed_with)
    try:
        yield
    finally:
        restore()
        if before:
            install(before[0], env={})


@contextmanager
def applied(settings: PatchSettings | None = None) -> Iterator[None]:
    """The patches for the duration of a block (tests); then back to what was there before."""
    with _then_as_before():
        if not install(settings, env={}):
            raise RuntimeError(f"the patches do not apply to Rasa {rasa_version()}")
        yield


@contextmanager
def left_out() -> Iterator[None]:
    """Rasa's own code for the duration of a block (tests); then back to what was there."""
    with _then_as_before():
        restore()
        yield
