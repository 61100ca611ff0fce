"""Fixtures for the widget tests: the stub bot, and a fresh Chromium page per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from browser import CHROMIUM_ARGS, chromium_path  # noqa: E402
from fake_platforms import FakePlatforms  # noqa: E402
from servers import StubBot, run_stub_bot  # noqa: E402


@pytest.fixture(scope="session")
def fake_platforms() -> Iterator[FakePlatforms]:
    platforms = FakePlatforms().start()
    yield platforms
    platforms.stop()


@pytest.fixture(scope="session")
def stub_bot(
    fake_platforms: FakePlatforms, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StubBot]:
    log = tmp_path_factory.mktemp("stub-bot") / "stub_bot.log"
    with run_stub_bot(fake_platforms.url, log) as bot:
        yield bot


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.fail("Chromium not found: run scripts/install-chromium.sh or set CHROMIUM_PATH")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile per test: empty localStorage, so no history leaks between tests."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture()
def page(context: Any) -> Any:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    return page
