"""The clinic's booking rules and choosing a time with the client (`rules`, `time_choice`),
against a fixed Wednesday 10:00 in London and a temporary database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from bot.clinic.booking import wording
from bot.clinic.booking.availability import Availability
from bot.clinic.booking.rules import (
    bookable_start,
    check_exact_start,
    check_start,
    clinic_open_at,
    next_opening,
)
from bot.clinic.booking.service import BookingService
from bot.clinic.booking.time_choice import (
    DayChosen,
    TimeAvailable,
    TimeRefused,
    WindowChosen,
    choose_time,
    short_list,
)
from bot.clinic.facts import Clinic
from tests.support.clinics import LONDON, NOW, Clock, local


@pytest.fixture()
def availability(clinic: Clinic, database_url: str) -> Availability:
    return Availability(clinic, database_url, clock=Clock(NOW))


def choose(clinic: Clinic, availability: Availability, answer: object, **kwargs: object):  # type: ignore[no-untyped-def]
    return choose_time(clinic, availability, answer, NOW, clinic.service("back-30"), **kwargs)  # type: ignore[arg-type]


# --- the rules ---------------------------------------------------------------------------------


def test_check_start_rules(clinic: Clinic) -> None:
    assert check_start(clinic, local(2025, 11, 21, 15, 0), NOW, 60) is None
    assert check_start(clinic, local(2025, 11, 21, 17, 30), NOW, 60).code == "outside_hours"  # type: ignore[union-attr]
    assert check_start(clinic, local(2025, 11, 19, 11, 0), NOW, 30).code == "notice"  # type: ignore[union-attr]
    assert check_start(clinic, local(2026, 1, 19, 10, 0), NOW, 30).code == "too_far"  # type: ignore[union-attr]
    assert check_start(clinic, local(2026, 1, 16, 10, 0), NOW, 30) is None


def test_outside_hours_accounts_for_the_session_length(clinic: Clinic) -> None:
    problem = check_start(clinic, local(2025, 11, 21, 17, 30), NOW, 60)
    assert problem is not None and "start between 09:00 and 17:00" in problem.reason
    assert check_start(clinic, local(2025, 11, 21, 17, 30), NOW, 30) is None


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        (local(2025, 11, 21, 15, 7), local(2025, 11, 21, 15, 0)),
        (local(2025, 11, 21, 15, 8), local(2025, 11, 21, 15, 15)),
        (local(2025, 11, 21, 8, 55), local(2025, 11, 21, 9, 0)),
    ],
)
def test_a_start_between_slots_moves_to_the_nearest(
    clinic: Clinic, asked: datetime, expected: datetime
) -> None:
    placed = bookable_start(clinic, asked, NOW, 30)
    assert isinstance(placed, tuple)
    assert placed[0] == expected and "every 15 minutes" in placed[1]
    # A start the client tapped is never moved silently.
    assert check_exact_start(clinic, asked, NOW, 30) is not None


def test_dst_change_keeps_wall_clock_times(clinic: Clinic, database_url: str) -> None:
    # Clocks go forward on Sunday 29 March 2026 in London.
    friday = datetime(2026, 3, 27, 10, 0, tzinfo=LONDON)
    spring = Availability(clinic, database_url, clock=Clock(friday))
    service = clinic.service("back-30")
    before = choose_time(clinic, spring, "saturday at 10", friday, service)
    after = choose_time(clinic, spring, "monday at 10", friday, service)
    assert isinstance(before, TimeAvailable) and isinstance(after, TimeAvailable)
    assert before.start.utcoffset() == timedelta(0)
    assert after.start.utcoffset() == timedelta(hours=1)
    assert (before.start.hour, after.start.hour) == (10, 10)


def test_opening_now_and_next(clinic: Clinic) -> None:
    assert clinic_open_at(clinic, NOW)
    saturday_evening = local(2025, 11, 22, 14, 0)
    assert not clinic_open_at(clinic, saturday_evening)
    assert next_opening(clinic, saturday_evening) == local(2025, 11, 24, 9, 0)


def test_days_read_in_a_sentence() -> None:
    today = date(2025, 11, 19)
    assert wording.on_day(date(2025, 11, 20), today) == "tomorrow"
    assert wording.on_day(date(2025, 11, 21), today) == "on Friday 21 November"
    assert wording.on_start(local(2025, 11, 20, 11, 0), today) == "tomorrow at 11:00"
    assert wording.what_time_on(date(2025, 11, 20), today, (time(9), time(18))) == (
        "What time tomorrow would suit you? We're open 09:00–18:00 that day."
    )


# --- choosing a time ---------------------------------------------------------------------------


def test_a_free_start_is_available(clinic: Clinic, availability: Availability) -> None:
    assert choose(clinic, availability, "Friday at 3") == TimeAvailable(local(2025, 11, 21, 15, 0))
    tapped = local(2025, 11, 21, 10, 15)
    assert choose(clinic, availability, tapped.isoformat()) == TimeAvailable(tapped)


def test_a_time_between_slots_is_moved_and_said(clinic: Clinic, availability: Availability) -> None:
    choice = choose(clinic, availability, "friday 3:07pm")
    assert isinstance(choice, TimeAvailable) and choice.start == local(2025, 11, 21, 15, 0)
    assert "I've made that 15:00" in choice.note


def test_a_day_alone_asks_what_time_with_times_spread_over_it(
    clinic: Clinic, availability: Availability
) -> None:
    choice = choose(clinic, availability, "friday")
    assert isinstance(choice, DayChosen) and choice.day == date(2025, 11, 21)
    assert choice.question.startswith("What time on Friday 21 November would suit you?")
    assert [t.strftime("%H:%M") for t in choice.free_times] == ["09:00", "13:15", "17:30"]
    tomorrow = choose(clinic, availability, "tomorrow")
    assert isinstance(tomorrow, DayChosen)
    assert tomorrow.question.startswith("What time tomorrow would suit you?")


def test_after_work_offers_only_evening_times(clinic: Clinic, availability: Availability) -> None:
    choice = choose(clinic, availability, "thursday after work")
    assert isinstance(choice, WindowChosen)
    assert [t.strftime("%a %H:%M") for t in choice.free_times] == [
        "Thu 17:00", "Thu 17:15", "Thu 17:30",
    ]  # fmt: skip
    assert choice.offer == "These times are free tomorrow after 17:00."


def test_sometime_next_week_offers_a_few_days(clinic: Clinic, availability: Availability) -> None:
    choice = choose(clinic, availability, "sometime next week")
    assert isinstance(choice, WindowChosen)
    assert [t.strftime("%a %d %H:%M") for t in choice.free_times] == [
        "Mon 24 09:00", "Tue 25 09:00", "Wed 26 09:00",
    ]  # fmt: skip
    assert choice.offer == "These times are free between Monday 24 and Saturday 29 November."


def test_as_soon_as_possible_offers_the_earliest(
    clinic: Clinic, availability: Availability
) -> None:
    choice = choose(clinic, availability, "asap")
    assert isinstance(choice, WindowChosen) and choice.offer == wording.EARLIEST_OFFER
    # Two hours' notice from 10:00.
    assert [t.strftime("%H:%M") for t in choice.free_times] == ["12:00", "12:15", "12:30"]


def test_same_time_next_week_from_the_time_already_chosen(
    clinic: Clinic, availability: Availability
) -> None:
    chosen = local(2025, 11, 21, 15, 0)
    choice = choose(clinic, availability, "same time next week", previous=chosen)
    assert choice == TimeAvailable(local(2025, 11, 28, 15, 0))


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("blah", "unparseable", "couldn't work out"),
        ("", "unparseable", "couldn't work out"),
        ("0044 7400 654321", "unparseable", "couldn't work out"),
        ("31/11", "unparseable", "isn't a date"),
        ("today at 9", "past", "Today at 09:00 has already passed."),
        ("last friday", "past", "already passed"),
        ("sunday at 11", "closed", "We're closed on Sundays."),
        ("25 december at 10", "closed", "We're closed on Thursday 25 December."),
        ("friday at 8pm", "outside_hours", "We're open 09:00–18:00 on Friday 21 November"),
        ("tomorrow at 7am", "outside_hours", "We're open 09:00–18:00 tomorrow,"),
        ("saturday after work", "outside_hours", "so there's nothing after 17:00"),
        ("today at 11", "notice", "2 hours"),
        ("in 1 hour", "notice", "2 hours"),
        ("25/06 at 11:30", "too_far", "60 days"),
        ("tuesday 21 november", "weekday_mismatch", "is a Friday"),
    ],
)
def test_refusals_say_why_and_offer_the_nearest_free_times(
    clinic: Clinic, availability: Availability, text: str, code: str, words: str
) -> None:
    choice = choose(clinic, availability, text)
    assert isinstance(choice, TimeRefused), choice
    assert choice.code == code and words in choice.reason
    if code not in {"unparseable", "weekday_mismatch"}:
        assert len(choice.nearest_free) == 3


def test_a_taken_time_offers_the_nearest_free_ones(
    clinic: Clinic, availability: Availability, database_url: str
) -> None:
    service = BookingService(clinic, database_url, clock=Clock(NOW))
    friday_3pm = local(2025, 11, 21, 15, 0)
    for name in ("Ann Other", "Bob Other"):  # both therapists
        assert service.create("back-30", friday_3pm, name, "07911 123456").ok
    choice = choose(clinic, availability, "Friday at 3pm")
    assert isinstance(choice, TimeRefused) and choice.code == "taken"
    assert choice.reason == "Sorry, Friday 21 November at 15:00 is already booked."
    assert [t.strftime("%H:%M") for t in choice.nearest_free] == ["14:15", "14:30", "15:30"]


def test_a_full_evening_says_so(
    clinic: Clinic, availability: Availability, database_url: str
) -> None:
    service = BookingService(clinic, database_url, clock=Clock(NOW))
    for name in ("Ann Other", "Bob Other"):
        assert service.create("back-60", local(2025, 11, 20, 17, 0), name, "07911 123456").ok
    choice = choose(clinic, availability, "thursday after work")
    assert isinstance(choice, TimeRefused) and choice.code == "full"
    assert choice.reason == "Sorry, there's nothing free tomorrow after 17:00."
    assert choice.nearest_free and all(t.hour < 17 for t in choice.nearest_free)


def test_short_list_spreads_the_offer() -> None:
    day = [local(2025, 11, 21, 9, 0) + timedelta(minutes=15 * k) for k in range(9)]
    assert [t.strftime("%H:%M") for t in short_list(day)] == ["09:00", "10:00", "11:00"]
    days = [t + timedelta(days=d) for d in range(4) for t in day[:2]]
    assert [t.day for t in short_list(days)] == [21, 22, 23]


def test_a_time_on_any_day_of_a_range(clinic: Clinic, availability: Availability) -> None:
    choice = choose(clinic, availability, "any day next week at 3")
    assert isinstance(choice, WindowChosen)
    assert [t.strftime("%a %H:%M") for t in choice.free_times] == [
        "Mon 15:00", "Tue 15:00", "Wed 15:00",
    ]  # fmt: skip
    assert choice.offer.endswith("November at 15:00.")
