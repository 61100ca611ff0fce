"""Where the Rasa server keeps conversations and locks them, chosen from the environment.

Rasa's endpoints.yml can substitute `${VAR}` but has no defaults, so a file that mentions
`${TRACKER_STORE_URL}` would stop `make run` from starting on a laptop with nothing set. Instead
endpoints.yml keeps the single-machine default (an SQLite file under `var/`) and our launcher
(`bot.rasa_adapter.server`) overrides it from these variables. Conversations are kept by our
`tracker_store.SQLConversationStore` (Rasa's SQL store, faster), named by class path as Rasa
loads custom stores, with the settings of Rasa's `SQL` store:

TRACKER_STORE_URL      SQLAlchemy URL of the conversation store, e.g.
                       `postgresql://bot:secret@db:5432/massagebot` (default: endpoints.yml, and
                       failing that `sqlite:///var/tracker.db` under the project)
REDIS_URL              `redis://[:password@]host:6379/0` (or `rediss://`): the Redis lock store
                       of `lock_store`, so several Rasa instances (or SANIC_WORKERS > 1)
                       can serve one conversation
LOCK_STORE_KEY_PREFIX  alphanumeric prefix for the lock keys (several bots on one Redis)
ACTION_SERVER_URL      the action server's webhook (default: endpoints.yml)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import make_url

from bot.settings import ConfigError, check_service_urls, project_home

LOCK_STORE_CLASS = "bot.rasa_adapter.lock_store.AtomicRedisLockStore"
TRACKER_STORE_CLASS = "bot.rasa_adapter.tracker_store.SQLConversationStore"
# The `type`s of an SQL conversation store in endpoints.yml: ours, or Rasa's own.
SQL_STORE_TYPES = {"sql", TRACKER_STORE_CLASS.lower()}


class PersistenceConfigError(ValueError):
    """A persistence variable is malformed; the message names it."""


def default_tracker_store_url(home: Path | None = None) -> str:
    return f"sqlite:///{(home or project_home()) / 'var' / 'tracker.db'}"


def normalise_sql_url(url: str) -> str:
    """`postgres://` (what most hosts hand out) is not a name SQLAlchemy 1.4 accepts."""
    url = url.strip()
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url


def tracker_store_endpoint(url: str) -> dict[str, Any]:
    """Settings of our SQL conversation store for an SQLAlchemy URL (keys as in endpoints.yml)."""
    try:
        parsed = make_url(normalise_sql_url(url))
    except Exception as error:  # sqlalchemy raises ArgumentError with the URL in the message
        raise PersistenceConfigError("TRACKER_STORE_URL is not a valid database URL") from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        return {"type": TRACKER_STORE_CLASS, "dialect": "sqlite", "db": database}
    settings: dict[str, Any] = {
        "type": TRACKER_STORE_CLASS,
        "dialect": parsed.drivername,
        "url": parsed.host,  # Rasa's name for the host
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
    }
    if parsed.query:
        settings["query"] = dict(parsed.query)
    return {key: value for key, value in settings.items() if value is not None}


def lock_store_endpoint(url: str, key_prefix: str | None = None) -> dict[str, Any]:
    """Rasa's `redis` lock store settings for a redis:// or rediss:// URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise PersistenceConfigError("REDIS_URL must look like redis://host:6379/0")
    path = parts.path.lstrip("/")
    if path and not path.isdigit():
        raise PersistenceConfigError("REDIS_URL's path must be a database number, e.g. /0")
    settings: dict[str, Any] = {
        # Not Rasa's `redis` store: its tickets are not atomic across instances (lock_store).
        "type": LOCK_STORE_CLASS,
        "url": parts.hostname,
        "port": parts.port or 6379,
        "db": int(path or 0),
        "use_ssl": parts.scheme == "rediss",
    }
    if parts.username:
        settings["username"] = unquote(parts.username)
    if parts.password:
        settings["password"] = unquote(parts.password)
    if key_prefix:
        if not key_prefix.isalnum():
            raise PersistenceConfigError("LOCK_STORE_KEY_PREFIX must be letters and digits only")
        settings["key_prefix"] = key_prefix
    return settings


def endpoint_overrides(
    env: Mapping[str, str] | None = None, configured_tracker_store: bool = True
) -> dict[str, dict[str, Any]]:
    """Endpoint sections to replace, by endpoints.yml key; empty values count as unset.

    `configured_tracker_store` says whether endpoints.yml already names one; if not, the
    SQLite default is used so conversations survive a restart even with a bare endpoints file.
    """
    env = os.environ if env is None else env
    try:
        check_service_urls(env)
    except ConfigError as error:
        raise PersistenceConfigError(str(error)) from error
    found: dict[str, dict[str, Any]] = {}
    tracker_url = env.get("TRACKER_STORE_URL", "").strip()
    if tracker_url:
        found["tracker_store"] = tracker_store_endpoint(tracker_url)
    elif not configured_tracker_store:
        found["tracker_store"] = tracker_store_endpoint(default_tracker_store_url())
    redis_url = env.get("REDIS_URL", "").strip()
    if redis_url:
        prefix = env.get("LOCK_STORE_KEY_PREFIX", "").strip() or None
        found["lock_store"] = lock_store_endpoint(redis_url, prefix)
    action_url = env.get("ACTION_SERVER_URL", "").strip()
    if action_url:
        found["action_endpoint"] = {"url": action_url}
    return found


def describe(section: Mapping[str, Any]) -> str:
    """A one-line, password-free description for the start-up log."""
    hidden = {"password", "username"}
    return ", ".join(f"{k}={v}" for k, v in section.items() if k not in hidden and k != "query")


def tracker_store_url(
    endpoints: Path | None = None, env: Mapping[str, str] | None = None
) -> str | None:
    """The SQLAlchemy URL of the conversation store the bot uses, for staff tools (privacy).

    TRACKER_STORE_URL first, then an SQL tracker store in endpoints.yml (ours or Rasa's `SQL`),
    then the SQLite default; None if endpoints.yml names a store that is not SQL.
    """
    env = os.environ if env is None else env
    if env.get("TRACKER_STORE_URL", "").strip():
        return normalise_sql_url(env["TRACKER_STORE_URL"])
    home = project_home()
    path = endpoints or home / "endpoints.yml"
    section: Mapping[str, Any] | None = None
    if path.is_file():
        import yaml

        section = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tracker_store")
    if not section:
        return default_tracker_store_url(home)
    if str(section.get("type", "")).lower() not in SQL_STORE_TYPES:
        return None
    dialect = str(section.get("dialect") or "sqlite")
    database = str(section.get("db") or "rasa.db")
    if dialect == "sqlite":
        file = Path(database)
        return f"sqlite:///{file if file.is_absolute() else home / file}"
    from sqlalchemy.engine import URL

    host = section.get("url") or section.get("host")
    if host and "://" in str(host):
        return normalise_sql_url(str(host))
    return URL.create(
        dialect,
        username=section.get("username"),
        password=section.get("password"),
        host=host,
        port=section.get("port"),
        database=database,
    ).render_as_string(hide_password=False)
