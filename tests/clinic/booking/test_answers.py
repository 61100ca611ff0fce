"""Telling what a client's message is to a booking form (bot.clinic.booking.answers)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from bot.clinic.booking import answers
from bot.clinic.booking.contact import validate_name
from bot.clinic.facts import Clinic, load_clinic
from tests.support.clinics import clinic_data


@pytest.fixture
def back_clinic(tmp_path: Path) -> Clinic:
    (tmp_path / "clinic.yml").write_text(yaml.safe_dump(clinic_data()), encoding="utf-8")
    return load_clinic(tmp_path / "clinic.yml")


NOW = datetime.fromisoformat("2025-11-18T09:30:00+00:00")  # a Tuesday


@pytest.mark.parametrize(
    "text", ["stop", "never mind", "cancel", "no, cancel it, I'll book another time", "Stop please"]
)
def test_explicit_stops(text: str) -> None:
    assert answers.is_stop(text)


@pytest.mark.parametrize(
    "text", ["no", "I'm not sure yet, what have you got?", "cancel my booking on friday", "Dave"]
)
def test_not_stops(text: str) -> None:
    assert not answers.is_stop(text)


@pytest.mark.parametrize("text", ["no", "nothing", "no thanks", "nope, that's all", "n/a"])
def test_no_note(text: str) -> None:
    assert answers.is_no_note(text)


def test_a_note_is_not_no_note() -> None:
    assert not answers.is_no_note("no pressure on my lower back please")


@pytest.mark.parametrize("text", ["yes", "yes please", "that's perfect, book it", "go ahead"])
def test_yes(text: str) -> None:
    assert answers.is_yes(text)


@pytest.mark.parametrize(
    ("text", "question", "strong"),
    [
        ("is it ok if I'm pregnant?", True, False),
        ("sorry, how much is it?", True, True),
        ("what time do you close on saturday?", True, True),
        ("what about friday at 3?", True, False),
        ("can you do friday at 3?", True, False),
        ("friday at 3", False, False),
    ],
)
def test_questions(text: str, question: bool, strong: bool) -> None:
    assert answers.looks_like_question(text) is question
    assert answers.is_strong_question(text) is strong


def test_name_inside_a_sentence() -> None:
    assert answers.read_name("Hi, I'm Tom Hughes and I'd like a massage") == "Tom Hughes"
    assert answers.read_name("name Maria Lopez, phone 07400 222333") == "Maria Lopez"
    assert answers.read_name("no the name should be Sarah O'Connor") == "Sarah O'Connor"
    assert answers.read_name("I'm looking for a massage") is None


@pytest.mark.parametrize("text", ["actually make it Friday", "what should I wear", "is it ok?"])
def test_sentences_are_not_names(text: str) -> None:
    assert not validate_name(text).ok


@pytest.mark.parametrize(
    "text", ["Mary-Jane van der Berg", "Aoife Ní Bhriain", "Γιώργος Παπαδόπουλος", "Will Smith"]
)
def test_names(text: str) -> None:
    assert validate_name(text).value == text


def test_phone_numbers_are_taken_out_before_the_time_is_read() -> None:
    assert answers.without_details("move MB-K7Q2XT to friday, it's 07400 333444", "GB") == (
        "move to friday, it's"
    )
    assert answers.without_details("on 13/03 at 10:30", "GB") == "on 13/03 at 10:30"


def test_contact_answer() -> None:
    assert answers.contact_answer("call me on 07400 111 222 please", "GB").value == "+447400111222"
    missing_at = answers.contact_answer("jo.bloggs.example.com", "GB")
    assert not missing_at.ok and "@" in missing_at.reason


def test_services_named(back_clinic: Clinic) -> None:
    def ids(text: str, among: tuple = ()) -> list[str]:  # type: ignore[type-arg]
        return [s.id for s in answers.named_services(back_clinic, text, among)]

    assert ids("can i book a 30 min back massage tomorrow 2ish") == ["back-30"]
    assert ids("the hour long back massage") == ["back-60"]
    assert ids("I'd like a back massage") == ["back-30", "back-60"]
    assert ids("the 60 minute one", tuple(back_clinic.services)) == ["back-60"]
    assert ids("Dave Smith") == []


def test_first_message(back_clinic: Clinic) -> None:
    found = answers.read_first_message(
        "Hi, I'm Tom Hughes, 30 min back massage friday at 10am, 07400 444555", back_clinic, NOW
    )
    assert [s.id for s in found.services] == ["back-30"]
    assert found.names_time and found.name == "Tom Hughes" and found.contact == "+447400444555"


def test_bare_hour() -> None:
    assert answers.bare_hour("ok 12 then") == "at 12"
    assert answers.bare_hour("30 minutes") is None


def test_superlatives_pick_services(back_clinic: Clinic) -> None:
    cheapest = answers.named_services(back_clinic, "book me the cheapest one for friday")
    assert [s.id for s in cheapest] == ["back-30"]
    assert [s.id for s in answers.named_services(back_clinic, "the longest one")] == ["back-60"]


def test_refers_back() -> None:
    assert answers.refers_back("great, can I book one for thursday at 2pm?")
    assert not answers.refers_back("can I book an appointment?")
