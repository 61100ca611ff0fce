"""What every process of the bot does first, before it imports Rasa: a quiet, lean start.

The server, the action server, the staff shell and the `massagebot` command call
`prepare_process()` before anything else, so that:

- Rasa's dependencies do not print their deprecation warnings. Sanic turns every
  `DeprecationWarning` on (`filterwarnings("once")` when it is imported), so about twenty of
  them, from libraries we do not control (pkg_resources namespaces, distutils versions,
  pyparsing and Click renames, SQLAlchemy 2.0 notices, Rasa's own "slot auto-fill" notice),
  came before the bot's first line. Only the ones listed in `KNOWN_WARNINGS` are hidden, each
  by its message, so a new warning still shows.
- TensorFlow's C++ logging (CUDA probing) is limited to errors and Rasa's telemetry is off,
  unless the environment says otherwise.
- TensorFlow does not import JAX (see `block_jax`).
"""

from __future__ import annotations

import os
import sys
import warnings

# (category, regex matching the start of the message): what our dependencies print at every start.
KNOWN_WARNINGS: tuple[tuple[type[Warning], str], ...] = (
    # sanic_cors compares versions with distutils.
    (DeprecationWarning, r"distutils Version classes are deprecated"),
    # apscheduler, Rasa and pkg_resources' own namespace handling (mpl_toolkits, ruamel).
    (DeprecationWarning, r"pkg_resources is deprecated as an API"),
    (DeprecationWarning, r"Deprecated call to `pkg_resources\.declare_namespace"),
    # pykwalify (Rasa's YAML schema check) loads its extensions the Python 2 way.
    (DeprecationWarning, r"the load_module\(\) method is deprecated"),
    # matplotlib and packaging written for pyparsing 2 (PyparsingDeprecationWarning).
    (DeprecationWarning, r"'\w+' deprecated - use '\w+'"),
    # typer and spaCy's CLI written for Click 8.1 ("… is deprecated … in Click 9.0").
    (DeprecationWarning, r".*\bClick 9\.0"),
    # Rasa's SQL tracker store on SQLAlchemy 1.4 (`URL()`; the 2.0 notice, if imported early).
    (DeprecationWarning, r"Calling URL\(\) directly is deprecated"),
    (DeprecationWarning, r"Deprecated API features detected"),
    # Rasa 3.6 says this whenever it reads a domain with slot mappings, whatever they are.
    (UserWarning, r"Slot auto-fill has been removed in 3\.0"),
)

ENVIRONMENT_DEFAULTS = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",  # TensorFlow's C++ log: errors only (no CUDA probing lines)
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",  # read when SQLAlchemy is imported
}


def quiet_warnings(before_sanic: bool = True) -> None:
    """Hide `KNOWN_WARNINGS` (idempotent: call again after Rasa sets up its own filters).

    Filters are checked in order and every `filterwarnings` call goes to the front, so Sanic's
    catch-all, added when it is imported, would win over ours: with `before_sanic` we import
    Sanic first (0.1 s; every process that serves imports it anyway).
    """
    if before_sanic:
        import sanic.app  # noqa: F401 — for its filter, see above

    for category, message in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)


def block_jax() -> None:
    """Settle an import before Rasa loads TensorFlow.

    TensorFlow 2.12 imports JAX, if installed, only to offer TFLite conversion of JAX models,
    and carries on without it (`except ImportError`). Rasa never converts models, so we block
    the import (Python's documented `sys.modules[name] = None`): ~65 MB and ~1 s less.
    """
    if "jax" not in sys.modules:
        sys.modules["jax"] = None  # type: ignore[assignment]


def prepare_process(serves: bool = True) -> None:
    """Environment defaults, warning filters and the JAX block, before Rasa is imported.

    `serves=False` is for the `massagebot` command itself, which imports neither Rasa nor Sanic
    (its `shell` subcommand prepares again when it loads Rasa).
    """
    for name, value in ENVIRONMENT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    block_jax()
    quiet_warnings(before_sanic=serves)
