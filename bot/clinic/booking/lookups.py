"""Failed look-ups of a booking, counted where a client cannot reset them.

Cancelling or moving a booking needs its reference and the contact it was made with. Each form
stops after three wrong answers, but a form's count lives in one conversation, and a new
conversation (a new widget session, another channel) starts it again. So wrong pairs are also
counted here, in the database, per reference and per contact: after MAX_FAILED_LOOKUPS in
WINDOW, that booking (or that contact's bookings) can only be changed by phone until the window
has passed. The keys are SHA-256 hashes, so this table holds no reference or contact in clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.clinic.booking.contact import validate_contact
from bot.clinic.models import FailedLookup

MAX_FAILED_LOOKUPS = 5
WINDOW = timedelta(hours=1)


def _hash(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value.casefold()}".encode()).hexdigest()


def lookup_keys(reference: str | None, contact: str, region: str) -> list[str]:
    """What a look-up is counted against: the reference, and the contact as it is stored."""
    keys = [_hash("reference", reference)] if reference else []
    checked = validate_contact(contact, region)
    if checked.ok:
        keys.append(_hash("contact", str(checked.value)))
    return keys


def too_many(session: Session, keys: Sequence[str], now: datetime) -> bool:
    if not keys:
        return False
    counts = session.execute(
        select(FailedLookup.key, func.count())
        .where(FailedLookup.key.in_(keys), FailedLookup.created_at > now - WINDOW)
        .group_by(FailedLookup.key)
    ).all()
    return any(count >= MAX_FAILED_LOOKUPS for _, count in counts)


def record_failure(session: Session, keys: Sequence[str], now: datetime) -> None:
    session.execute(delete(FailedLookup).where(FailedLookup.created_at <= now - WINDOW))
    session.add_all(FailedLookup(key=key, created_at=now) for key in keys)


def forget_contact(session: Session, contact: str) -> None:
    """For privacy requests: the client's failed look-ups go with the rest of their data."""
    session.execute(delete(FailedLookup).where(FailedLookup.key == _hash("contact", contact)))
