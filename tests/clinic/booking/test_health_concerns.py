"""What the client mentioned about their health is stored with the booking and shown to staff."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import inspect

from bot.clinic.booking.service import BookingService
from bot.clinic.db import get_engine
from bot.clinic.facts import Clinic
from bot.clinic.triage import Level, assess
from bot.staff.bookings import main
from tests.support.clinics import Clock, clinic_data, local


def test_the_migration_adds_the_column(database_url: str) -> None:
    columns = {c["name"] for c in inspect(get_engine(database_url)).get_columns("bookings")}
    assert "health_concerns" in columns


def test_concerns_are_stored_most_urgent_first(
    clinic: Clinic, database_url: str, clock: Clock
) -> None:
    mentioned = assess("I'm 18 weeks pregnant. I had a cold last week, all gone now").findings
    mentioned += assess("my back is swollen").findings
    service = BookingService(clinic, database_url, clock=clock)
    outcome = service.create(
        "back-60", local(2025, 11, 21, 15, 0), "Jo Bloggs", "jo@example.com",
        health_concerns=mentioned,
    )  # fmt: skip
    assert outcome.ok and outcome.booking is not None
    stored = service.get(outcome.booking.reference)
    assert stored is not None
    assert [(f.concept, f.level) for f in stored.health_concerns] == [
        ("pregnancy", Level.DOCTOR),
        ("swelling", Level.POSTPONE),
    ]  # the cold was over: not a concern
    assert stored.as_payload()["health_concerns"][0]["phrase"] == "pregnant"
    plain = service.create("back-60", local(2025, 11, 21, 9, 0), "Al Smith", "al@example.com")
    assert plain.booking is not None and plain.booking.health_concerns == ()


def test_staff_see_what_was_mentioned(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str,
    clinic: Clinic,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clinic_file = tmp_path / "clinic.yml"
    clinic_file.write_text(yaml.safe_dump(clinic_data()), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CLINIC_FILE", str(clinic_file))
    service = BookingService(clinic, database_url, clock=clock)
    outcome = service.create(
        "back-60", local(2025, 11, 21, 15, 0), "Jo Bloggs", "jo@example.com",
        health_concerns=assess("I'm 18 weeks pregnant").concerns,
    )  # fmt: skip
    assert outcome.booking is not None
    reference = outcome.booking.reference

    assert main(["bookings", "list"]) == 0
    assert "pregnancy (doctor first)" in capsys.readouterr().out
    assert main(["bookings", "show", reference]) == 0
    shown = capsys.readouterr().out
    assert f"Reference:    {reference}" in shown
    assert "Health:       client mentioned: pregnant (pregnancy, doctor first)" in shown
    assert main(["bookings", "show", "MB-ZZZZZZ"]) == 2
