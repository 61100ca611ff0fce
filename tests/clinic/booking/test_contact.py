"""Names, phone numbers and e-mail addresses: normalised when valid, a reason when not."""

from __future__ import annotations

import pytest

from bot.clinic.booking.contact import (
    display_contact,
    same_contact,
    validate_contact,
    validate_email_address,
    validate_name,
    validate_phone,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07911 123456", "+447911123456"),
        ("07911123456", "+447911123456"),
        ("+44 7911 123456", "+447911123456"),
        ("0044 7911 123456", "+447911123456"),
        ("(020) 7946 0958", "+442079460958"),
        ("you can reach me on 07911 123456", "+447911123456"),
        ("+1 415 555 2671", "+14155552671"),
        ("+33 6 12 34 56 78", "+33612345678"),
    ],
)
def test_valid_phones_become_e164(text: str, expected: str) -> None:
    checked = validate_phone(text, "GB")
    assert checked.ok and checked.value == expected and checked.kind == "phone"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("12345", "too short"),
        ("07911 12345", "valid phone number"),  # a digit missing
        ("(415) 555-2671", "country code"),  # a US number without +1 isn't a UK one
        ("+44 7700 900123", "valid phone number"),  # range reserved for drama: never real
        ("", "give a phone number"),
    ],
)
def test_invalid_phones_get_a_reason(text: str, words: str) -> None:
    checked = validate_phone(text, "GB")
    assert not checked.ok and checked.value is None
    assert words in checked.reason


def test_region_default_comes_from_the_clinic() -> None:
    assert validate_phone("(415) 555-2671", "US").value == "+14155552671"
    assert validate_phone("06 12 34 56 78", "FR").value == "+33612345678"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jo.smith@example.com", "jo.smith@example.com"),
        ("Jo.Smith@Example.COM", "Jo.Smith@example.com"),
        ("  mark@example.org  ", "mark@example.org"),
        ("my email is mark.hughes@example.org.", "mark.hughes@example.org"),
        ("email: a.b@example.co.uk", "a.b@example.co.uk"),
        ("zoë@example.com", "zoë@example.com"),
    ],
)
def test_valid_emails(text: str, expected: str) -> None:
    checked = validate_email_address(text)
    assert checked.ok and checked.value == expected and checked.kind == "email"


@pytest.mark.parametrize(
    "text", ["foo@", "@example.com", "a@b", "jo smith@example.com", "x@localhost", "a@@b.com"]
)
def test_invalid_emails(text: str) -> None:
    checked = validate_email_address(text)
    assert not checked.ok
    assert checked.reason.startswith("That e-mail address doesn't look right")


def test_contact_picks_email_or_phone() -> None:
    assert validate_contact("jo@example.com", "GB").kind == "email"
    assert validate_contact("07911 123456", "GB").kind == "phone"
    nothing = validate_contact("call me maybe", "GB")
    assert not nothing.ok and "phone number or an e-mail" in nothing.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sarah Jones", "Sarah Jones"),
        ("sarah jones", "Sarah Jones"),
        ("SARAH JONES", "Sarah Jones"),
        ("my name is Priya Patel", "Priya Patel"),
        ("I'm Dave", "Dave"),
        ("hi, it's tom", "Tom"),
        ("o'neil", "O'Neil"),
        ("Mary-Jane O'Connor", "Mary-Jane O'Connor"),
        ("McDonald", "McDonald"),
        ("Zoë Brontë", "Zoë Brontë"),
        ("李小龍", "李小龍"),
        ("Jo", "Jo"),
        ("  Anna   Kowalski ", "Anna Kowalski"),
    ],
)
def test_valid_names(text: str, expected: str) -> None:
    checked = validate_name(text)
    assert checked.ok and checked.value == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("12345", "contact details"),
        ("07911 123456", "contact details"),
        ("jo@example.com", "contact details"),
        ("R2D2", "contact details"),
        ("J", "full first name"),
        ("x" * 81, "80 characters"),
        ("no", "didn't catch"),
        ("thanks", "didn't catch"),
        ("!!!", "your name"),
        ("<script>", "only have letters"),
        ("", "your name"),
    ],
)
def test_invalid_names(text: str, words: str) -> None:
    checked = validate_name(text)
    assert not checked.ok
    assert words in checked.reason


def test_same_contact_compares_normalised_forms() -> None:
    assert same_contact("+447911123456", "07911 123 456", "GB")
    assert same_contact("+447911123456", "+44 (0)7911 123456", "GB")
    assert same_contact("Jo.Smith@example.com", "jo.smith@EXAMPLE.com", "GB")
    assert not same_contact("+447911123456", "07911 123457", "GB")
    assert not same_contact("jo@example.com", "jo@example.org", "GB")
    assert not same_contact("+447911123456", "rubbish", "GB")
    assert not same_contact("", "", "GB")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me on 07400 111 222 please", "+447400111222"),
        ("+44 (0)7400 444555", "+447400444555"),
        ("0044 7400 654321", "+447400654321"),
        ("(01245) 356789", "+441245356789"),
        ("7400 444555", "+447400444555"),
    ],
)
def test_phones_as_clients_type_them(text: str, expected: str) -> None:
    # Parsing a whole sentence can give a wrong number; the matcher then finds the right one.
    assert validate_phone(text, "GB").value == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ciarán O’Neill", "Ciarán O'Neill"),  # a phone keyboard's curly apostrophe
        ("José María García-López", "José María García-López"),
        ("Łukasz Wiśniewski", "Łukasz Wiśniewski"),
        ("John A Smith", "John A Smith"),  # initials are not sentence words
    ],
)
def test_names_kept_whole(text: str, expected: str) -> None:
    assert validate_name(text).value == expected


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+447400444555", "07400 444555"),
        ("+33612345678", "+33 6 12 34 56 78"),
        ("jo@example.com", "jo@example.com"),
    ],
)
def test_contact_as_a_person_reads_it(stored: str, shown: str) -> None:
    assert display_contact(stored, "GB") == shown
