"""Turn what a client types ("next tues at 3") into an appointment start, or a reason it can't be.

dateparser alone gets several everyday phrasings wrong for booking: "next tues at 3" and
"tomorrow morning" return nothing, "Friday at 3" lands on the 3rd of this month at midnight, and
"the 14th" can be in the past despite PREFER_DATES_FROM='future'. So the clock time, the part
of the day and the common relative day forms are read here with small patterns, and dateparser
(with the clinic's time zone, date order and a fixed RELATIVE_BASE) reads explicit dates such
as "14 December" or "25/06", and anything else as a last resort.

Conventions, all visible to the client in the summary they confirm:
- an hour without am/pm is the one inside opening hours ("at 3" → 15:00);
- "Friday" (or "this Friday") is the coming Friday, today included while the time is ahead;
  "next Friday" is Friday of next week (Monday-start weeks);
- "morning" → 10:00, "lunchtime" → 12:00, "afternoon" → 14:00, "evening" → 17:00;
- a time alone is its next occurrence (today, or tomorrow once it has passed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from dateparser.date import DateDataParser

from bot.clinic.booking.wording import describe_day, describe_minutes, describe_start, describe_time
from bot.clinic.facts import Clinic, Service

MONTH_FIRST_REGIONS = frozenset({"US", "PH", "FM", "MH", "PW"})

DEFAULT_PART_TIMES = {
    "morning": time(10, 0),
    "lunchtime": time(12, 0),
    "afternoon": time(14, 0),
    "evening": time(17, 0),
}


@dataclass(frozen=True)
class WhenAccepted:
    """A bookable start (aware, clinic time zone); `note` tells the client what was assumed."""

    start: datetime
    note: str = ""


@dataclass(frozen=True)
class WhenNeedsTime:
    """The day is fine but no time was given; `reason` is the question to ask."""

    day: date
    reason: str


@dataclass(frozen=True)
class WhenRejected:
    """`code` is for the bot's logic, `reason` for the client; `wanted` (when understood) lets
    availability offer the nearest free slots instead."""

    code: str
    reason: str
    wanted: datetime | None = None


WhenResult = WhenAccepted | WhenNeedsTime | WhenRejected

UNPARSEABLE = (
    "Sorry, I couldn't work out a date and time from that. You could say something like "
    '"Friday at 3pm" or "14 December at 10:30".'
)

# --- vocabulary ------------------------------------------------------------------------------

_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_HOUR = r"(\d{1,2}|" + "|".join(_WORD_NUMBERS) + r")"
_COUNT = r"(\d{1,2}|a|an|" + "|".join(_WORD_NUMBERS) + r")"

_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "weds": 2,
    "wed": 2, "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_WEEKDAY = r"(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")"

_MONTHS = (
    "january|jan|february|feb|march|mar|april|apr|may|june|jun|july|jul|august|aug|"
    "september|sept|sep|october|oct|november|nov|december|dec"
)
_ORD = r"(?:st|nd|rd|th)"

_SHORTHANDS = {
    r"\b(tmrw|tmr|tmrow|tomoz|tomorow|tommorow|tommorrow|2moro|2morrow)\b": "tomorrow",
    r"\ba\.?m\.?(?=\s|$|[,!?])": "am",
    r"\bp\.?m\.?(?=\s|$|[,!?])": "pm",
    r"\bo'?\s?clock\b": "oclock",
    r"\bmid-day\b": "midday",
    r"\blunch\s*time\b|\blunch\b": "lunchtime",
    r"\bthis\s+eve\b": "this evening",
}

_ASAP = re.compile(
    r"\b(asap|as soon as possible|earliest|soonest|first available|next available|"
    r"first free|next free)\b"
)
_VAGUE = re.compile(
    r"\b(?:(?:early|later|late)\s+)?(?:next|this|the)\s+(?:week|month)\b|\bnext\s+month\b|"
    r"\bany\s*(?:day|time|weekday)\b|\bsometime\b"
)

# Clock patterns, tried in order; each returns (hour, minute, explicit).
_CLOCK_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(noon|midday|midnight)\b"), "named"),
    (re.compile(r"\b(half|quarter)\s+(past|to)\s+" + _HOUR + r"\b"), "past_to"),
    (re.compile(r"\bhalf\s+" + _HOUR + r"\b(?!\s*(?:hours?|an?\b))"), "half"),
    (re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)\b"), "ampm"),
    (re.compile(r"\b(\d{1,2}):(\d{2})\b"), "colon"),
    (re.compile(r"\b(\d{1,2})\.(00|15|30|45|[1-5][3-9])\b(?!\.\d)"), "colon"),
    (re.compile(r"\b" + _HOUR + r"\s*oclock\b"), "bare"),
    (
        re.compile(
            r"\b(?:at|@|after|before|around|about|from|by|say)\s+"
            + _HOUR
            + r"\b(?!\s*"
            + _ORD
            + r"\b)(?![/\-.:]\d)"
            r"(?!\s*(?:days?|weeks?|months?|hours?|hrs?|minutes?|mins?|people|of)\b)"
            r"(?!\s*(?:" + _MONTHS + r")\b)"
        ),
        "bare",
    ),
)

_PARTS = re.compile(
    r"\b(first thing|morning|lunchtime|afternoon|evening|tonight|after work|after school)\b"
)
_TODAY_HINT = re.compile(r"\b(today|tonight|this\s+(?:morning|afternoon|evening))\b")
_IN_HOURS = re.compile(r"\bin\s+(?:" + _COUNT + r"|half\s+an?)\s+(hours?|hrs?|minutes?|mins?)\b")
_IN_DAYS = re.compile(r"\bin\s+" + _COUNT + r"\s+(days?|weeks?|fortnights?)\b")
_FORTNIGHT = re.compile(r"\b(?:in\s+)?a\s+fortnight\b")
_DAY_AFTER_TOMORROW = re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b")
_TOMORROW = re.compile(r"\btomorrow\b")
_TODAY = re.compile(r"\b(?:later\s+)?today\b")
_WEEKDAY_RE = re.compile(
    r"\b(?:(next|this|coming|last)\s+)?"
    + _WEEKDAY
    + r"\b(?:\s+(next week|week after next|after next))?"
)
_WEEKEND = re.compile(r"\b(?:(this|next|the)\s+)?weekend\b")
_EXPLICIT_DATES = (
    re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b"),
    re.compile(r"\b\d{1,2}[/.\-]\d{1,2}(?:[/.\-](?:\d{4}|\d{2}))?\b"),
    re.compile(r"\b\d{1,2}" + _ORD + r"?\s+(?:of\s+)?(?:" + _MONTHS + r")\b(?:,?\s+\d{4}\b)?"),
    re.compile(r"\b(?:" + _MONTHS + r")\s+(?:the\s+)?\d{1,2}" + _ORD + r"?\b(?:,?\s+\d{4}\b)?"),
)
_ORDINAL_DAY = re.compile(r"\b(?:the\s+)?(\d{1,2})" + _ORD + r"\b|\bthe\s+(\d{1,2})\b")
_BARE_NUMBER = re.compile(r"(?<![\d:/.])\b(\d{1,2})\b(?![\d:/.])")


@dataclass
class _Clock:
    hour: int
    minute: int
    explicit: bool


@dataclass
class _Day:
    day: date | None = None
    roll_if_past: bool = False  # "Friday" said on a Friday after the time has passed
    weekday: int | None = None  # a weekday also named next to an explicit date, to cross-check
    vague: bool = False
    problem: str | None = None
    problem_code: str = "unparseable"


# --- public API -------------------------------------------------------------------------------


def parse_when(
    text: str,
    clinic: Clinic,
    now: datetime,
    service: Service | None = None,
    default_day: date | None = None,
) -> WhenResult:
    """Understand `text` relative to `now`, and check it against the clinic's booking rules.

    `default_day` is a day the client gave earlier (when they now answer only with a time).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tz = clinic.timezone
    local_now = now.astimezone(tz)
    today = local_now.date()
    duration = _duration(clinic, service)
    phrase = _normalise(text)
    if not phrase:
        return WhenRejected("unparseable", UNPARSEABLE)

    if _ASAP.search(phrase):
        earliest = local_now + timedelta(minutes=clinic.booking.min_notice_minutes)
        return WhenRejected("asap", "Here are the earliest times I can offer.", earliest)

    relative = _IN_HOURS.search(phrase)
    if relative:
        amount = _count(relative.group(1)) if relative.group(1) else 0.5
        unit = 60 if relative.group(2).startswith("h") else 1
        start = local_now + timedelta(minutes=amount * unit)
        start = start.replace(second=0, microsecond=0)
        return _finish(clinic, start, now, duration, note="")

    clock, phrase = _extract_clock(phrase)
    today_hint = bool(_TODAY_HINT.search(phrase))
    part_match = _PARTS.search(phrase)
    part = _part_name(part_match.group(1)) if part_match else None
    if part_match:
        phrase = _cut(phrase, part_match)

    found = _extract_day(phrase, today, clinic, local_now)
    if found.problem:
        return WhenRejected(found.problem_code, found.problem)
    if found.day is None and today_hint:
        found.day = today

    if clock is None and part is None and (found.day is not None or default_day is not None):
        # "Friday 3", or just "3" as the answer to "what time?" — but not the 2 in
        # "2 back massages for me and my wife on Saturday".
        rest = _strip_days(phrase)
        leftover = _BARE_NUMBER.search(rest) if len(rest.split()) <= 2 else None
        if leftover and 1 <= int(leftover.group(1)) <= 23:
            hour = int(leftover.group(1))
            clock = _Clock(hour, 0, explicit=hour > 12)

    if found.vague and found.day is None and clock is None:
        wanted = _start_of_next_week(today, tz) if "next" in phrase else None
        return WhenRejected(
            "vague",
            'Which day would suit you? For example "Tuesday at 2pm" or "the 14th at 10:30".',
            wanted,
        )

    day = found.day or default_day
    if day is None and clock is None and part is None:
        return WhenRejected("unparseable", UNPARSEABLE)

    if clock is None and part is None:
        assert day is not None
        problem = _day_problem(clinic, day, today)
        if problem:
            return WhenRejected(problem[0], problem[1], _at(day, time(10, 0), tz))
        hours = clinic.hours_on(day)
        assert hours is not None
        return WhenNeedsTime(
            day,
            f"What time on {describe_day(day, today)} would suit you? "
            f"We're open {describe_time(hours[0])}–{describe_time(hours[1])} that day.",
        )

    roll = found.roll_if_past or day is None
    candidate_day = day or today
    start, note = _place(clinic, candidate_day, clock, part, tz)
    if roll and start <= local_now:
        candidate_day = candidate_day + timedelta(days=7 if found.roll_if_past else 1)
        start, note = _place(clinic, candidate_day, clock, part, tz)
    return _finish(clinic, start, now, duration, note)


