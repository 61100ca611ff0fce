"""A real bot for end-to-end tests: Rasa and the action server on free loopback ports, with their
own database, started the way `make run` starts them (bot.rasa_adapter.serve)."""

from __future__ import annotations

import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bot.clinic.db import migrate
from bot.clinic.faq import import_faq
from bot.rasa_adapter.persistence import TRACKER_STORE_CLASS
from bot.rasa_adapter.serve import free_port, rasa_env, running
from tests.support import ROOT

# Tests send many messages from one IP; the rate limits have their own tests. A busy test machine
# may take longer than the production action timeout (5 s) for an action: that is for
# `make bench` to measure, not a reason for a conversation test to get the apology (the
# timeout has its own tests, tests/production/test_overload.py).
NO_LIMITS = {
    "RATE_LIMIT_SENDER": "0",
    "RATE_LIMIT_IP": "0",
    "RATE_LIMIT_SESSIONS": "0",
    "ACTION_TIMEOUT_SECONDS": "60",
}


@dataclass
class RunningBot:
    """Rasa and the action server on free loopback ports, with their own database."""

    url: str
    actions_url: str
    database_url: str
    tracker_db: Path
    home: Path
    api_token: str = ""
    site_origin: str = ""  # a web page at this origin may embed the widget (CORS_ORIGINS)

    def send(self, text: str, sender: str = "e2e", timeout: float = 60) -> list[dict[str, Any]]:
        return send_rest(self.url, text, sender, timeout)


def send_rest(url: str, text: str, sender: str, timeout: float = 60) -> list[dict[str, Any]]:
    """One message through a bot's REST channel; returns the bot's replies."""
    response = requests.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=timeout
    )
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def payloads(replies: list[dict[str, Any]]) -> list[str]:
    """The button payloads of the bot's replies, to answer as a client tapping them."""
    return [b["payload"] for r in replies for b in r.get("buttons") or []]


def sender(prefix: str = "client") -> str:
    """A conversation id of its own, so tests sharing a bot don't meet."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


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


def prepare_database(url: str) -> str:
    """The schema and the curated FAQ, as `massagebot setup` leaves a clinic's database."""
    migrate(url)
    import_faq(url, ROOT / "data" / "faq.yml")
    return url


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
    database_url = prepare_database(f"sqlite:///{folder / 'massagebot.db'}")
    port, action_port, site_port = free_port(), free_port(), free_port()
    tracker_db = folder / "tracker.db"
    site_origin = f"http://127.0.0.1:{site_port}"
    env = rasa_env()
    env.update(
        {
            "DATABASE_URL": database_url,
            "CLINIC_FILE": str(ROOT / "data" / "clinic.yml"),
            "MASSAGEBOT_HOME": str(ROOT),
            **NO_LIMITS,
            # Staff tools resume conversations through the HTTP API (tests/e2e/test_ownership.py).
            "RASA_API_ENABLED": "true",
            "RASA_TOKEN": secrets.token_hex(16),
            "CORS_ORIGINS": site_origin,
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
            api_token=env["RASA_TOKEN"],
            site_origin=site_origin,
        )
