"""Passwords pasted into service URLs (compose builds DATABASE_URL and REDIS_URL from
POSTGRES_PASSWORD and REDIS_PASSWORD; Kubernetes secrets hold whole URLs) must be URL-safe: every
component refuses to start with one that would be misread, and says how to fix it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.rasa_adapter.persistence import PersistenceConfigError, endpoint_overrides
from bot.settings import ConfigError, Settings, check_service_urls, url_credentials_problem
from tests.support import ROOT
from tests.support.deployments import deployment_env

MISREAD = [
    "postgresql://massagebot:p@ss@postgres:5432/massagebot",  # host becomes ss@postgres
    "postgresql://massagebot:a/b@postgres:5432/massagebot",  # the host ends at the slash
    "postgresql://massagebot:what?@postgres/massagebot",
    "redis://:hash#tag@redis:6379/0",  # the rest is a fragment
    "redis://:100%sure@redis:6379/0",  # %su is no escape
    "postgresql://massagebot:two words@postgres/massagebot",
]
READ_AS_WRITTEN = [
    "postgresql://massagebot:0f3a9c1d2e4b5a6978@postgres:5432/massagebot",
    "postgresql://massagebot:p%40ss%2Fword@postgres:5432/massagebot",  # escaped
    "redis://:Sh4rp-pass_word.~!$&'()*+,;=:x@redis:6379/0",
    "redis://redis:6379/0",
    "sqlite:////app/var/massagebot.db",
    "postgresql://massagebot@postgres/massagebot?application_name=a@b",
    "redis://redis:6379/0?client_name=a@b",
]


@pytest.mark.parametrize("url", MISREAD)
def test_a_password_that_would_be_misread_is_refused(url: str) -> None:
    problem = url_credentials_problem("DATABASE_URL", url)
    assert problem and problem.startswith("DATABASE_URL:") and "openssl rand -hex" in problem
    assert url.split("://")[1].rsplit("@", 1)[0] not in problem  # no password in the message


@pytest.mark.parametrize("url", READ_AS_WRITTEN)
def test_url_safe_credentials_pass(url: str) -> None:
    assert url_credentials_problem("REDIS_URL", url) is None


def test_every_service_url_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "TRACKER_STORE_URL", "REDIS_URL"):
        env = {name: MISREAD[0]}
        with pytest.raises(ConfigError, match=name):
            check_service_urls(env)
        with pytest.raises(PersistenceConfigError, match=name):
            endpoint_overrides(env)
    monkeypatch.setenv("DATABASE_URL", MISREAD[3])
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Settings.from_env()


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "bot", "outbox", "deliver"],
        [sys.executable, "-m", "bot.rasa_adapter.action_server", "--actions", "actions"],
        [sys.executable, "-m", "bot.rasa_adapter.server", "--model", "models"],
    ],
    ids=["outbox worker and staff CLI", "action server", "Rasa server"],
)
def test_each_component_refuses_to_start(command: list[str]) -> None:
    env = deployment_env(MISREAD[0])
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "DATABASE_URL: the user name or password has characters" in done.stderr
    assert "Traceback" not in done.stderr
