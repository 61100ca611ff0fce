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
    # Index 0 is Monday, as in `date.weekday()`; None means closed that day.
    opening_hours: tuple[tuple[time, time] | None, ...]
    services: tuple[Service, ...]
    therapists: tuple[Therapist, ...]
    booking: BookingRules = field(default_factory=BookingRules)
    # Medical help the triage replies point to: the emergency number and urgent advice line.
    emergency_number: str = "999"
    urgent_advice: str = "NHS 111"
    # Youngest client the clinic sees (with a parent's or guardian's consent); None: none under 16.
    youngest_client_age: int | None = None
    # True while data/clinic.yml is still the sample shipped with the bot (see `is_sample`).
    sample: bool = False

    def offers(self, massage_type: str) -> bool:
        return any(s.massage_type == massage_type for s in self.services)

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

    def prices_of_kind_text(self, massage_type: str) -> str:
        """The price of one kind of treatment ("and the sports one?" after the price list):
        "A sports massage (60 minutes) is £60." — or, for a kind the clinic doesn't offer, the
        kinds it does with their prices."""
        services = [s for s in self.services if s.massage_type == massage_type]
        if not services:
            kind = massage_type.replace("_", " ")
            return (
                f"Sorry, we don't offer {kind} massage at the moment. These are the treatments we "
                f"do offer:\n{self.prices_text()}"
            )
        if len(services) == 1:
            service = services[0]
            return f"Our {_lower_first(service.name)} is {self.money(service.price)}."
        kind = services[0].name.split("(")[0].strip()
        each = spoken_list(
            [f"{self.money(s.price)} for {s.duration_minutes} minutes" for s in services]
        )
        return f"A {_lower_first(kind)} is {each}."

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


def _lower_first(name: str) -> str:
    """ "sports massage (60 minutes)" inside a sentence; "Swedish" keeps its capital."""
    first = name.split(" ")[0]
    if first.casefold() in {"swedish", "thai", "indian", "hawaiian", "japanese", "balinese"}:
        return name
    return name[:1].lower() + name[1:]


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
            opening_hours=tuple(hours),
            services=tuple(Service(**s) for s in raw.get("services", [])),
            therapists=tuple(Therapist(**t) for t in raw.get("therapists", [])),
            booking=booking,
            emergency_number=str((raw.get("medical_help") or {}).get("emergency", "999")),
            urgent_advice=str((raw.get("medical_help") or {}).get("urgent_advice", "NHS 111")),
            youngest_client_age=_age(raw.get("youngest_client_age"), source),
            sample=bool(raw.get("sample", False)),
            payment_methods=tuple(str(m) for m in raw.get("payment_methods") or ()),
            access=str(raw.get("access") or ""),
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ClinicConfigError):
            raise
        raise ClinicConfigError(f"{source}: {error!r}") from error


# Ofcom keeps 020 7946 0000-0999 for drama: no real clinic answers on it. example.com/.org/.net
# are reserved for examples (RFC 2606).
_FICTIONAL_PHONE_PREFIX = "2079460"
_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")


def sample_signs(clinic: Clinic) -> list[str]:
    """Why this clinic file still looks like the sample shipped with the bot (empty if it doesn't).

    The sample says so with `sample: true`, which a clinic deletes once the details are its own;
    its fictional phone number and example.com addresses catch a copy that dropped only that line.
    """
    import phonenumbers

    signs = []
    if clinic.sample:
        signs.append("it still says `sample: true`")
    try:
        number = phonenumbers.parse(clinic.phone, clinic.region)
        if str(number.national_number).startswith(_FICTIONAL_PHONE_PREFIX):
            signs.append(f"its phone number {clinic.phone} is from the range kept for fiction")
    except phonenumbers.NumberParseException:
        pass
    for value in (clinic.email, clinic.website):
        host = value.rsplit("@", 1)[-1].split("//", 1)[-1].split("/", 1)[0].lower()
        if host.endswith(_EXAMPLE_DOMAINS):
            signs.append(f"{value} is an example address")
    return signs


def _age(value: object, source: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 19:
        raise ClinicConfigError(f"{source}: youngest_client_age must be an age in years, or null")
    return value


@lru_cache(maxsize=4)
def load_clinic(path: Path) -> Clinic:
    """Parsed once per process: the file changes only when staff redeploy."""
    with open(path, encoding="utf-8") as handle:
        return parse_clinic(yaml.safe_load(handle) or {}, source=str(path))


def sample_clinic_refusal(clinic_file: Path, production: bool) -> str | None:
    """In production, why not to start while the clinic file is still the sample (else None)."""
    if not production:
        return None
    try:
        signs = sample_signs(load_clinic(clinic_file))
    except (OSError, ValueError) as error:
        return str(error)
    if not signs:
        return None
    return (
        f"{clinic_file} is still the sample clinic ({'; '.join(signs)}). Put your clinic's own "
        "name, phone number, e-mail, website and address in it, and delete the `sample: true` "
        "line, before running with MASSAGEBOT_ENVIRONMENT=production."
    )
