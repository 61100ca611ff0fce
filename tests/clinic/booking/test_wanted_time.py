"""What the client asked for, read from what they typed (`read_wanted_time`).

Fixed examples against a Wednesday 10:00 in London, and every phrasing of the development half
of the frozen time phrasings (even indices). The test half is only ever scored, by
`make bench-dates`; nothing here looks at it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest

from bench.dates import Item, half, load_items, ours, score
from bot.clinic.booking.wanted_time import TimeWindow, WantedTime, read_wanted_time
from bot.clinic.facts import Clinic, load_clinic, parse_clinic
from tests.support.clinics import LONDON, NOW, clinic_data

ROOT = Path(__file__).resolve().parents[3]
CHOSEN = datetime(2025, 11, 21, 15, 0, tzinfo=LONDON)  # Friday 15:00, already chosen


def read(text: str, clinic: Clinic, **kwargs: object) -> WantedTime:
    return read_wanted_time(text, clinic, NOW, **kwargs)  # type: ignore[arg-type]


def on(day: int, month: int = 11, year: int = 2025) -> date:
    return date(year, month, day)


@pytest.mark.parametrize(
    ("text", "day", "at"),
    [
        ("next tues at 3", on(25), time(15)),
        ("Friday at 3", on(21), time(15)),
        ("3pm friday", on(21), time(15)),
        ("fri at 3", on(21), time(15)),
        ("this friday at 10am", on(21), time(10)),
        ("next friday at 10am", on(28), time(10)),
        ("thurs 2pm", on(20), time(14)),
        ("monday next week at 9", on(24), time(9)),
        ("wednesday at 3", on(19), time(15)),  # today, still ahead
        ("wednesday at 9", on(26), time(9)),  # today's 09:00 has gone: next week's
        ("friday 15:00", on(21), time(15)),
        ("friday at 3:30", on(21), time(15, 30)),
        ("friday at 10.30", on(21), time(10, 30)),
        ("half 2 tomorrow", on(20), time(14, 30)),
        ("quarter past five on Thursday", on(20), time(17, 15)),
        ("quarter to 11 on friday", on(21), time(10, 45)),
        ("twenty past 3 on friday", on(21), time(15, 20)),
        ("noon tomorrow", on(20), time(12)),
        ("tomorrow at 4 o'clock", on(20), time(16)),
        ("tomorrow at 9 in the morning", on(20), time(9)),
        ("friday afternoon at 2", on(21), time(14)),
        ("21/11 at 2pm", on(21), time(14)),
        ("10:30 on the 9th", on(9, 12), time(10, 30)),
        ("1st december at 11am", on(1, 12), time(11)),
        ("December 2nd 2pm", on(2, 12), time(14)),
        ("2025-12-03 at 16:00", on(3, 12), time(16)),
        ("03/12/2025 at 4pm", on(3, 12), time(16)),
        ("at 3", on(19), time(15)),
        ("at 9", on(20), time(9)),  # passed today: tomorrow's
        ("in 3 hours", on(19), time(13)),
        ("today at 12", on(19), time(12)),
        ("friday 3", on(21), time(15)),
        ("book me in for a back massage on Friday at 3", on(21), time(15)),
        ("can I come in Tuesday 25 November at 11:15 please?", on(25), time(11, 15)),
        # the phrasings
        ("can i book a 30 min back massage tomorrow 2ish", on(20), time(14)),
        ("Deep tissue massage this saturday at 10 please", on(22), time(10)),
        ("half 3", on(19), time(15, 30)),
        ("Could I book in for 60 mins on friday at half 10", on(21), time(10, 30)),
        ("£40 one on sat at 10 pls", on(22), time(10)),
        ("sorry can't do friday, how about monday at 1?", on(24), time(13)),
    ],
)
def test_an_exact_start(clinic: Clinic, text: str, day: date, at: time) -> None:
    wanted = read(text, clinic)
    assert (wanted.day, wanted.at, wanted.window) == (day, at, None), wanted


@pytest.mark.parametrize(
    ("text", "day", "window"),
    [
        ("thursday after work", on(20), (time(17), time(18))),
        ("tomorrow morning", on(20), (time(9), time(12))),
        ("thursday evening", on(20), (time(17), time(18))),
        ("this afternoon", on(19), (time(12), time(17))),
        ("the morning of the 18th", on(18, 12), (time(9), time(12))),
        ("between 2 and 4 tomorrow", on(20), (time(14), time(16))),
        ("2-4pm friday", on(21), (time(14), time(16))),
        ("not before 2 on friday", on(21), (time(14), time(18))),
        ("tomorrow morning before 11", on(20), (time(9), time(11))),
        ("first thing monday", on(24), (time(9), time(10))),
        ("saturday afternoon", on(22), (time(12), time(13))),  # Saturdays close at 13:00
        ("any time after 2 today", on(19), (time(14), time(18))),
    ],
)
def test_a_window_of_the_day(
    clinic: Clinic, text: str, day: date, window: tuple[time, time]
) -> None:
    wanted = read(text, clinic)
    assert (wanted.day, wanted.at, wanted.window) == (day, None, TimeWindow(*window)), wanted


@pytest.mark.parametrize(
    ("text", "first", "last", "window"),
    [
        ("sometime next week", on(24), on(29), None),  # Monday to Saturday: closed Sundays
        ("sometime this week", on(19), on(22), None),
        ("next week sometime, mornings ideally", on(24), on(29), (time(9), time(12))),
        ("monday or tuesday", on(24), on(25), None),
        ("tue-thu next week", on(25), on(27), None),
        ("w/c 1st december", on(1, 12), on(6, 12), None),
        ("sometime next month", on(1, 12), on(31, 12), None),
    ],
)
def test_a_range_of_days(
    clinic: Clinic, text: str, first: date, last: date, window: tuple[time, time] | None
) -> None:
    wanted = read(text, clinic)
    assert (wanted.first_day, wanted.last_day) == (first, last), wanted
    assert wanted.window == (TimeWindow(*window) if window else None)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("friday", on(21)),
        ("wednesday", on(26)),  # said on a Wednesday, without a time: next week's
        ("this weekend", on(22)),
        ("next weekend", on(29)),
        ("friday week", on(28)),
        ("a week on friday", on(28)),
        ("2 weeks today", on(3, 12)),
        ("the 14th", on(14, 12)),  # 14 November has passed
        ("Thu 4th", on(4, 12)),
        ("2 back massages for me and my wife on friday", on(21)),  # "2" is not 2 o'clock
        ("last friday", on(14)),  # past: the rules say so, not the reader
    ],
)
def test_a_day_alone(clinic: Clinic, text: str, day: date) -> None:
    wanted = read(text, clinic)
    assert (wanted.day, wanted.at, wanted.window) == (day, None, None), wanted


@pytest.mark.parametrize(
    "text",
    [
        "0044 7400 654321",
        "+44 7400 123456",
        "07400 444555",
        "07400-765-432",
        "my number is 07911 123456",
        "£35",
        "£45 for 45 mins?",
        "30 min",
        "the hour long one",
        "booking ref 1430",
        "MB-7K3Q9P",
        "2 people please",
        "Dave Smith",
        "Siobhan O'Brien",
        "is it ok if I'm pregnant?",
        "I'm 34 weeks pregnant, is that ok?",
        "postcode CM1 1AA",
        "how much is it?",
        "3",  # a bare number with nothing else is not a time
        "blah",
        "",
    ],
)
def test_numbers_and_words_that_are_not_times(clinic: Clinic, text: str) -> None:
    assert not read(text, clinic).understood


@pytest.mark.parametrize(
    "text", ["asap", "as soon as possible", "earliest u have", "first free slot please"]
)
def test_as_soon_as_possible(clinic: Clinic, text: str) -> None:
    assert read(text, clinic) == WantedTime(asap=True)


@pytest.mark.parametrize(
    ("text", "day", "at", "window"),
    [
        ("same time next week", on(28), time(15), None),
        ("same time on monday", on(24), time(15), None),
        ("an hour earlier", on(21), time(14), None),
        ("half an hour later", on(21), time(15, 30), None),
        ("same day but after 4", on(21), None, (time(16), time(18))),
        ("same day but earlier", on(21), None, (time(9), time(15))),
        ("same time the following monday", on(24), time(15), None),
        ("same time in 2 weeks", on(5, 12), time(15), None),
    ],
)
def test_relative_to_a_time_already_chosen(
    clinic: Clinic, text: str, day: date, at: time | None, window: tuple[time, time] | None
) -> None:
    wanted = read(text, clinic, previous=CHOSEN)
    assert (wanted.day, wanted.at) == (day, at), wanted
    assert wanted.window == (TimeWindow(*window) if window else None)


def test_without_a_chosen_time_same_time_is_not_guessed(clinic: Clinic) -> None:
    wanted = read("same time next week", clinic)
    assert wanted.at is None and wanted.is_range


def test_a_time_alone_uses_the_day_given_earlier(clinic: Clinic) -> None:
    assert read("3", clinic, default_day=on(21)) == WantedTime(on(21), on(21), at=time(15))
    assert read("at 10:45", clinic, default_day=on(21)).at == time(10, 45)


def test_dates_that_cannot_be_meant(clinic: Clinic) -> None:
    assert read("31/11", clinic).problem == "not_a_date"
    mismatch = read("tuesday 21 november", clinic)
    assert mismatch.problem == "weekday_mismatch"
    assert (mismatch.first_day, mismatch.named_weekday) == (on(21), 1)


def test_date_order_follows_the_clinic_region() -> None:
    us = parse_clinic(clinic_data(region="US", timezone="America/New_York"))
    now = datetime(2025, 11, 19, 10, 0, tzinfo=us.timezone)
    wanted = read_wanted_time("12/03 at 4pm", us, now)
    assert (wanted.day, wanted.at) == (date(2025, 12, 3), time(16))


def test_now_is_read_in_the_clinic_time_zone(clinic: Clinic) -> None:
    # 23:30 UTC on 30 June is already 1 July in London: "tomorrow" is 2 July.
    utc_night = datetime.fromisoformat("2026-06-30T23:30:00+00:00")
    assert read_wanted_time("tomorrow at 10", clinic, utc_night).day == date(2026, 7, 2)


def test_naive_now_is_refused(clinic: Clinic) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        read_wanted_time("friday at 3", clinic, datetime(2025, 11, 19, 10, 0))


[PHRASINGS] = sorted(ROOT.glob("tests/**/time_phrasings.yml"))
LABELLED_NOW, LABELLED = load_items(PHRASINGS)


@pytest.mark.parametrize("item", half(LABELLED, "dev"), ids=lambda item: item.text)
def test_the_development_half_reads_as_labelled(item: Item) -> None:
    clinic = load_clinic(ROOT / "data" / "clinic.yml")
    reading = ours(item, LABELLED_NOW, clinic)  # no adapter: the reader fits the clinic itself
    assert score(reading, item.label).both, (reading, item.label)