def check_start(
    clinic: Clinic, start: datetime, now: datetime, duration_minutes: int
) -> WhenRejected | None:
    """The booking rules for one start: not past, open that day and time, enough notice, not
    too far ahead. Availability uses the same function, so the bot never offers what it would
    then refuse."""
    tz = clinic.timezone
    local = start.astimezone(tz)
    local_now = now.astimezone(tz)
    today = local_now.date()
    if local <= local_now:
        return WhenRejected(
            "past", _sentence(f"{describe_start(local, today)} has already passed."), local
        )
    problem = _day_problem(clinic, local.date(), today)
    if problem:
        return WhenRejected(problem[0], problem[1], local)
    hours = clinic.hours_on(local.date())
    assert hours is not None
    opens = _at(local.date(), hours[0], tz)
    closes = _at(local.date(), hours[1], tz)
    last_start = closes - timedelta(minutes=duration_minutes)
    if local < opens or local > last_start:
        when = describe_day(local.date(), today)
        reason = f"We're open {describe_time(opens)}–{describe_time(closes)} {_on(when)}"
        if last_start >= opens:
            reason += (
                f", so a {duration_minutes}-minute appointment can start between "
                f"{describe_time(opens)} and {describe_time(last_start)}."
            )
        else:
            reason += "."
        return WhenRejected("outside_hours", reason, local)
    notice = clinic.booking.min_notice_minutes
    if local < local_now + timedelta(minutes=notice):
        return WhenRejected(
            "notice",
            f"We need at least {describe_minutes(notice)}' notice for a booking.",
            local,
        )
    return None


