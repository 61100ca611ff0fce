"""Client-facing wording for days, times and durations, kept in one place so messages agree."""

from __future__ import annotations

from datetime import date, datetime, time


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


def describe_time(moment: time | datetime) -> str:
    return f"{moment:%H:%M}"


def describe_start(start: datetime, today: date | None = None) -> str:
    """'Friday 21 November at 15:00': what the client confirms, so the date is always explicit."""
    return f"{describe_day(start.date(), today)} at {describe_time(start)}"


def describe_minutes(minutes: int) -> str:
    if minutes % (24 * 60) == 0 and minutes >= 24 * 60:
        days = minutes // (24 * 60)
        return f"{days} day" + ("s" if days != 1 else "")
    if minutes % 60 == 0 and minutes >= 60:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minutes"
