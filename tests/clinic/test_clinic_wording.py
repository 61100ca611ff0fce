"""Clinic facts read like a receptionist wrote them, and lists are lists."""

from __future__ import annotations

from bot.clinic.facts import Clinic, spoken_list


def test_opening_hours_group_days_with_the_same_hours(sample_clinic: Clinic) -> None:
    assert sample_clinic.opening_hours_text().splitlines() == [
        "- Monday to Friday: 9am–6pm",
        "- Saturday: 9am–1pm",
        "- Sunday: closed",
    ]


def test_one_day_in_a_sentence(sample_clinic: Clinic) -> None:
    assert sample_clinic.hours_on_weekday_text("saturday") == "On Saturdays we're open 9am–1pm."
    assert sample_clinic.hours_on_weekday_text("sunday") == "Sorry, we're closed on Sundays."


def test_prices_are_one_line_per_service(sample_clinic: Clinic) -> None:
    lines = sample_clinic.prices_text().splitlines()
    assert lines[0] == "- Back massage (30 minutes): £35"
    assert len(lines) == len(sample_clinic.services)
    assert all(line.startswith("- ") for line in lines)


def test_session_lengths_are_said_not_listed(sample_clinic: Clinic) -> None:
    assert sample_clinic.session_lengths_text() == "30 or 60 minutes"


def test_payment_methods_and_access_come_from_the_clinic_file(sample_clinic: Clinic) -> None:
    assert sample_clinic.payment_methods
    assert sample_clinic.payment_methods_text().endswith(f"and {sample_clinic.payment_methods[-1]}")
    assert "step-free" in sample_clinic.access
    assert set(sample_clinic.placeholders()) >= {"payment_methods", "access", "session_lengths"}


def test_spoken_list() -> None:
    assert spoken_list([]) == ""
    assert spoken_list(["cash"]) == "cash"
    assert spoken_list(["30", "60"], "or") == "30 or 60"
    assert spoken_list(["a", "b", "c"]) == "a, b and c"
