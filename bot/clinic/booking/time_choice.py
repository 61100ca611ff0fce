"""Choosing an appointment time with the client: their answer against the rules and the diary.

`choose_time` takes what the client said (free text, a time they tapped, or a `WantedTime`)
and returns one of:

- `TimeAvailable(start)`: bookable and free — the form can keep it;
- `DayChosen(day, free_times)`: a day with no time ("Friday"); ask what time, offering a few;
- `WindowChosen(wanted, free_times, offer)`: a vague answer ("thursday after work", "sometime
  next week", "as soon as possible") met with a short list of free times that fit;
- `TimeRefused(code, reason, nearest_free)`: why not, and the nearest free times instead.

It never talks to Rasa; the actions map these results onto slots and messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.clinic.booking import wording
from bot.clinic.booking.availability import Availability
from bot.clinic.booking.rules import (
    bookable_start,
    check_exact_start,
    day_problem,
    local_time,
    session_minutes,
)
from bot.clinic.booking.wanted_time import WantedTime, read_wanted_time
from bot.clinic.facts import Clinic, Service

SHORT_LIST = 3  # free times offered at once: enough to choose from, few enough to read


@dataclass(frozen=True)
class TimeAvailable:
    """Bookable and free. `note` tells the client what was assumed ("I've made that 15:00")."""

    start: datetime
    note: str = ""


@dataclass(frozen=True)
class DayChosen:
    """A day and no time: `free_times` is a short list spread over that day."""

    day: date
    free_times: tuple[datetime, ...]
    question: str


@dataclass(frozen=True)
class WindowChosen:
    """A vague answer: `free_times` is a short list that fits it; `offer` introduces them."""

    wanted: WantedTime
    free_times: tuple[datetime, ...]
    offer: str


@dataclass(frozen=True)
class TimeRefused:
    """`code` for the bot's logic, `reason` for the client, and free times near what was asked."""

    code: str
    reason: str
    nearest_free: tuple[datetime, ...] = ()


TimeChoice = TimeAvailable | DayChosen | WindowChosen | TimeRefused


def chosen_start(value: object) -> datetime | None:
    """A time chosen with one of our buttons arrives as ISO 8601 with an offset."""
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def choose_time(
    clinic: Clinic,
    availability: Availability,
    answer: str | datetime | WantedTime,
    now: datetime,
    service: Service | None = None,
    *,
    default_day: date | None = None,
    previous: datetime | None = None,
    exclude_booking_id: int | None = None,
) -> TimeChoice:
    """Check the client's answer to "when would you like to come in?".

    `default_day` is a day the client gave earlier (for an answer that is only a time),
    `previous` a time already chosen ("same time next week"), `exclude_booking_id` the booking
    being moved, whose own slots don't count as taken. Until the service is known, the shortest
    one is checked.
    """
    if isinstance(answer, str) and chosen_start(answer) is not None:
        answer = chosen_start(answer)  # type: ignore[assignment]
    chooser = _Chooser(clinic, availability, now, service, exclude_booking_id)
    if isinstance(answer, datetime):
        return chooser.exact(answer, tapped=True)
    if isinstance(answer, str):
        answer = read_wanted_time(answer, clinic, now, previous=previous, default_day=default_day)
    return chooser.wanted(answer)


def earliest_free_times(
    clinic: Clinic,
    availability: Availability,
    service: Service,
    now: datetime,
    n: int = SHORT_LIST,
    exclude_booking_id: int | None = None,
) -> list[datetime]:
    """The first free times the rules allow, from now plus the clinic's notice."""
    earliest = now + timedelta(minutes=clinic.booking.min_notice_minutes)
    return availability.nearest_free_slots(service, earliest, n, exclude_booking_id)


def short_list(times: list[datetime], n: int = SHORT_LIST) -> tuple[datetime, ...]:
    """A few times to offer: one a day over several days, else spread over the one day
    (09:00, 13:15, 17:30 says more than 09:00, 09:15, 09:30)."""
    times = sorted(times)
    if len(times) <= n:
        return tuple(times)
    by_day: dict[date, list[datetime]] = {}
    for moment in times:
        by_day.setdefault(moment.date(), []).append(moment)
    if len(by_day) >= n:
        return tuple(day_times[0] for day_times in list(by_day.values())[:n])
    if len(by_day) == 1:
        step = (len(times) - 1) / (n - 1)
        return tuple(times[round(k * step)] for k in range(n))
    picked = [day_times[0] for day_times in by_day.values()]
    rest = [t for t in times if t not in picked]
    picked += short_list(rest, n - len(picked)) if len(picked) < n else ()
    return tuple(sorted(picked)[:n])


