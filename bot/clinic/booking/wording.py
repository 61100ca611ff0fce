"""Client-facing wording for days, times and booking answers, kept in one place so messages agree.

Days read in a sentence: "tomorrow", "today" or "on Friday 13 March" (`on_day`), never
"on tomorrow"; `describe_day` is the bare form for the start of a sentence or after "from".
"""

from __future__ import annotations

from datetime import date, datetime, time

UNPARSEABLE = (
    "Sorry, I couldn't work out a date and time from that. You could say something like "
    '"Friday at 3pm" or "14 December at 10:30".'
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --- days and times ---------------------------------------------------------------------------


def describe_day(day: date, today: date | None = None) -> str:
    """'today', 'tomorrow' or 'Friday 21 November' (with the year only when it differs)."""
    if today is not None:
        if day == today:
            return "today"
        if (day - today).days == 1:
            return "tomorrow"
    text = f"{day:%A} {day.day} {day:%B}"
    if today is None or day.year != today.year:
        text += f" {day.year}"
    return text


def on_day(day: date, today: date | None = None) -> str:
    """The day as it reads inside a sentence: 'today', 'tomorrow' or 'on Friday 21 November'."""
    text = describe_day(day, today)
    return text if text in {"today", "tomorrow"} else f"on {text}"


def describe_time(moment: time | datetime) -> str:
    return f"{moment:%H:%M}"


def describe_start(start: datetime, today: date | None = None) -> str:
    """'Friday 21 November at 15:00': what the client confirms, so the date is always explicit."""
    return f"{describe_day(start.date(), today)} at {describe_time(start)}"


def on_start(start: datetime, today: date | None = None) -> str:
    """'tomorrow at 15:00' or 'on Friday 21 November at 15:00', inside a sentence."""
    return f"{on_day(start.date(), today)} at {describe_time(start)}"


def describe_minutes(minutes: int) -> str:
    if minutes % (24 * 60) == 0 and minutes >= 24 * 60:
        days = minutes // (24 * 60)
        return f"{days} day" + ("s" if days != 1 else "")
    if minutes % 60 == 0 and minutes >= 60:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minutes"


def describe_window(start: time, end: time, hours: tuple[time, time] | None) -> str:
    """'after 17:00', 'before 11:00' or 'between 14:00 and 16:00' (against opening hours)."""
    if hours and end >= hours[1] and start > hours[0]:
        return f"after {describe_time(start)}"
    if hours and start <= hours[0] and end < hours[1]:
        return f"before {describe_time(end)}"
    return f"between {describe_time(start)} and {describe_time(end)}"


def describe_days(first: date, last: date, today: date) -> str:
    """'tomorrow', 'on Friday 13 March', or 'between Monday 16 and Saturday 21 March'."""
    if first == last:
        return on_day(first, today)
    if first.year == last.year and first.month == last.month:
        start = f"{first:%A} {first.day}"
    else:
        start = describe_day(first)
        start = start.removesuffix(f" {first.year}") if first.year == today.year else start
    end = describe_day(last)
    end = end.removesuffix(f" {last.year}") if last.year == today.year else end
    return f"between {start} and {end}"


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the time question --------------------------------------------------------------------------


def what_time_on(day: date, today: date, hours: tuple[time, time] | None) -> str:
    text = f"What time {on_day(day, today)} would suit you?"
    if hours:
        text += f" We're open {describe_time(hours[0])}–{describe_time(hours[1])} that day."
    return text


def free_times_offer(days: str, window: str, count: int = 2) -> str:
    """The line before a short list of free times for a vague answer ("thursday after work")."""
    where = "".join(f" {part}" for part in (days, window) if part)
    return ("This time is free" if count == 1 else "These times are free") + where + "."


EARLIEST_OFFER = "Here are the earliest times I can offer."
CHOOSE_OR_SAY = "Would one of these suit you? Or tell me another day and time."
WHEN_WOULD_YOU_LIKE = 'When would you like to come in? You can say something like "Friday at 3pm".'


# --- why a time can't be booked -----------------------------------------------------------------


def already_passed(when: str) -> str:
    return sentence(f"{when} has already passed.")


def closed_on(day: date, today: date) -> str:
    return f"We're closed {on_day(day, today)}."


def closed_on_weekday(day: date) -> str:
    return f"We're closed on {day:%A}s."


def too_far_ahead(limit_days: int, last: date, today: date) -> str:
    return f"We take bookings up to {limit_days} days ahead, so up to {describe_day(last, today)}."


def outside_hours(
    day: date, today: date, opens: datetime, closes: datetime, duration: int, last_start: datetime
) -> str:
    reason = f"We're open {describe_time(opens)}–{describe_time(closes)} {on_day(day, today)}"
    if last_start >= opens:
        return reason + (
            f", so a {duration}-minute appointment can start between "
            f"{describe_time(opens)} and {describe_time(last_start)}."
        )
    return reason + "."


def notice_needed(minutes: int) -> str:
    return f"We need at least {describe_minutes(minutes)}' notice for a booking."


def off_grid(minutes: int) -> str:
    return f"Appointments start every {minutes} minutes."


def moved_to_grid(minutes: int, start: datetime) -> str:
    return f"Appointments start every {minutes} minutes, so I've made that {describe_time(start)}."


def not_a_date(written: str) -> str:
    return f'"{written}" isn\'t a date I recognise — could you check it?'


def weekday_mismatch(day: date, named_weekday: int) -> str:
    return (
        f"{describe_day(day)} is a {day:%A}, not a {WEEKDAYS[named_weekday]} — which did you mean?"
    )


def fully_booked(day: date, today: date) -> str:
    return f"Sorry, {describe_day(day, today)} is fully booked."


def already_booked(start: datetime, today: date | None = None) -> str:
    return f"Sorry, {describe_start(start, today)} is already booked."


def nothing_free(days: str, window: str) -> str:
    where = " ".join(part for part in (days, window) if part)
    return f"Sorry, there's nothing free {where}." if where else "Sorry, there's nothing free."


def nothing_free_in_window(day: date, today: date, hours: tuple[time, time], window: str) -> str:
    return (
        f"We're open {describe_time(hours[0])}–{describe_time(hours[1])} {on_day(day, today)}, "
        f"so there's nothing {window}."
    )


def not_saved(phone: str) -> str:
    """The database could not store a booking (down, or stalled past its timeout): nothing is
    booked, and the client's details are kept for another try."""
    return (
        "I'm sorry — I couldn't save your booking just now because of a technical problem on our "
        "side, so nothing has been booked yet. I've kept your details: say yes in a moment to "
        f"try again, or call us on {phone}."
    )
