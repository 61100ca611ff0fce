"""Pytest fixtures shared by tests/channels and tests/widget (imported by their conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_platforms import FakePlatforms
from tests.support.servers import StubBot, run_stub_bot


@pytest.fixture(scope="session")
def fake_platforms() -> Iterator[FakePlatforms]:
    """The messaging platforms' APIs, faked on loopback."""
    platforms = FakePlatforms().start()
    yield platforms
    platforms.stop()


@pytest.fixture(scope="session")
def stub_bot(
    fake_platforms: FakePlatforms, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StubBot]:
    """The stub bot with every channel on, sending to the fake platforms."""
    log = tmp_path_factory.mktemp("stub-bot") / "stub_bot.log"
    with run_stub_bot(fake_platforms.url, log) as bot:
        yield bot


@pytest.fixture()
def platforms(fake_platforms: FakePlatforms) -> FakePlatforms:
    """The fake platforms with an empty record for this test."""
    fake_platforms.clear()
    return fake_platforms