class _Chooser:
    def __init__(
        self,
        clinic: Clinic,
        availability: Availability,
        now: datetime,
        service: Service | None,
        exclude_booking_id: int | None,
    ) -> None:
        self.clinic = clinic
        self.availability = availability
        self.now = now
        self.tz = clinic.timezone
        self.today = now.astimezone(self.tz).date()
        self.duration = session_minutes(clinic, service)
        self.probe = service or min(clinic.services, key=lambda s: s.duration_minutes, default=None)
        self.exclude = exclude_booking_id

    # -- the kinds of answer -----------------------------------------------------------------

    def wanted(self, wanted: WantedTime) -> TimeChoice:
        if wanted.problem == "not_a_date":
            return TimeRefused("unparseable", wording.not_a_date(wanted.written))
        if wanted.problem == "weekday_mismatch":
            assert wanted.first_day is not None and wanted.named_weekday is not None
            reason = wording.weekday_mismatch(wanted.first_day, wanted.named_weekday)
            return TimeRefused("weekday_mismatch", reason)
        if wanted.asap and wanted.first_day is None:
            return self.earliest(wanted)
        if wanted.first_day is None:
            return TimeRefused("unparseable", wording.UNPARSEABLE)
        if wanted.at is not None and wanted.day is not None:
            return self.exact(local_time(wanted.day, wanted.at, self.tz), tapped=False)
        if wanted.day is not None and wanted.window is None:
            return self.day(wanted.day)
        return self.window(wanted)

    def exact(self, start: datetime, tapped: bool) -> TimeChoice:
        start = start.astimezone(self.tz)
        note = ""
        if tapped:
            problem = check_exact_start(self.clinic, start, self.now, self.duration)
            if problem:
                return self.refuse(problem.code, problem.reason, problem.wanted)
        else:
            placed = bookable_start(self.clinic, start, self.now, self.duration)
            if not isinstance(placed, tuple):
                return self.refuse(placed.code, placed.reason, placed.wanted)
            start, note = placed
        if self.probe is None:
            return TimeAvailable(start, note)
        if not self.availability.is_free(self.probe, start, self.exclude):
            return self.refuse("taken", wording.already_booked(start, self.today), start)
        return TimeAvailable(start, note)

    def day(self, day: date) -> TimeChoice:
        problem = day_problem(self.clinic, day, self.today)
        if problem:
            return self.refuse(problem.code, problem.reason, local_time(day, time(10, 0), self.tz))
        question = wording.what_time_on(day, self.today, self.clinic.hours_on(day))
        if self.probe is None:
            return DayChosen(day, (), question)
        free = self.availability.free_slots(self.probe, day, self.exclude)
        if not free:
            midday = local_time(day, time(12, 0), self.tz)
            return self.refuse("full", wording.fully_booked(day, self.today), midday)
        return DayChosen(day, short_list(free), question)

    def window(self, wanted: WantedTime) -> TimeChoice:
        assert wanted.first_day is not None and wanted.last_day is not None
        days = [d for d in wanted.days() if d >= self.today]
        window = wanted.window
        days_text = wording.describe_days(wanted.first_day, wanted.last_day, self.today)
        window_text = self._describe_window(wanted)
        aim_at = window.start if window else wanted.at or time(10, 0)
        aim = local_time(wanted.first_day, aim_at, self.tz)
        if not days:
            return self.refuse(
                "past", wording.already_passed(wording.describe_day(wanted.last_day, self.today))
            )
        if wanted.day is not None:
            problem = day_problem(self.clinic, wanted.day, self.today)
            if problem:
                return self.refuse(problem.code, problem.reason, aim)
            hours = self.clinic.hours_on(wanted.day)
            assert hours is not None and window is not None
            if not _overlaps(window.start, window.end, hours):
                reason = wording.nothing_free_in_window(wanted.day, self.today, hours, window_text)
                return self.refuse("outside_hours", reason, aim)
        last_bookable = self.today + timedelta(days=self.clinic.booking.max_days_ahead)
        if days[0] > last_bookable:
            problem = day_problem(self.clinic, days[0], self.today)
            assert problem is not None
            return self.refuse(problem.code, problem.reason, aim)
        free: list[datetime] = []
        if self.probe is not None:
            for day in days:
                if day > last_bookable or not self.clinic.hours_on(day):
                    continue
                for start in self.availability.free_slots(self.probe, day, self.exclude):
                    if window is not None and not window.holds(start.time()):
                        continue
                    if wanted.at is not None and start.time() != wanted.at:
                        continue  # "any day next week at 3"
                    free.append(start)
                if wanted.is_range and len({t.date() for t in free}) >= SHORT_LIST:
                    break
            if not free:
                return self.refuse("full", wording.nothing_free(days_text, window_text), aim)
        offered = short_list(free)
        offer = wording.free_times_offer(days_text, window_text, len(offered))
        return WindowChosen(wanted, offered, offer)

    def earliest(self, wanted: WantedTime) -> TimeChoice:
        if self.probe is None:
            return WindowChosen(wanted, (), wording.EARLIEST_OFFER)
        times = earliest_free_times(
            self.clinic, self.availability, self.probe, self.now, SHORT_LIST, self.exclude
        )
        if not times:
            return TimeRefused("full", wording.nothing_free("", ""))
        return WindowChosen(wanted, tuple(times), wording.EARLIEST_OFFER)

    # -- helpers -----------------------------------------------------------------------------

    def refuse(self, code: str, reason: str, wanted: datetime | None = None) -> TimeRefused:
        nearest: list[datetime] = []
        if wanted is not None and self.probe is not None:
            nearest = self.availability.nearest_free_slots(
                self.probe, wanted, SHORT_LIST, self.exclude
            )
        return TimeRefused(code, reason, tuple(nearest))

    def _describe_window(self, wanted: WantedTime) -> str:
        if wanted.at is not None:
            return f"at {wording.describe_time(wanted.at)}"
        if wanted.window is None:
            return ""
        assert wanted.first_day is not None and wanted.last_day is not None
        hours = [self.clinic.hours_on(d) for d in wanted.days()[:14]]
        spans = [h for h in hours if h]
        widest = (min(h[0] for h in spans), max(h[1] for h in spans)) if spans else None
        return wording.describe_window(wanted.window.start, wanted.window.end, widest)


def _overlaps(start: time, end: time, hours: tuple[time, time]) -> bool:
    return start < end and start < hours[1] and end > hours[0]