def clinic_open_at(clinic: Clinic, moment: datetime) -> bool:
    local = moment.astimezone(clinic.timezone)
    hours = clinic.hours_on(local.date())
    return hours is not None and hours[0] <= local.time() < hours[1]


def next_opening(clinic: Clinic, moment: datetime, days: int = 14) -> datetime | None:
    """When the clinic next opens after `moment` (None if not within `days`)."""
    local = moment.astimezone(clinic.timezone)
    for offset in range(days + 1):
        day = local.date() + timedelta(days=offset)
        hours = clinic.hours_on(day)
        if hours:
            opens = _at(day, hours[0], clinic.timezone)
            if opens > local:
                return opens
    return None


def slot_grid_start(clinic: Clinic, start: datetime) -> datetime | None:
    """The nearest start on the clinic's slot grid, which runs from opening time that day."""
    tz = clinic.timezone
    local = start.astimezone(tz)
    hours = clinic.hours_on(local.date())
    if not hours:
        return None
    opens = datetime.combine(local.date(), hours[0])
    step = clinic.booking.slot_interval_minutes * 60
    offset = (local.replace(tzinfo=None) - opens).total_seconds()
    steps = int((offset + step / 2) // step)
    naive = opens + timedelta(seconds=steps * step)
    return _at(naive.date(), naive.time(), tz)


def is_on_grid(clinic: Clinic, start: datetime) -> bool:
    grid = slot_grid_start(clinic, start)
    return grid is not None and grid.astimezone(clinic.timezone) == start.astimezone(
        clinic.timezone
    )


# --- helpers ----------------------------------------------------------------------------------


def _finish(clinic: Clinic, start: datetime, now: datetime, duration: int, note: str) -> WhenResult:
    """Apply the rules; a start between slots moves to the nearest slot the rules allow."""
    tz = clinic.timezone
    local = start.astimezone(tz)
    problem = check_start(clinic, local, now, duration)
    if problem and problem.code in {"past", "closed", "too_far"}:
        return problem
    if is_on_grid(clinic, local):
        return problem or WhenAccepted(local, note)
    nearest = slot_grid_start(clinic, local)
    assert nearest is not None
    step = timedelta(minutes=clinic.booking.slot_interval_minutes)
    for candidate in sorted(
        (nearest, nearest + step, nearest - step), key=lambda c: (abs(c - local), c)
    ):
        if check_start(clinic, candidate, now, duration) is None:
            extra = (
                f"Appointments start every {clinic.booking.slot_interval_minutes} minutes, "
                f"so I've made that {describe_time(candidate.astimezone(tz))}."
            )
            return WhenAccepted(candidate.astimezone(tz), f"{note} {extra}".strip())
    return problem or WhenRejected(
        "off_grid",
        f"Appointments start every {clinic.booking.slot_interval_minutes} minutes.",
        local,
    )


def _duration(clinic: Clinic, service: Service | None) -> int:
    if service is not None:
        return service.duration_minutes
    if clinic.services:
        return min(s.duration_minutes for s in clinic.services)
    return clinic.booking.slot_interval_minutes


def _normalise(text: str) -> str:
    phrase = (text or "").lower().replace("’", "'").replace("‘", "'")
    for pattern, replacement in _SHORTHANDS.items():
        phrase = re.sub(pattern, replacement, phrase)
    phrase = re.sub(r"[!?,;\"()]", " ", phrase)
    return re.sub(r"\s+", " ", phrase).strip(" .")


def _cut(phrase: str, match: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", phrase[: match.start()] + " " + phrase[match.end() :]).strip()


def _count(word: str) -> int:
    if word in {"a", "an"}:
        return 1
    return _WORD_NUMBERS.get(word) or int(word)


def _part_name(word: str) -> str:
    return {
        "tonight": "evening",
        "after work": "evening",
        "after school": "afternoon",
        "first thing": "first",
    }.get(word, word)


def _extract_clock(phrase: str) -> tuple[_Clock | None, str]:
    for pattern, kind in _CLOCK_PATTERNS:
        match = pattern.search(phrase)
        if not match:
            continue
        clock = _read_clock(match, kind)
        if clock is not None:
            return clock, _cut(phrase, match)
    return None, phrase


def _read_clock(match: re.Match[str], kind: str) -> _Clock | None:
    groups = match.groups()
    if kind == "named":
        return _Clock(0, 0, True) if groups[0] == "midnight" else _Clock(12, 0, True)
    if kind == "past_to":
        hour = _count(groups[2])
        minute = {"half": 30, "quarter": 15}[groups[0]]
        if groups[1] == "to":
            hour, minute = (hour - 1) % 12 or 12, 60 - minute
        return _valid(hour, minute, explicit=False)
    if kind == "half":
        return _valid(_count(groups[0]), 30, explicit=False)
    if kind == "ampm":
        hour, minute = int(groups[0]), int(groups[1] or 0)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if groups[2] == "pm" else 0)
        return _valid(hour, minute, explicit=True)
    if kind == "colon":
        text_hour, minute = groups[0], int(groups[1])
        hour = int(text_hour)
        explicit = hour == 0 or hour >= 12 or (len(text_hour) == 2 and text_hour[0] == "0")
        return _valid(hour, minute, explicit=explicit)
    hour = _count(groups[0])
    return _valid(hour, 0, explicit=hour == 0 or hour > 12)


def _valid(hour: int, minute: int, explicit: bool) -> _Clock | None:
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return _Clock(hour, minute, explicit)
    return None


def _place(
    clinic: Clinic, day: date, clock: _Clock | None, part: str | None, tz: tzinfo
) -> tuple[datetime, str]:
    """The start on `day`: resolve am/pm against opening hours, or use the part-of-day default."""
    hours = clinic.hours_on(day)
    if clock is None:
        assert part is not None
        if part == "first":
            default = hours[0] if hours else time(9, 0)
            return _at(day, default, tz), f'I\'ve taken "first thing" as {describe_time(default)}.'
        default = DEFAULT_PART_TIMES[part]
        if hours and part == "morning" and default < hours[0]:
            default = hours[0]
        return _at(day, default, tz), f'I\'ve taken "{part}" as {describe_time(default)}.'
    hour = clock.hour
    if not clock.explicit and 1 <= hour <= 11:
        if part in {"afternoon", "evening"}:
            hour += 12
        elif part not in {"morning", "first"}:
            hour = _likely_hour(hour, clock.minute, hours)
    return _at(day, time(hour, clock.minute), tz), ""


def _likely_hour(hour: int, minute: int, hours: tuple[time, time] | None) -> int:
    """'3' means 15:00 at a clinic open 09:00–18:00; keep the morning reading when it's open."""
    morning, afternoon = time(hour, minute), time(hour + 12, minute)
    if hours:
        if hours[0] <= morning < hours[1]:
            return hour
        if hours[0] <= afternoon < hours[1]:
            return hour + 12
    return hour + 12 if hour < 7 else hour


def _at(day: date, clock: time, tz: tzinfo) -> datetime:
    """A wall-clock time on `day` in `tz`, normalised so a DST gap maps to a real instant."""
    naive = datetime.combine(day, clock)
    return naive.replace(tzinfo=tz).astimezone(tz)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _on(when: str) -> str:
    return when if when in {"today", "tomorrow"} else f"on {when}"


def _day_problem(clinic: Clinic, day: date, today: date) -> tuple[str, str] | None:
    if day < today:
        return "past", _sentence(f"{describe_day(day, today)} has already passed.")
    if day in clinic.booking.closed_dates:
        return "closed", f"We're closed {_on(describe_day(day, today))}."
    if clinic.opening_hours[day.weekday()] is None:
        return "closed", f"We're closed on {day:%A}s."
    limit = clinic.booking.max_days_ahead
    if (day - today).days > limit:
        last = today + timedelta(days=limit)
        return (
            "too_far",
            f"We take bookings up to {limit} days ahead, so up to {describe_day(last, today)}.",
        )
    return None


def _start_of_next_week(today: date, tz: tzinfo) -> datetime:
    monday = today + timedelta(days=7 - today.weekday())
    return _at(monday, time(10, 0), tz)


def _strip_days(phrase: str) -> str:
    for pattern in (
        _DAY_AFTER_TOMORROW, _TOMORROW, _TODAY, _IN_DAYS, _FORTNIGHT, _WEEKDAY_RE, _WEEKEND,
        *_EXPLICIT_DATES, _ORDINAL_DAY,
    ):  # fmt: skip
        phrase = pattern.sub(" ", phrase)
    return phrase


def _extract_day(phrase: str, today: date, clinic: Clinic, local_now: datetime) -> _Day:
    result = _Day(vague=bool(_VAGUE.search(phrase)))
    weekday_match = _WEEKDAY_RE.search(phrase)

    for pattern in _EXPLICIT_DATES:
        match = pattern.search(phrase)
        if match:
            day = _explicit_day(match.group(0), clinic, local_now)
            if day is None:
                result.problem = (
                    f'"{match.group(0)}" isn\'t a date I recognise — could you check it?'
                )
                return result
            result.day = day
            if weekday_match:
                result.weekday = _WEEKDAYS[weekday_match.group(2)]
                if day.weekday() != result.weekday:
                    result.problem_code = "weekday_mismatch"
                    result.problem = (
                        f"{describe_day(day)} is a {day:%A}, not a "
                        f"{_weekday_name(result.weekday)} — which did you mean?"
                    )
            return result

    if _DAY_AFTER_TOMORROW.search(phrase):
        result.day = today + timedelta(days=2)
        return result
    if _TOMORROW.search(phrase):
        result.day = today + timedelta(days=1)
        return result
    if _TODAY.search(phrase):
        result.day = today
        return result
    match = _IN_DAYS.search(phrase)
    if match:
        unit = match.group(2)
        size = 14 if unit.startswith("fortnight") else 7 if unit.startswith("week") else 1
        result.day = today + timedelta(days=_count(match.group(1)) * size)
        return result
    if _FORTNIGHT.search(phrase):
        result.day = today + timedelta(days=14)
        return result

    if weekday_match:
        modifier, name, suffix = weekday_match.groups()
        weekday = _WEEKDAYS[name]
        monday = today - timedelta(days=today.weekday())
        if modifier == "last":
            result.day = today - timedelta(days=(today.weekday() - weekday) % 7 or 7)
        elif modifier == "next" or suffix == "next week":
            result.day = monday + timedelta(days=7 + weekday)
        elif suffix in {"week after next", "after next"}:
            result.day = monday + timedelta(days=14 + weekday)
        else:
            result.day = today + timedelta(days=(weekday - today.weekday()) % 7)
            result.roll_if_past = result.day == today
        result.vague = False
        return result

    match = _WEEKEND.search(phrase)
    if match:
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        if match.group(1) == "next":
            saturday += timedelta(days=7)
        result.day = saturday
        result.vague = False
        return result

    match = _ORDINAL_DAY.search(phrase)
    if match:
        number = int(match.group(1) or match.group(2))
        result.day = _next_day_of_month(number, today)
        if result.day is None:
            result.problem = f"There's no {number}{_suffix(number)} in any month I can book."
        return result

    if not result.vague and re.search(r"[a-z0-9]", phrase) and not _BARE_NUMBER.fullmatch(phrase):
        data = _dateparser(clinic, local_now).get_date_data(phrase)
        if data.date_obj is not None:
            if data.period in {"week", "month", "year"}:
                result.vague = True
            else:
                result.day = data.date_obj.date()
    return result


def _weekday_name(weekday: int) -> str:
    return ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[weekday]


def _suffix(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


def _next_day_of_month(number: int, today: date) -> date | None:
    """'the 14th': this month's if still ahead (or today), else the next month that has one."""
    if not 1 <= number <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, number)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return None


def _dateparser(clinic: Clinic, local_now: datetime) -> DateDataParser:
    return DateDataParser(
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "TIMEZONE": str(clinic.timezone),
            "RETURN_AS_TIMEZONE_AWARE": False,
            "DATE_ORDER": "MDY" if clinic.region.upper() in MONTH_FIRST_REGIONS else "DMY",
            "PREFER_DAY_OF_MONTH": "first",
            "RETURN_TIME_AS_PERIOD": True,
        },
    )


def _explicit_day(text: str, clinic: Clinic, local_now: datetime) -> date | None:
    """An explicit date; a date without a year that has passed means next year's.

    ISO dates are read directly: with DATE_ORDER='DMY' dateparser swaps their month and day.
    """
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if iso:
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            return None
    data = _dateparser(clinic, local_now).get_date_data(text)
    if data.date_obj is None:
        return None
    day = data.date_obj.date()
    today = local_now.date()
    if day < today and not re.search(r"\d{4}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}", text):
        try:
            day = day.replace(year=day.year + 1)
        except ValueError:  # 29 February
            return None
    return day
