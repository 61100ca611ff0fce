"""The clinic's own facts (name, hours, services…), loaded from the YAML file staff keep."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ClinicConfigError(ValueError):
    """The clinic file is missing something the bot needs; the message says what and where."""


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    massage_type: str
    duration_minutes: int
    price: float


@dataclass(frozen=True)
class Therapist:
    id: str
    name: str


@dataclass(frozen=True)
class BookingRules:
    slot_interval_minutes: int = 15
    min_notice_minutes: int = 120
    max_days_ahead: int = 60
    closed_dates: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Clinic:
    name: str
    phone: str
    email: str
    website: str
    address: str
    parking: str
    timezone: ZoneInfo
    region: str
    currency: str
    disclaimer: str
    urgent_care: str
    # Index 0 is Monday, as in `date.weekday()`; None means closed that day.
    opening_hours: tuple[tuple[time, time] | None, ...]
    services: tuple[Service, ...]
    therapists: tuple[Therapist, ...]
    booking: BookingRules = field(default_factory=BookingRules)
    # How clients can pay ("debit and credit cards", "cash"…) and how to get in (steps, lift…).
    payment_methods: tuple[str, ...] = ()
    access: str = ""

    def hours_on(self, day: date) -> tuple[time, time] | None:
        if day in self.booking.closed_dates:
            return None
        return self.opening_hours[day.weekday()]

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def opening_hours_text(self) -> str:
        """One line per run of days with the same hours, as a list every channel shows as one:
        "- Monday to Friday: 9am–6pm"."""
        lines = []
        start = 0
        while start < len(WEEKDAYS):
            end = start
            while (
                end + 1 < len(WEEKDAYS) and self.opening_hours[end + 1] == self.opening_hours[start]
            ):
                end += 1
            days = _day(start) if end == start else f"{_day(start)} to {_day(end)}"
            if end == start + 1:
                days = f"{_day(start)} and {_day(end)}"
            lines.append(f"- {days}: {_hours(self.opening_hours[start])}")
            start = end + 1
        return "\n".join(lines)

    def hours_on_weekday_text(self, weekday: str) -> str:
        """A sentence for one day of the week: "On Saturdays we're open 9am–1pm." """
        index = WEEKDAYS.index(weekday)
        hours = self.opening_hours[index]
        if hours is None:
            return f"Sorry, we're closed on {_day(index)}s."
        return f"On {_day(index)}s we're open {_hours(hours)}."

    def prices_text(self) -> str:
        """One line per service: "- Back massage (30 minutes): £35"."""
        return "\n".join(f"- {s.name}: {self.money(s.price)}" for s in self.services)

    def money(self, amount: float) -> str:
        symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(self.currency, self.currency + " ")
        return f"{symbol}{amount:.0f}" if amount == int(amount) else f"{symbol}{amount:.2f}"

    def session_lengths_text(self) -> str:
        """ "30 or 60 minutes", as a receptionist would say it."""
        minutes = sorted({s.duration_minutes for s in self.services})
        return f"{spoken_list([str(m) for m in minutes], 'or')} minutes" if minutes else ""

    def payment_methods_text(self) -> str:
        return spoken_list(list(self.payment_methods))

    def placeholders(self) -> dict[str, str]:
        """Values FAQ answers may use as `{placeholder}`."""
        return {
            "clinic_name": self.name,
            "phone": self.phone,
            "email": self.email,
            "website": self.website,
            "address": self.address,
            "parking": self.parking,
            "opening_hours": self.opening_hours_text(),
            "prices": self.prices_text(),
            "session_lengths": self.session_lengths_text(),
            "payment_methods": self.payment_methods_text(),
            "access": self.access,
        }


def spoken_list(items: list[str], conjunction: str = "and") -> str:
    """ "a", "a and b", "a, b and c": how a list sounds in a sentence."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _day(index: int) -> str:
    return WEEKDAYS[index].capitalize()


def _clock(value: time) -> str:
    """9am, 1:30pm, 12pm: the way times are written on a clinic's door."""
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def _hours(hours: tuple[time, time] | None) -> str:
    return "closed" if hours is None else f"{_clock(hours[0])}–{_clock(hours[1])}"


def _time(value: str, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError as error:
        raise ClinicConfigError(f"{where}: '{value}' is not a time like 09:00") from error


def parse_clinic(raw: dict, source: str = "clinic file") -> Clinic:
    try:
        hours: list[tuple[time, time] | None] = []
        for day in WEEKDAYS:
            spec = (raw.get("opening_hours") or {}).get(day)
            if not spec:
                hours.append(None)
                continue
            opens = _time(spec["open"], f"{source}: opening_hours.{day}.open")
            closes = _time(spec["close"], f"{source}: opening_hours.{day}.close")
            if closes <= opens:
                raise ClinicConfigError(f"{source}: opening_hours.{day} closes before it opens")
            hours.append((opens, closes))
        rules = raw.get("booking") or {}
        booking = BookingRules(
            slot_interval_minutes=int(rules.get("slot_interval_minutes", 15)),
            min_notice_minutes=int(rules.get("min_notice_minutes", 120)),
            max_days_ahead=int(rules.get("max_days_ahead", 60)),
            closed_dates=frozenset(
                date.fromisoformat(str(d)) for d in rules.get("closed_dates", [])
            ),
        )
        return Clinic(
            name=raw["name"],
            phone=str(raw["phone"]),
            email=raw.get("email", ""),
            website=raw.get("website", ""),
            address=raw.get("address", ""),
            parking=raw.get("parking", ""),
            timezone=ZoneInfo(raw.get("timezone", "UTC")),
            region=raw.get("region", "GB"),
            currency=raw.get("currency", "GBP"),
            disclaimer=raw.get("disclaimer", "This is general information, not medical advice."),
            urgent_care=raw.get(
                "urgent_care",
                "Please contact your doctor or your local emergency number before any massage.",
            ),
            opening_hours=tuple(hours),
            services=tuple(Service(**s) for s in raw.get("services", [])),
            therapists=tuple(Therapist(**t) for t in raw.get("therapists", [])),
            booking=booking,
            payment_methods=tuple(str(m) for m in raw.get("payment_methods") or ()),
            access=str(raw.get("access") or ""),
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ClinicConfigError):
            raise
        raise ClinicConfigError(f"{source}: {error!r}") from error


@lru_cache(maxsize=4)
def load_clinic(path: Path) -> Clinic:
    """Parsed once per process: the file changes only when staff redeploy."""
    with open(path, encoding="utf-8") as handle:
        return parse_clinic(yaml.safe_load(handle) or {}, source=str(path))
