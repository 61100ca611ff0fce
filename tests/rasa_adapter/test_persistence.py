"""The tracker and lock stores are chosen by configuration (URLs in the environment, else
endpoints.yml); tests/production/test_persistence.py restarts a whole bot during a form."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.rasa_adapter.persistence import (
    PersistenceConfigError,
    default_tracker_store_url,
    endpoint_overrides,
    lock_store_endpoint,
    tracker_store_endpoint,
)


def test_sqlite_url_becomes_rasa_sql_settings(tmp_path: Path) -> None:
    settings = tracker_store_endpoint(f"sqlite:///{tmp_path / 'sub' / 'tracker.db'}")
    assert settings == {
        "type": "bot.rasa_adapter.tracker_store.SQLConversationStore",  # Rasa's SQL store, faster
        "dialect": "sqlite",
        "db": str(tmp_path / "sub/tracker.db"),
    }
    assert (tmp_path / "sub").is_dir()  # created so the first start doesn't fail


def test_postgres_url_is_split_into_rasa_keys() -> None:
    settings = tracker_store_endpoint(
        "postgres://bot:s%40cret@db.internal:6543/conversations?sslmode=require"
    )
    assert settings == {
        "type": "bot.rasa_adapter.tracker_store.SQLConversationStore",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 6543,
        "db": "conversations",
        "username": "bot",
        "password": "s@cret",
        "query": {"sslmode": "require"},
    }


def test_redis_url_becomes_lock_store_settings() -> None:
    assert lock_store_endpoint("rediss://:pw@cache:6380/3", "clinicA") == {
        "type": "bot.rasa_adapter.lock_store.AtomicRedisLockStore",
        "url": "cache",
        "port": 6380,
        "db": 3,
        "use_ssl": True,
        "password": "pw",
        "key_prefix": "clinicA",
    }
    with pytest.raises(PersistenceConfigError, match="REDIS_URL"):
        lock_store_endpoint("http://cache:6379")
    with pytest.raises(PersistenceConfigError, match="LOCK_STORE_KEY_PREFIX"):
        lock_store_endpoint("redis://cache", "clinic-a")


def test_nothing_set_keeps_endpoints_yml_and_falls_back_to_sqlite() -> None:
    assert endpoint_overrides({}) == {}
    fallback = endpoint_overrides({}, configured_tracker_store=False)["tracker_store"]
    assert fallback["dialect"] == "sqlite"
    assert fallback["db"].endswith("var/tracker.db")
    assert default_tracker_store_url().startswith("sqlite:///")


def test_environment_overrides_every_section() -> None:
    found = endpoint_overrides(
        {
            "TRACKER_STORE_URL": "postgresql://u@h/db",
            "REDIS_URL": "redis://r:6379/1",
            "LOCK_STORE_KEY_PREFIX": "siteb",
            "ACTION_SERVER_URL": "http://actions:5055/webhook",
        }
    )
    assert found["tracker_store"]["url"] == "h"
    assert found["lock_store"]["key_prefix"] == "siteb"
    assert found["action_endpoint"] == {"url": "http://actions:5055/webhook"}


def test_bad_tracker_url_names_the_variable() -> None:
    with pytest.raises(PersistenceConfigError, match="TRACKER_STORE_URL"):
        tracker_store_endpoint("not a url")
