"""The clinic's booking rules: opening hours, notice, how far ahead, closed dates, the slot grid.

One place decides whether a start can be booked at all (`check_start`), whoever asks: the time
question, availability (so the bot never offers what it would then refuse), the booking service
and hand-off ("are we open now?"). Whether the start is still free is availability's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.clinic.booking import wording
from bot.clinic.facts import Clinic, Service


@dataclass(frozen=True)
class Refusal:
    """Why a start or a day can't be booked: `code` for the bot's logic ("past", "closed",
    "too_far", "outside_hours", "notice", "off_grid"), `reason` for the client, and `wanted`
    (when known) so availability can offer the nearest free times instead."""

    code: str
    reason: str
    wanted: datetime | None = None


def local_time(day: date, clock: time, tz: tzinfo) -> datetime:
    """A wall-clock time on `day` in `tz`, normalised so a DST gap maps to a real instant."""
    return datetime.combine(day, clock).replace(tzinfo=tz).astimezone(tz)


def session_minutes(clinic: Clinic, service: Service | None) -> int:
    """How long the appointment is; until the service is known, the shortest one."""
    if service is not None:
        return service.duration_minutes
    if clinic.services:
        return min(s.duration_minutes for s in clinic.services)
    return clinic.booking.slot_interval_minutes


def day_problem(clinic: Clinic, day: date, today: date) -> Refusal | None:
    """Whether anything at all can be booked on `day`: not past, open, within the horizon."""
    if day < today:
        return Refusal("past", wording.already_passed(wording.describe_day(day, today)))
    if day in clinic.booking.closed_dates:
        return Refusal("closed", wording.closed_on(day, today))
    if clinic.opening_hours[day.weekday()] is None:
        return Refusal("closed", wording.closed_on_weekday(day))
    limit = clinic.booking.max_days_ahead
    if (day - today).days > limit:
        return Refusal(
            "too_far", wording.too_far_ahead(limit, today + timedelta(days=limit), today)
        )
    return None


def check_start(
    clinic: Clinic, start: datetime, now: datetime, duration_minutes: int
) -> Refusal | None:
    """The booking rules for one start: not past, open that day and time, enough notice, not
    too far ahead. Availability uses the same function, so the bot never offers what it would
    then refuse."""
    tz = clinic.timezone
    local = start.astimezone(tz)
    local_now = now.astimezone(tz)
    today = local_now.date()
    if local <= local_now:
        return Refusal("past", wording.already_passed(wording.describe_start(local, today)), local)
    problem = day_problem(clinic, local.date(), today)
    if problem:
        return Refusal(problem.code, problem.reason, local)
    hours = clinic.hours_on(local.date())
    assert hours is not None
    opens = local_time(local.date(), hours[0], tz)
    closes = local_time(local.date(), hours[1], tz)
    last_start = closes - timedelta(minutes=duration_minutes)
    if local < opens or local > last_start:
        reason = wording.outside_hours(
            local.date(), today, opens, closes, duration_minutes, last_start
        )
        return Refusal("outside_hours", reason, local)
    notice = clinic.booking.min_notice_minutes
    if local < local_now + timedelta(minutes=notice):
        return Refusal("notice", wording.notice_needed(notice), local)
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
            opens = local_time(day, hours[0], clinic.timezone)
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
    return local_time(naive.date(), naive.time(), tz)


def is_on_grid(clinic: Clinic, start: datetime) -> bool:
    grid = slot_grid_start(clinic, start)
    return grid is not None and grid.astimezone(clinic.timezone) == start.astimezone(
        clinic.timezone
    )


def check_exact_start(
    clinic: Clinic, start: datetime, now: datetime, duration_minutes: int
) -> Refusal | None:
    """`check_start`, and on the slot grid too: for a start the client picked from our buttons
    or the booking service stores, which must not be moved silently."""
    problem = check_start(clinic, start, now, duration_minutes)
    if problem is None and not is_on_grid(clinic, start):
        minutes = clinic.booking.slot_interval_minutes
        return Refusal("off_grid", wording.off_grid(minutes), start.astimezone(clinic.timezone))
    return problem


def bookable_start(
    clinic: Clinic, start: datetime, now: datetime, duration_minutes: int
) -> tuple[datetime, str] | Refusal:
    """A start the client asked for, moved to the nearest slot the rules allow when it falls
    between slots ("3:07pm" → 15:00, with a note saying so); otherwise why it can't be."""
    tz = clinic.timezone
    local = start.astimezone(tz)
    problem = check_start(clinic, local, now, duration_minutes)
    if problem and problem.code in {"past", "closed", "too_far"}:
        return problem
    if is_on_grid(clinic, local):
        return problem or (local, "")
    nearest = slot_grid_start(clinic, local)
    assert nearest is not None
    step = timedelta(minutes=clinic.booking.slot_interval_minutes)
    for candidate in sorted(
        (nearest, nearest + step, nearest - step), key=lambda c: (abs(c - local), c)
    ):
        if check_start(clinic, candidate, now, duration_minutes) is None:
            moved = candidate.astimezone(tz)
            return moved, wording.moved_to_grid(clinic.booking.slot_interval_minutes, moved)
    return problem or Refusal(
        "off_grid", wording.off_grid(clinic.booking.slot_interval_minutes), local
    )
