"""The clinic's clock: real time normally, a fixed instant for conversation tests, never in
production."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.clinic import clock
from bot.clinic.models import utcnow


@pytest.fixture(autouse=True)
def no_fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (clock.FAKE_NOW, clock.FAKE_NOW_FILE, "MASSAGEBOT_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)


def test_real_time_by_default() -> None:
    assert abs(utcnow() - datetime.now(timezone.utc)) < timedelta(seconds=5)
    assert utcnow().tzinfo is not None


def test_fixed_instant_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.FAKE_NOW, "2026-03-10T09:30:00+00:00")
    assert utcnow() == datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc)
    monkeypatch.setenv(clock.FAKE_NOW, "2026-07-10T10:30:00+01:00")  # British Summer Time
    assert utcnow() == datetime(2026, 7, 10, 9, 30, tzinfo=timezone.utc)


def test_fixed_instant_from_a_file_is_read_on_every_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "now.txt"
    path.write_text("2026-03-10T09:30:00+00:00\n")
    monkeypatch.setenv(clock.FAKE_NOW_FILE, str(path))
    assert utcnow() == datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc)
    path.write_text("2026-03-15T11:00:00+00:00")
    assert utcnow() == datetime(2026, 3, 15, 11, 0, tzinfo=timezone.utc)


def test_an_instant_without_an_offset_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.FAKE_NOW, "2026-03-10T09:30:00")
    with pytest.raises(ValueError, match="offset"):
        utcnow()


def test_production_ignores_a_fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.FAKE_NOW, "2026-03-10T09:30:00+00:00")
    monkeypatch.setenv("MASSAGEBOT_ENVIRONMENT", "production")
    assert abs(utcnow() - datetime.now(timezone.utc)) < timedelta(seconds=5)
