"""Fixtures shared by every test folder; the helpers behind them are in tests/support/.

Named as in Rasa's example projects where they mean the same: `tracker` (a factory:
`tracker("ask_benefits", text="…", slots={…})` → a Rasa SDK Tracker), `dispatcher` (a fresh
CollectingDispatcher), `domain` (the real domain.yml as the dict actions receive).

Markers (pyproject.toml) are also set here from the folder and the fixtures a test uses, so a
new test gets them without thinking: `bot_server`/`model` → `model` (and `e2e` for
`bot_server` and tests/e2e/), `postgres_url`/`redis_space` → `services`, Chromium → `browser`,
the stub bot → `server`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.clinic.db import get_engine, migrate
from bot.clinic.facts import Clinic, load_clinic, parse_clinic
from bot.clinic.faq import import_faq
from bot.rasa_adapter.serve import free_port
from tests.support import ROOT
from tests.support.bots import RunningBot, latest_model, send_rest, start_bot, write_endpoints
from tests.support.clinics import Clock, clinic_data
from tests.support.fake_platforms import FakePlatforms
from tests.support.servers import StubBot, run_stub_bot
from tests.support.services import fresh_postgres
from tests.support.services import redis_space as fresh_redis_space
from tests.support.trackers import make_tracker

# Also importable from here, as before tests/support/ held them; new code imports tests.support.
__all__ = [
    "ROOT",
    "RunningBot",
    "free_port",
    "latest_model",
    "make_tracker",
    "send_rest",
    "start_bot",
    "write_endpoints",
]

FOLDER_MARKS = {"e2e": ("e2e", "model"), "widget": ("browser",)}
FIXTURE_MARKS = {
    "bot_server": ("e2e", "model"),
    "model": ("model",),
    "postgres_url": ("services",),
    "redis_space": ("services",),
    "browser": ("browser",),
    "page": ("browser",),
    "stub_bot": ("server",),
    "fake_platforms": ("server",),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = ROOT / "tests"
    for item in items:
        names: set[str] = set()
        if Path(item.path).is_relative_to(tests):
            names.update(FOLDER_MARKS.get(Path(item.path).relative_to(tests).parts[0], ()))
        for fixture in getattr(item, "fixturenames", ()):
            names.update(FIXTURE_MARKS.get(fixture, ()))
        if item.get_closest_marker("e2e"):
            names.add("model")
        for name in sorted(names):
            item.add_marker(name)


# --- the domain: clinics, clocks, databases ------------------------------------------------------


@pytest.fixture()
def clinic() -> Clinic:
    """A clinic built in code (tests/support/clinics.py): known hours, two therapists."""
    return parse_clinic(clinic_data(), source="test clinic")


@pytest.fixture()
def solo_clinic() -> Clinic:
    """The same clinic with one therapist: one booking per slot."""
    return parse_clinic(clinic_data(therapists=[{"id": "alex", "name": "Alex"}]))


@pytest.fixture()
def sample_clinic() -> Clinic:
    """The sample clinic the bot ships with (data/clinic.yml), as the actions load it."""
    return load_clinic(ROOT / "data" / "clinic.yml")


@pytest.fixture()
def clock() -> Clock:
    """Wednesday 19 November 2025, 10:00 in London; `clock.advance(hours=…)` moves it."""
    return Clock()


@pytest.fixture()
def database_url(tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite database in the test's temporary folder."""
    url = f"sqlite:///{tmp_path / 'massagebot.db'}"
    migrate(url)
    yield url
    get_engine(url).dispose()


@pytest.fixture()
def faq_database(database_url: str) -> str:
    """`database_url` with the curated FAQ (data/faq.yml) imported."""
    import_faq(database_url, ROOT / "data" / "faq.yml")
    return database_url


@pytest.fixture()
def postgres_url() -> Iterator[str]:
    """A new, migrated PostgreSQL database, dropped afterwards; fails if PostgreSQL is down."""
    with fresh_postgres() as url:
        yield url


@pytest.fixture()
def redis_space() -> Iterator[tuple[str, str]]:
    """(REDIS_URL, key prefix) on the test Redis; the prefix's keys are deleted afterwards."""
    with fresh_redis_space() as space:
        yield space


# --- actions: Rasa SDK's tracker, dispatcher and domain ------------------------------------------


@pytest.fixture()
def bot_env(monkeypatch: pytest.MonkeyPatch, faq_database: str) -> str:
    """Point the actions at the temporary FAQ database and the sample clinic."""
    monkeypatch.setenv("DATABASE_URL", faq_database)
    monkeypatch.setenv("CLINIC_FILE", str(ROOT / "data" / "clinic.yml"))
    return faq_database


@pytest.fixture()
def tracker() -> Callable[..., Tracker]:
    """A factory: `tracker(intent, text=…, entities=…, triage=…, slots=…)` (make_tracker)."""
    return make_tracker


@pytest.fixture()
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain.yml as the dict (DomainDict) Rasa sends the action server."""
    return Domain.load(str(ROOT / "domain.yml")).as_dict()


@pytest.fixture(scope="session")
def rasa_domain() -> Domain:
    """The real domain.yml as Rasa's own Domain, for tracker stores and the policies' side."""
    return Domain.load(str(ROOT / "domain.yml"))


# --- a real running bot, and the stub bot --------------------------------------------------------


@pytest.fixture(scope="session")
def model() -> Path:
    """The newest trained model (trained first if there is none)."""
    return latest_model()


@pytest.fixture(scope="session")
def bot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """One bot shared by the end-to-end tests of a session (use a unique sender per test)."""
    with start_bot(tmp_path_factory.mktemp("bot")) as bot:
        yield bot


@pytest.fixture(scope="session")
def fake_platforms() -> Iterator[FakePlatforms]:
    """The messaging platforms' APIs, faked on loopback."""
    platforms = FakePlatforms().start()
    yield platforms
    platforms.stop()


@pytest.fixture()
def platforms(fake_platforms: FakePlatforms) -> FakePlatforms:
    """The fake platforms with an empty record for this test."""
    fake_platforms.clear()
    return fake_platforms


@pytest.fixture(scope="session")
def stub_bot(
    fake_platforms: FakePlatforms, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StubBot]:
    """The stub bot (real channels, a scripted agent) with every channel on, sending to the fake
    platforms: for UI and channel details only, never as evidence that a conversation works."""
    log = tmp_path_factory.mktemp("stub-bot") / "stub_bot.log"
    with run_stub_bot(fake_platforms.url, log) as bot:
        yield bot
