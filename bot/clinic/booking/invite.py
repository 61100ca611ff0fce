"""iCalendar (.ics) invites for a booking: one for the client's calendar, one for the clinic's.

Both share a UID derived from the booking reference, and SEQUENCE follows the booking's change
counter, so importing the invite sent after a reschedule or cancellation updates the same
calendar entry instead of adding a second one.
"""

from __future__ import annotations

from datetime import datetime, timezone

from icalendar import Calendar, Event, vCalAddress, vText

from bot.clinic.booking.records import BookingInfo
from bot.clinic.booking.wording import describe_start
from bot.clinic.facts import Clinic

AUDIENCES = ("client", "clinic")
_STATUS = {"pending": "TENTATIVE", "confirmed": "CONFIRMED", "cancelled": "CANCELLED"}


def invite_uid(booking: BookingInfo, clinic: Clinic) -> str:
    domain = clinic.email.rpartition("@")[2] if "@" in clinic.email else "massagebot.invalid"
    return f"{booking.reference.lower()}@{domain}"


def build_invite(
    booking: BookingInfo, clinic: Clinic, audience: str = "client", now: datetime | None = None
) -> bytes:
    """The .ics file's bytes. Times carry the clinic's TZID (with a VTIMEZONE), so calendars
    show the right local time whatever zone the reader is in."""
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}")
    cancelled = booking.status == "cancelled"
    calendar = Calendar()
    calendar.add("prodid", "-//massagebot//booking invite//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")

    event = Event()
    event.add("uid", invite_uid(booking, clinic))
    event.add("dtstamp", (now or datetime.now(timezone.utc)).astimezone(timezone.utc))
    event.add("dtstart", booking.start.astimezone(clinic.timezone))
    event.add("dtend", booking.end.astimezone(clinic.timezone))
    event.add("sequence", booking.sequence)
    event.add("status", _STATUS.get(booking.status, "TENTATIVE"))
    if clinic.address:
        event.add("location", clinic.address)

    if clinic.email:
        organizer = vCalAddress(f"mailto:{clinic.email}")
        organizer.params["cn"] = vText(clinic.name)
        event.add("organizer", organizer)
    if booking.contact_kind == "email":
        attendee = vCalAddress(f"mailto:{booking.contact}")
        attendee.params["cn"] = vText(booking.client_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee)

    when = describe_start(booking.start)
    if audience == "client":
        event.add("summary", f"{booking.service_name} at {clinic.name}")
        lines = [
            f"{booking.service_name} on {when}.",
            f"Booking reference: {booking.reference}",
            f"To change or cancel, message us with your reference or call {clinic.phone}.",
        ]
        if booking.status == "pending":
            lines.insert(1, "The clinic will confirm this booking shortly.")
    else:
        event.add(
            "summary", f"{booking.service_name} – {booking.client_name} ({booking.reference})"
        )
        lines = [
            f"Client: {booking.client_name}",
            f"Contact: {booking.contact}",
            f"Service: {booking.service_name}",
            f"Reference: {booking.reference} ({booking.status})",
        ]
        if booking.therapist_id:
            lines.append(f"Therapist: {booking.therapist_id}")
        if booking.note:
            lines.append(f"Client's note: {booking.note}")
        if booking.conversation_id:
            lines.append(f"Conversation: {booking.conversation_id}")
    event.add("description", "\n".join(lines))
    calendar.add_component(event)
    if hasattr(calendar, "add_missing_timezones"):
        calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical
