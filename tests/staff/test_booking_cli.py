"""Staff CLI commands: plain aligned output, `error: …` and exit code 2 on problems."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.clinic.booking.service import BookingService
from bot.clinic.facts import Clinic
from bot.clinic.handoff import HandoffService
from bot.staff.bookings import main, table
from tests.support.clinics import Clock, clinic_data, local


@pytest.fixture()
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> str:
    clinic_file = tmp_path / "clinic.yml"
    clinic_file.write_text(yaml.safe_dump(clinic_data()), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CLINIC_FILE", str(clinic_file))
    for name in ("BOOKING_ADAPTER", "BOOKING_WEBHOOK_URL", "HANDOFF_WEBHOOK_URL", "RASA_URL"):
        monkeypatch.delenv(name, raising=False)
    return database_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_table_aligns_columns() -> None:
    assert table([("a", "long value"), ("bbb", None)], ("X", "Y")).splitlines() == [
        "X    Y",
        "a    long value",
        "bbb",
    ]


def test_bookings_commands(
    cli_env: str, clinic: Clinic, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "bookings", "list")[1].strip() == "No bookings."
    service = BookingService(clinic, cli_env, clock=clock)
    booking = service.create("back-60", local(2025, 11, 21, 15, 0), "Jo Bloggs", "jo@example.com")
    reference = booking.booking.reference  # type: ignore[union-attr]

    code, out, _ = run(capsys, "bookings", "list", "--status", "pending")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["REFERENCE", "STATUS", "START", "SERVICE", "THERAPIST", "CLIENT",
                              "CONTACT", "MENTIONED"]  # fmt: skip
    assert row.startswith(f"{reference}  pending")
    assert "2025-11-21 15:00" in row and "jo@example.com" in row
    assert header.index("STATUS") == row.index("pending")  # aligned

    assert run(capsys, "bookings", "confirm", reference)[0] == 0
    assert service.get(reference).status == "confirmed"  # type: ignore[union-attr]
    code, out, _ = run(capsys, "bookings", "ics", reference)
    assert code == 0 and out.startswith("BEGIN:VCALENDAR") and "Jo Bloggs" in out
    assert run(capsys, "bookings", "cancel", reference.lower())[0] == 0
    assert service.get(reference).status == "cancelled"  # type: ignore[union-attr]

    code, out, err = run(capsys, "bookings", "confirm", "MB-ZZZZZZ")
    assert code == 2 and out == "" and err.startswith("error: No booking with reference")
    code, _, err = run(capsys, "bookings", "cancel", reference)
    assert code == 2 and "already been cancelled" in err


def test_handoffs_and_outbox_commands(
    cli_env: str, clinic: Clinic, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "No open hand-off" in run(capsys, "handoffs", "list")[1]
    request = HandoffService(clinic, cli_env, clock=clock).request(
        "conv-1", transcript="client: can I talk to someone", contact="07911 123456"
    )
    code, out, _ = run(capsys, "handoffs", "list")
    assert code == 0 and "+447911123456" in out and "can I talk to someone" in out
    code, out, _ = run(capsys, "handoffs", "resolve", str(request.request.id))
    assert code == 0 and f"Resolved hand-off #{request.request.id}" in out
    assert "RASA_URL" in out  # tells staff how to resume automatically
    assert run(capsys, "handoffs", "resolve", "999")[0] == 2

    assert run(capsys, "outbox", "list")[1].strip() == "The outbox is empty."
    assert run(capsys, "outbox", "deliver")[1].strip() == "Delivered 0, failed 0 (will retry)."


def test_bad_configuration_is_a_clear_error(
    cli_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOOKING_ADAPTER", "webhook")
    code, _, err = run(capsys, "bookings", "list")
    assert code == 2 and err.strip() == "error: BOOKING_ADAPTER=webhook needs BOOKING_WEBHOOK_URL"
    monkeypatch.setenv("CLINIC_FILE", "/nonexistent/clinic.yml")
    code, _, err = run(capsys, "bookings", "list")
    assert code == 2 and "clinic file not found" in err
