"""The clinic's own facts (name, hours, services…), loaded from the YAML file staff keep."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Any
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

    def hours_on(self, day: date) -> tuple[time, time] | None:
        if day in self.booking.closed_dates:
            return None
        return self.opening_hours[day.weekday()]

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def opening_hours_text(self) -> str:
        lines = []
        for name, hours in zip(WEEKDAYS, self.opening_hours, strict=True):
            when = f"{hours[0]:%H:%M}–{hours[1]:%H:%M}" if hours else "closed"
            lines.append(f"{name.capitalize()}: {when}")
        return "\n".join(lines)

    def prices_text(self) -> str:
        symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(self.currency, self.currency + " ")
        return "\n".join(f"{s.name}: {symbol}{s.price:.2f}" for s in self.services)

    def session_lengths_text(self) -> str:
        minutes = sorted({s.duration_minutes for s in self.services})
        return ", ".join(f"{m} minutes" for m in minutes)

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
        }


def _time(value: str, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError as error:
        raise ClinicConfigError(f"{where}: '{value}' is not a time like 09:00") from error


def parse_clinic(raw: dict[str, Any], source: str = "clinic file") -> Clinic:
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
