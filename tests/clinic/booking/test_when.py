"""Date/time understanding and the booking rules, against a fixed Wednesday 10:00 in London."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.clinic.booking.when import (
    WhenAccepted,
    WhenNeedsTime,
    WhenRejected,
    check_start,
    clinic_open_at,
    next_opening,
    parse_when,
)
from bot.clinic.facts import Clinic
from tests.support.clinics import LONDON, NOW, local


def accepted(result: object) -> datetime:
    assert isinstance(result, WhenAccepted), result
    assert result.start.tzinfo is not None
    return result.start


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the examples
        ("next tues at 3", local(2025, 11, 25, 15, 0)),
        ("tomorrow morning", local(2025, 11, 20, 10, 0)),
        ("Friday at 3", local(2025, 11, 21, 15, 0)),
        ("3pm friday", local(2025, 11, 21, 15, 0)),
        # weekday spellings and modifiers
        ("fri at 3", local(2025, 11, 21, 15, 0)),
        ("this friday at 10am", local(2025, 11, 21, 10, 0)),
        ("next friday at 10am", local(2025, 11, 28, 10, 0)),
        ("thurs 2pm", local(2025, 11, 20, 14, 0)),
        ("monday next week at 9", local(2025, 11, 24, 9, 0)),
        ("wednesday at 3", local(2025, 11, 19, 15, 0)),  # today, still ahead
        ("wednesday at 9", local(2025, 11, 26, 9, 0)),  # today's 9:00 has gone: next week
        # clock forms
        ("friday 15:00", local(2025, 11, 21, 15, 0)),
        ("friday at 3:30", local(2025, 11, 21, 15, 30)),
        ("friday at 10.30", local(2025, 11, 21, 10, 30)),
        ("friday at 09:30", local(2025, 11, 21, 9, 30)),
        ("half 2 tomorrow", local(2025, 11, 20, 14, 30)),
        ("quarter past five on Thursday", local(2025, 11, 20, 17, 15)),
        ("quarter to 11 on friday", local(2025, 11, 21, 10, 45)),
        ("noon tomorrow", local(2025, 11, 20, 12, 0)),
        ("tomorrow at 4 o'clock", local(2025, 11, 20, 16, 0)),
        ("tmrw at 11", local(2025, 11, 20, 11, 0)),
        ("tomorrow at 9 in the morning", local(2025, 11, 20, 9, 0)),
        ("thursday evening", local(2025, 11, 20, 17, 0)),
        ("friday afternoon at 2", local(2025, 11, 21, 14, 0)),
        # explicit dates (day first in the UK)
        ("21/11 at 2pm", local(2025, 11, 21, 14, 0)),
        ("10:30 on the 9th", local(2025, 12, 9, 10, 30)),
        ("the morning of the 18th", local(2025, 12, 18, 10, 0)),
        ("1st december at 11am", local(2025, 12, 1, 11, 0)),
        ("December 2nd 2pm", local(2025, 12, 2, 14, 0)),
        ("2025-12-03 at 16:00", local(2025, 12, 3, 16, 0)),
        ("03/12/2025 at 4pm", local(2025, 12, 3, 16, 0)),
        # relative
        ("at 3", local(2025, 11, 19, 15, 0)),
        ("in 3 hours", local(2025, 11, 19, 13, 0)),
        ("today at 12", local(2025, 11, 19, 12, 0)),
        # whole sentences, as a form may see them
        ("book me in for a back massage on Friday at 3", local(2025, 11, 21, 15, 0)),
        ("can I come in Tuesday 25 November at 11:15 please?", local(2025, 11, 25, 11, 15)),
    ],
)
def test_understands_common_phrasings(clinic: Clinic, text: str, expected: datetime) -> None:
    assert accepted(parse_when(text, clinic, NOW)) == expected


def test_the_14th_is_the_next_14th(clinic: Clinic) -> None:
    # 14 November has passed (it's the 19th) and 14 December is a Sunday, when we're closed.
    result = parse_when("the 14th", clinic, NOW)
    assert isinstance(result, WhenRejected)
    assert result.code == "closed"
    assert result.wanted is not None and result.wanted.date() == date(2025, 12, 14)
    assert "Sunday" in result.reason
    saturday = parse_when("the 22nd at 10", clinic, NOW)
    assert accepted(saturday) == local(2025, 11, 22, 10, 0)


def test_next_tues_means_the_coming_week_and_not_dateparsers_none(clinic: Clinic) -> None:
    monday = datetime(2025, 11, 17, 10, 0, tzinfo=LONDON)
    # Said on a Monday, "next tues" is Tuesday of next week, not tomorrow; "tues" is tomorrow.
    assert accepted(parse_when("next tues at 3", clinic, monday)) == local(2025, 11, 25, 15, 0)
    assert accepted(parse_when("tues at 3", clinic, monday)) == local(2025, 11, 18, 15, 0)


def test_a_day_without_a_time_asks_for_the_time(clinic: Clinic) -> None:
    result = parse_when("friday", clinic, NOW)
    assert isinstance(result, WhenNeedsTime)
    assert result.day == date(2025, 11, 21)
    assert "09:00–18:00" in result.reason
    saturday = parse_when("this weekend", clinic, NOW)
    assert isinstance(saturday, WhenNeedsTime) and "09:00–13:00" in saturday.reason


def test_a_time_alone_uses_the_day_given_earlier(clinic: Clinic) -> None:
    day = date(2025, 11, 21)
    assert accepted(parse_when("3", clinic, NOW, default_day=day)) == local(2025, 11, 21, 15, 0)
    assert accepted(parse_when("at 10:45", clinic, NOW, default_day=day)) == local(
        2025, 11, 21, 10, 45
    )
    assert accepted(parse_when("friday 3", clinic, NOW)) == local(2025, 11, 21, 15, 0)
    two_people = parse_when("2 back massages for me and my wife on friday", clinic, NOW)
    assert isinstance(two_people, WhenNeedsTime)  # "2" is not 2 o'clock
    # Without that context a bare number is not a time.
    assert parse_when("3", clinic, NOW).code == "unparseable"  # type: ignore[union-attr]


def test_part_of_day_default_is_reported(clinic: Clinic) -> None:
    result = parse_when("tomorrow morning", clinic, NOW)
    assert isinstance(result, WhenAccepted)
    assert "10:00" in result.note


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("blah", "unparseable", "couldn't work out"),
        ("", "unparseable", "couldn't work out"),
        ("31/11", "unparseable", "isn't a date"),
        ("today at 9", "past", "already passed"),
        ("last friday", "past", "already passed"),
        ("yesterday at 3", "past", "already passed"),
        ("sunday at 11", "closed", "closed on Sundays"),
        ("25 december at 10", "closed", "Thursday 25 December"),
        ("friday at 8pm", "outside_hours", "09:00–18:00"),
        ("saturday afternoon", "outside_hours", "09:00–13:00"),
        ("friday at 7am", "outside_hours", "09:00–18:00"),
        ("today at 11", "notice", "2 hours"),
        ("in 1 hour", "notice", "2 hours"),
        ("25/06 at 11:30", "too_far", "60 days"),
        ("tuesday 21 november", "weekday_mismatch", "is a Friday"),
        ("next week", "vague", "Which day"),
        ("asap", "asap", "earliest"),
    ],
)
def test_rejections_say_why(clinic: Clinic, text: str, code: str, words: str) -> None:
    result = parse_when(text, clinic, NOW)
    assert isinstance(result, WhenRejected), result
    assert result.code == code
    assert words in result.reason


def test_outside_hours_accounts_for_the_session_length(clinic: Clinic) -> None:
    long = clinic.service("back-60")
    result = parse_when("friday at 5:30pm", clinic, NOW, service=long)
    assert isinstance(result, WhenRejected) and result.code == "outside_hours"
    assert "start between 09:00 and 17:00" in result.reason
    short = clinic.service("back-30")
    assert accepted(parse_when("friday at 5:30pm", clinic, NOW, service=short))


def test_rejections_carry_the_wanted_time_for_alternatives(clinic: Clinic) -> None:
    result = parse_when("sunday at 11", clinic, NOW)
    assert isinstance(result, WhenRejected)
    assert result.wanted == local(2025, 11, 23, 11, 0)
    asap = parse_when("as soon as possible", clinic, NOW)
    assert isinstance(asap, WhenRejected) and asap.wanted == local(2025, 11, 19, 12, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("friday 3:07pm", local(2025, 11, 21, 15, 0)),
        ("friday at 15:08", local(2025, 11, 21, 15, 15)),
        ("friday at 8:55am", local(2025, 11, 21, 9, 0)),
    ],
)
def test_off_grid_times_round_to_the_nearest_slot(
    clinic: Clinic, text: str, expected: datetime
) -> None:
    result = parse_when(text, clinic, NOW)
    assert accepted(result) == expected
    assert isinstance(result, WhenAccepted) and "every 15 minutes" in result.note


def test_dst_change_keeps_wall_clock_times(clinic: Clinic) -> None:
    # Clocks go forward on Sunday 29 March 2026 in London.
    friday = datetime(2026, 3, 27, 10, 0, tzinfo=LONDON)
    before = accepted(parse_when("saturday at 10", clinic, friday))
    after = accepted(parse_when("monday at 10", clinic, friday))
    assert before.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert after.utcoffset().total_seconds() == 3600  # type: ignore[union-attr]
    assert (before.hour, after.hour) == (10, 10)


def test_now_in_utc_is_read_in_the_clinic_time_zone(clinic: Clinic) -> None:
    # 23:30 UTC on 30 June is already 1 July in London: "tomorrow" is 2 July.
    london_night = datetime(2026, 6, 30, 23, 30, tzinfo=LONDON)
    assert accepted(parse_when("tomorrow at 10", clinic, london_night)).date() == date(2026, 7, 1)
    utc_night = datetime.fromisoformat("2026-06-30T23:30:00+00:00")
    assert accepted(parse_when("tomorrow at 10", clinic, utc_night)).date() == date(2026, 7, 2)


def test_date_order_follows_the_clinic_region() -> None:
    from bot.clinic.facts import parse_clinic
    from tests.support.clinics import clinic_data

    us = parse_clinic(clinic_data(region="US", timezone="America/New_York"))
    now = datetime(2025, 11, 19, 10, 0, tzinfo=us.timezone)
    start = accepted(parse_when("12/03 at 4pm", us, now))
    assert (start.month, start.day, start.hour) == (12, 3, 16)


def test_naive_now_is_refused(clinic: Clinic) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_when("friday at 3", clinic, datetime(2025, 11, 19, 10, 0))


def test_check_start_rules(clinic: Clinic) -> None:
    assert check_start(clinic, local(2025, 11, 21, 15, 0), NOW, 60) is None
    assert check_start(clinic, local(2025, 11, 21, 17, 30), NOW, 60).code == "outside_hours"  # type: ignore[union-attr]
    assert check_start(clinic, local(2025, 11, 19, 11, 0), NOW, 30).code == "notice"  # type: ignore[union-attr]
    assert check_start(clinic, local(2026, 1, 19, 10, 0), NOW, 30).code == "too_far"  # type: ignore[union-attr]
    assert check_start(clinic, local(2026, 1, 16, 10, 0), NOW, 30) is None


def test_opening_now_and_next(clinic: Clinic) -> None:
    assert clinic_open_at(clinic, NOW)
    saturday_evening = local(2025, 11, 22, 14, 0)
    assert not clinic_open_at(clinic, saturday_evening)
    assert next_opening(clinic, saturday_evening) == local(2025, 11, 24, 9, 0)
