"""Check and normalise what clients give as their name and contact details.

Normalised forms (E.164 phone numbers, e-mail addresses with a lower-cased domain) are what we
store, so "07700 900123" and "+44 7700 900123" later identify the same client when they come
back to cancel or reschedule.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email


@dataclass(frozen=True)
class Checked:
    """`value` when valid (with `kind` saying which), otherwise `reason` for the client."""

    value: str | None = None
    reason: str = ""
    kind: str = ""

    @property
    def ok(self) -> bool:
        return self.value is not None


_EMAIL_TOKEN = re.compile(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+")
_EMAIL_LEAD_INS = {
    "is", "email", "e-mail", "mail", "address", "at", "on", "to", "it's", "its", "me", "use",
}  # fmt: skip
_NAME_PREFIX = re.compile(
    r"^\s*(?:(?:hi|hello|hey)[,!.\s]+)?(?:my name is|my name's|name is|name's|i am|i'm|im|"
    r"it's|its|this is|call me|it is|name:)\s+",
    re.IGNORECASE,
)
_NAME_ALLOWED_PUNCTUATION = set(" -'.’")
# Words that are in sentences, never in names: "actually make it Friday", "what should I wear"
# pass every other check. Names that are also words ("Will", "May", "Grace") and single letters
# (initials: "John A Smith") are not listed.
_SENTENCE_WORDS = {
    "i'm", "im", "i'd", "i'll", "you", "your", "you're", "is", "are", "am", "was", "what",
    "what's", "how", "when", "where", "why", "which", "do", "does", "did", "don't", "it", "it's",
    "the", "my", "me", "to", "if", "ok", "okay", "please", "thanks", "book", "booking", "massage",
    "appointment", "make", "change", "instead", "actually", "should", "would", "could", "there",
    "this", "that", "that's", "with", "have", "has", "not", "no", "yes", "an", "of", "for",
    "in", "on", "at", "be", "can't", "cannot", "want", "like", "need", "sorry", "wait", "time",
}  # fmt: skip
_NOT_NAMES = {
    "yes", "no", "ok", "okay", "hi", "hello", "hey", "thanks", "thank you", "stop", "cancel",
    "help", "none", "nothing", "no thanks", "n/a", "na", "test", "anonymous", "me",
}  # fmt: skip


def validate_phone(text: str, region: str) -> Checked:
    """A dialable number in E.164; numbers without a country code are read as `region`'s."""
    raw = (text or "").strip()
    if not raw:
        return Checked(reason="Please give a phone number.")
    number = _parse_phone(raw, region)
    if number is None or not phonenumbers.is_valid_number(number):
        # The number may sit inside a sentence: "you can reach me on 07700 900123" (parsing the
        # whole sentence can give a wrong number, so the matcher looks again).
        match = next(iter(phonenumbers.PhoneNumberMatcher(raw, region)), None)
        number = match.number if match else number
    if number is None or not phonenumbers.is_valid_number(number):
        return Checked(reason=_phone_reason(raw, region))
    return Checked(
        value=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        kind="phone",
    )


def validate_email_address(text: str) -> Checked:
    """A syntactically valid address; deliverability (DNS) is not checked: it needs network."""
    raw = (text or "").strip()
    match = _EMAIL_TOKEN.search(raw)
    candidate = raw
    if match:
        before = raw[: match.start()].strip().rstrip(":-").strip()
        # "my email is jo@example.com" is fine; "jo smith@example.com" is a typo, not "smith@…".
        if not before or before.split()[-1].casefold() in _EMAIL_LEAD_INS:
            candidate = match.group(0).rstrip(".")
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        return Checked(reason=f"That e-mail address doesn't look right: {error}")
    local, _, domain = result.normalized.rpartition("@")
    return Checked(value=f"{local}@{domain.lower()}", kind="email")


def validate_contact(text: str, region: str) -> Checked:
    """An e-mail address if there is an @ in it, otherwise a phone number."""
    if "@" in (text or ""):
        return validate_email_address(text)
    checked = validate_phone(text, region)
    if checked.ok or any(ch.isdigit() for ch in text or ""):
        return checked
    return Checked(reason="Please give a phone number or an e-mail address we can reach you on.")


def same_contact(stored: str, given: str, region: str) -> bool:
    """Whether `given` (as typed) is the contact stored with a booking; constant-time compare."""
    checked = validate_contact(given, region)
    if not checked.ok:
        return False
    return hmac.compare_digest(
        stored.casefold().encode("utf-8"), str(checked.value).casefold().encode("utf-8")
    )


def display_contact(value: str, region: str) -> str:
    """A stored contact as a person reads it: "07400 444555" for a number in the clinic's own
    country, "+33 6 12 34 56 78" for one abroad, an e-mail address as it is."""
    if "@" in value:
        return value
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    local = phonenumbers.region_code_for_number(number) == region
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if local
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def validate_name(text: str) -> Checked:
    """A person's name: 2–80 characters, mostly letters; "my name is" and the like are removed."""
    raw = unicodedata.normalize("NFC", (text or "").strip()).replace("’", "'").replace("‘", "'")
    raw = _NAME_PREFIX.sub("", raw).strip().strip(".!,")
    name = re.sub(r"\s+", " ", raw)
    if not name:
        return Checked(reason="Could you tell me your name?")
    if "@" in name or sum(ch.isdigit() for ch in name) > 0:
        return Checked(
            reason="That looks like contact details rather than a name — what's your name?"
        )
    if len(name) < 2:
        return Checked(reason="Could you give me your full first name at least?")
    if len(name) > 80:
        return Checked(
            reason="That's a bit long for a name — could you shorten it to 80 characters?"
        )
    if name.casefold() in _NOT_NAMES:
        return Checked(reason="Sorry, I didn't catch your name — what should I call you?")
    letters = sum(ch.isalpha() for ch in name)
    if any(word.strip(".,'-") in _SENTENCE_WORDS for word in name.casefold().split()):
        return Checked(
            reason="Sorry, I didn't catch your name — what should I put the booking under?"
        )
    if any(not (ch.isalpha() or ch in _NAME_ALLOWED_PUNCTUATION) for ch in name):
        return Checked(
            reason="A name can only have letters, spaces, hyphens and apostrophes — your name?"
        )
    if letters < 2:
        return Checked(reason="Could you tell me your name?")
    if name == name.lower() or name == name.upper():
        name = " ".join(_capitalise(part) for part in name.split(" "))
    return Checked(value=name, kind="name")


def _capitalise(word: str) -> str:
    """'o'neil' → "O'Neil", 'smith-jones' → 'Smith-Jones'."""
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0)[:1].upper() + m.group(0)[1:].lower(), word)


def _parse_phone(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None


def _phone_reason(raw: str, region: str) -> str:
    digits = sum(ch.isdigit() for ch in raw)
    example = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(region)
    sample = (
        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
        if example
        else "+44 7700 900123"
    )
    if digits < 7:
        return (
            f"That phone number looks too short — could you give the whole number, like {sample}?"
        )
    return (
        "That doesn't look like a valid phone number. Could you check it? Numbers from abroad "
        f"need the country code, like +33 …; local numbers look like {sample}."
    )
