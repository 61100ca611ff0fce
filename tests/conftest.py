"""Shared fixtures: a temporary database with the curated FAQ, the sample clinic, and trackers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.clinic.db import get_engine, migrate
from bot.clinic.facts import Clinic, load_clinic
from bot.clinic.faq import import_faq
from bot.rasa_adapter.persistence import TRACKER_STORE_CLASS
from bot.rasa_adapter.serve import free_port, rasa_env, running

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def database_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'massagebot.db'}"
    migrate(url)
    yield url
    get_engine(url).dispose()


@pytest.fixture()
def faq_database(database_url: str) -> str:
    import_faq(database_url, ROOT / "data" / "faq.yml")
    return database_url


@pytest.fixture()
def clinic() -> Clinic:
    return load_clinic(ROOT / "data" / "clinic.yml")


@pytest.fixture()
def bot_env(monkeypatch: pytest.MonkeyPatch, faq_database: str) -> str:
    """Point the actions at the temporary database and the sample clinic."""
    monkeypatch.setenv("DATABASE_URL", faq_database)
    monkeypatch.setenv("CLINIC_FILE", str(ROOT / "data" / "clinic.yml"))
    return faq_database


@pytest.fixture()
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    intent: str,
    text: str = "",
    entities: list[dict[str, Any]] | None = None,
    triage: dict[str, Any] | None = None,
    slots: dict[str, Any] | None = None,
    ranking: list[dict[str, Any]] | None = None,
    sender_id: str = "client-1",
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.97},
        "entities": entities or [],
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.97}],
    }
    if triage is not None:
        latest["triage"] = triage
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


# --- A real running bot, for end-to-end tests ----------------------------------------------------


@dataclass
class RunningBot:
    """Rasa and the action server on free loopback ports, with their own database."""

    url: str
    actions_url: str
    database_url: str
    tracker_db: Path
    home: Path

    def send(self, text: str, sender: str = "e2e", timeout: float = 60) -> list[dict[str, Any]]:
        return send_rest(self.url, text, sender, timeout)


def send_rest(url: str, text: str, sender: str, timeout: float = 60) -> list[dict[str, Any]]:
    """One message through a bot's REST channel; returns the bot's replies."""
    response = requests.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=timeout
    )
    response.raise_for_status()
    return response.json()


def latest_model() -> Path:
    """The newest trained model; trains one (cached by Rasa's fingerprint) if there is none."""
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        subprocess.run(
            [sys.executable, "-m", "rasa", "train", "--out", str(ROOT / "models")],
            cwd=ROOT,
            env=rasa_env(),
            check=True,
        )
        models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1]


def write_endpoints(folder: Path, action_port: int, tracker_db: Path) -> Path:
    path = folder / "endpoints.yml"
    path.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        f"tracker_store:\n  type: {TRACKER_STORE_CLASS}\n  dialect: sqlite\n  db: {tracker_db}\n",
        encoding="utf-8",
    )
    return path


@contextmanager
def start_bot(
    folder: Path,
    credentials: Path = ROOT / "credentials.yml",
    extra_env: dict[str, str] | None = None,
) -> Iterator[RunningBot]:
    """Start a bot in `folder`: tests that need their own channels or settings use this."""
    database_url = f"sqlite:///{folder / 'massagebot.db'}"
    migrate(database_url)
    import_faq(database_url, ROOT / "data" / "faq.yml")
    port, action_port = free_port(), free_port()
    tracker_db = folder / "tracker.db"
    env = rasa_env()
    env.update(
        {
            "DATABASE_URL": database_url,
            "CLINIC_FILE": str(ROOT / "data" / "clinic.yml"),
            "MASSAGEBOT_HOME": str(ROOT),
            # Tests send many messages from one IP; the limits have their own tests.
            "RATE_LIMIT_SENDER": "0",
            "RATE_LIMIT_IP": "0",
            **(extra_env or {}),
        }
    )
    endpoints = write_endpoints(folder, action_port, tracker_db)
    with running(latest_model(), port, action_port, endpoints, credentials, env):
        yield RunningBot(
            url=f"http://127.0.0.1:{port}",
            actions_url=f"http://127.0.0.1:{action_port}",
            database_url=database_url,
            tracker_db=tracker_db,
            home=folder,
        )


@pytest.fixture(scope="session")
def bot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """One bot shared by the end-to-end tests of a session (use a unique sender per test)."""
    with start_bot(tmp_path_factory.mktemp("bot")) as bot:
        yield bot
