"""Free appointment times: the clinic's slot grid and booking rules, minus what bookings hold.

Each booking holds one `booking_slots` row per slot interval it covers, per therapist; a start
is free when at least one therapist has none of the rows it would need. The same rows, with
their UNIQUE constraint, are what stop double bookings (see `service.py`), so what is offered
here and what can be stored never disagree for long.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from bot.clinic.booking.rules import check_start
from bot.clinic.db import session_scope
from bot.clinic.facts import Clinic, Service
from bot.clinic.models import BookingSlot, utcnow

ANY_THERAPIST = "clinic"


def therapist_ids(clinic: Clinic) -> tuple[str, ...]:
    """Parallel capacity: one lane per therapist (a clinic listing none still has one room)."""
    return tuple(t.id for t in clinic.therapists) or (ANY_THERAPIST,)


def occupied_slots(clinic: Clinic, start: datetime, duration_minutes: int) -> list[datetime]:
    """The UTC slot starts an appointment covers; a 50-minute session on a 15-minute grid holds
    four slots, so the next client can't start before the room is ready."""
    step = clinic.booking.slot_interval_minutes
    first = start.astimezone(timezone.utc)
    count = max(1, math.ceil(duration_minutes / step))
    return [first + timedelta(minutes=step * k) for k in range(count)]


class Availability:
    def __init__(
        self,
        clinic: Clinic,
        database_url: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.clinic = clinic
        self.database_url = database_url
        self.clock = clock

    def grid_starts(
        self, service: Service, day: date, now: datetime | None = None
    ) -> list[datetime]:
        """Every start on `day` the rules allow (opening hours, notice, horizon), booked or not."""
        hours = self.clinic.hours_on(day)
        if not hours:
            return []
        now = now or self.clock()
        tz = self.clinic.timezone
        step = timedelta(minutes=self.clinic.booking.slot_interval_minutes)
        length = timedelta(minutes=service.duration_minutes)
        moment = datetime.combine(day, hours[0])
        closes = datetime.combine(day, hours[1])
        starts = []
        while moment + length <= closes:
            start = moment.replace(tzinfo=tz).astimezone(tz)
            if check_start(self.clinic, start, now, service.duration_minutes) is None:
                starts.append(start)
            moment += step
        return starts

    def taken(self, day: date, exclude_booking_id: int | None = None) -> dict[str, set[datetime]]:
        """Slot starts (UTC) held on `day`, per therapist."""
        tz = self.clinic.timezone
        begin = datetime.combine(day, time(0, 0)).replace(tzinfo=tz).astimezone(timezone.utc)
        end = (
            datetime.combine(day + timedelta(days=1), time(0, 0))
            .replace(tzinfo=tz)
            .astimezone(timezone.utc)
        )
        query = select(BookingSlot.therapist_id, BookingSlot.slot_start).where(
            BookingSlot.slot_start >= begin, BookingSlot.slot_start < end
        )
        if exclude_booking_id is not None:
            query = query.where(BookingSlot.booking_id != exclude_booking_id)
        held: dict[str, set[datetime]] = defaultdict(set)
        with session_scope(self.database_url) as session:
            for therapist, slot_start in session.execute(query):
                held[therapist].add(slot_start)
        return held

    def free_therapists(
        self,
        service: Service,
        start: datetime,
        taken: dict[str, set[datetime]] | None = None,
        exclude_booking_id: int | None = None,
    ) -> list[str]:
        """Therapists with every slot `start` needs still free, in the clinic's order."""
        if taken is None:
            taken = self.taken(start.astimezone(self.clinic.timezone).date(), exclude_booking_id)
        needed = occupied_slots(self.clinic, start, service.duration_minutes)
        return [
            t for t in therapist_ids(self.clinic) if not any(s in taken.get(t, ()) for s in needed)
        ]

    def free_slots(
        self, service: Service, day: date, exclude_booking_id: int | None = None
    ) -> list[datetime]:
        now = self.clock()
        starts = self.grid_starts(service, day, now)
        if not starts:
            return []
        taken = self.taken(day, exclude_booking_id)
        return [s for s in starts if self.free_therapists(service, s, taken)]

    def is_free(
        self, service: Service, start: datetime, exclude_booking_id: int | None = None
    ) -> bool:
        local = start.astimezone(self.clinic.timezone)
        return local in self.free_slots(service, local.date(), exclude_booking_id)

    def nearest_free_slots(
        self,
        service: Service,
        wanted: datetime,
        n: int = 3,
        exclude_booking_id: int | None = None,
    ) -> list[datetime]:
        """The `n` free starts closest to `wanted`, before or after it, within the rules.

        Days are visited outwards from the wanted day; a day that can't hold anything closer
        than the `n` already found is skipped without touching the database.
        """
        tz = self.clinic.timezone
        wanted = wanted.astimezone(tz)
        today = self.clock().astimezone(tz).date()
        last = today + timedelta(days=self.clinic.booking.max_days_ahead)
        found: list[tuple[timedelta, datetime]] = []
        for day in _days_outward(wanted.date(), today, last):
            if len(found) >= n and _closest_possible(day, wanted) > found[n - 1][0]:
                continue
            for start in self.free_slots(service, day, exclude_booking_id):
                found.append((abs(start - wanted), start))
            found.sort(key=lambda item: (item[0], item[1]))
        return sorted(start for _, start in found[:n])


def _days_outward(centre: date, first: date, last: date) -> Iterable[date]:
    centre = min(max(centre, first), last)
    yield centre
    for offset in range(1, (last - first).days + 1):
        later, earlier = centre + timedelta(days=offset), centre - timedelta(days=offset)
        if later > last and earlier < first:
            return
        if later <= last:
            yield later
        if earlier >= first:
            yield earlier


def _closest_possible(day: date, wanted: datetime) -> timedelta:
    """A lower bound on how near any start on `day` can be to `wanted` (an hour of slack for a
    DST change in between)."""
    wanted_naive = wanted.replace(tzinfo=None)
    if day > wanted.date():
        gap = datetime.combine(day, time(0, 0)) - wanted_naive
    elif day < wanted.date():
        gap = wanted_naive - datetime.combine(day + timedelta(days=1), time(0, 0))
    else:
        return timedelta(0)
    return max(timedelta(0), gap - timedelta(hours=1))
