"""The conversation suite's own checks, without a bot: the files follow the format, and the runner
fails a conversation for each kind of wrong reply (so a pass means something)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clinic.booking.service import BookingService
from bot.clinic.db import session_scope
from bot.clinic.facts import Clinic
from bot.clinic.models import Booking
from tests.conversations.runner import (
    Conversation,
    SuiteError,
    SuiteRunner,
    Turn,
    check_reply,
    load_file,
    load_suite,
    local_start,
    normalise,
    parse_turn,
    report,
    select_conversations,
)

REQUIRED_CATEGORIES = {
    "booking",
    "cancel",
    "reschedule",
    "handoff",
    "mid_form_questions",
    "corrections",
    "faq_followups",
    "clinic_info",
    "languages",
    "health_notes",
    "safety",
    "contact_details",
    "small_talk",
}


# --- The suite's files ---------------------------------------------------------------------------


def test_suite_has_at_least_150_conversations_in_every_category() -> None:
    conversations = load_suite()
    assert len(conversations) >= 150
    categories = {c.category for c in conversations}
    assert categories >= REQUIRED_CATEGORIES, REQUIRED_CATEGORIES - categories
    for category in categories:
        assert sum(c.category == category for c in conversations) >= 8, category


def test_every_conversation_is_typed_by_the_client_first() -> None:
    for conversation in load_suite():
        assert conversation.turns[0].text, f"{conversation.id}: the first turn is typed text"


def test_checks_name_real_services_and_clinic_times(sample_clinic: Clinic) -> None:
    service_ids = {s.id for s in sample_clinic.services}
    for conversation in load_suite():
        expected = [conversation.checks.get("booking") or {}]
        expected += list(conversation.checks.get("bookings") or [])
        for item in [*expected, *conversation.given]:
            if "service" in item:
                assert item["service"] in service_ids, (conversation.id, item)
            if "start" in item:
                assert local_start(sample_clinic, str(item["start"])).tzinfo is not None


def test_filters_by_category_and_id() -> None:
    conversations = load_suite()
    booking = select_conversations(conversations, categories=["booking"])
    assert booking and all(c.category == "booking" for c in booking)
    one = select_conversations(conversations, ids=[booking[0].id])
    assert [c.id for c in one] == [booking[0].id]
    prefixed = select_conversations(conversations, ids=["phone-*"])
    assert len(prefixed) > 5 and all(c.id.startswith("phone-") for c in prefixed)


def write_suite(folder: Path, text: str, name: str = "booking") -> list[Conversation]:
    path = folder / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return load_file(path)


@pytest.mark.parametrize(
    "turns",
    [
        '[{user: "hi"}]',  # no expectation
        '[{user: "hi", click: "Yes", must: ["x"]}]',  # typed and clicked at once
        '[{user: "hi", muts: ["x"]}]',  # misspelt key
        '[{user: "hi", buttons: {incl: ["x"]}}]',
    ],
)
def test_malformed_turns_are_refused(tmp_path: Path, turns: str) -> None:
    with pytest.raises(SuiteError):
        write_suite(tmp_path, f"conversations:\n  - id: x\n    turns: {turns}\n")


def test_a_file_holds_one_category(tmp_path: Path) -> None:
    with pytest.raises(SuiteError):
        write_suite(tmp_path, "category: cancel\nconversations: []\n")


# --- Checking a reply ----------------------------------------------------------------------------


def turn(**fields: Any) -> Turn:
    return parse_turn({"user": "hello", **fields}, "test")


def reply(text: str, *titles: str) -> list[dict[str, Any]]:
    buttons = [{"title": t, "payload": f"/{t.lower()}"} for t in titles]
    return [{"text": text, **({"buttons": buttons} if buttons else {})}]


def test_each_phrase_must_appear_and_alternatives_need_one() -> None:
    expect = turn(must=["name", ["friday", "13 march"]])
    assert check_reply(expect, reply("What NAME should I use for Friday?"), (), {}) == []
    problems = check_reply(expect, reply("What time on Saturday?"), (), {})
    assert problems == ['missing: "name"', 'missing: "friday" or "13 march"']


def test_apostrophes_dashes_and_case_do_not_matter() -> None:
    expect = turn(must=["Siobhan O'Brien", "09:00-18:00"])
    assert check_reply(expect, reply("Name: SIOBHAN O’BRIEN, open 09:00–18:00"), (), {}) == []
    assert normalise("O’Brien  –\u00a0x") == "o'brien - x"


def test_forbidden_phrases_from_the_turn_the_conversation_and_always() -> None:
    expect = turn(must_not=["too short"])
    said = reply("That phone number looks too short. What time on tomorrow would suit you?")
    problems = check_reply(expect, said, ("did you mean",), {})
    assert 'must not say: "too short"' in problems
    assert 'must not say: "what time on tomorrow"' in problems
    assert check_reply(turn(must=["x"]), reply("x — did you mean"), ("did you mean",), {})


def test_button_titles_count_as_said() -> None:
    expect = turn(must_not=["09:00"], must=["17:00"])
    problems = check_reply(expect, reply("These are free:", "Thursday at 09:00", "17:00"), (), {})
    assert problems == ['must not say: "09:00"']


def test_button_rules() -> None:
    said = reply("Which one?", "Book an appointment", "Talk to a person")
    assert check_reply(turn(buttons={"include": ["person"]}), said, (), {}) == []
    assert check_reply(turn(buttons={"exclude": ["book"]}), said, (), {}) == [
        'button "book" should not be offered'
    ]
    assert check_reply(turn(buttons="none"), said, (), {}) == ["expected no buttons"]
    assert check_reply(turn(buttons={"some": True}), reply("Hi"), (), {}) == ["expected buttons"]


def test_silence_and_unfilled_placeholders() -> None:
    assert check_reply(turn(silent=True), [], (), {}) == []
    assert check_reply(turn(silent=True), reply("Hi"), (), {})
    assert check_reply(turn(must=["x"]), [], (), {}) == ["the bot said nothing"]
    assert check_reply(turn(must=["call"]), reply("call us on {phone}"), (), {}) == [
        "unfilled placeholder: {phone}"
    ]


def test_a_regular_expression_must_match() -> None:
    expect = turn(match=["MB-[A-Z0-9]{6}"])
    assert check_reply(expect, reply("Your reference is MB-7K3Q9P."), (), {}) == []
    assert check_reply(expect, reply("Booked."), (), {}) == ["no match for /MB-[A-Z0-9]{6}/"]


# --- Running conversations against a scripted bot ------------------------------------------------


class ScriptedBot:
    """Answers each message from a list, recording what it was sent."""

    def __init__(self, *answers: list[dict[str, Any]]) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, str]] = []

    def __call__(self, text: str, sender: str) -> list[dict[str, Any]]:
        self.sent.append((text, sender))
        return self.answers.pop(0) if self.answers else []


def runner_for(bot: ScriptedBot, database_url: str, tmp_path: Path, clinic: Clinic) -> SuiteRunner:
    return SuiteRunner(bot, database_url, tmp_path / "now.txt", clinic, run_tag="t")


def test_a_click_sends_the_payload_of_a_button_the_bot_just_showed(
    tmp_path: Path, database_url: str, sample_clinic: Clinic
) -> None:
    (conversation,) = write_suite(
        tmp_path,
        "conversations:\n  - id: c\n    turns:\n"
        '      - {user: "hi", must: ["hello"]}\n'
        '      - {click: "Book an appointment", must: ["which"]}\n',
    )
    bot = ScriptedBot(reply("Hello", "Book an appointment"), reply("Which treatment?"))
    result = runner_for(bot, database_url, tmp_path, sample_clinic).run(conversation)
    assert result.passed, report([result])
    assert [text for text, _ in bot.sent] == ["hi", "/book an appointment"]
    assert len({sender for _, sender in bot.sent}) == 1
    assert (tmp_path / "now.txt").read_text() == conversation.now


def test_a_click_on_a_button_not_shown_fails_without_sending(
    tmp_path: Path, database_url: str, sample_clinic: Clinic
) -> None:
    (conversation,) = write_suite(
        tmp_path,
        "conversations:\n  - id: c\n    turns:\n"
        '      - {user: "hi", must: ["hello"]}\n'
        '      - {user: "thanks", must: ["welcome"]}\n'
        '      - {click: "Book an appointment", must: ["which"]}\n',
    )
    bot = ScriptedBot(reply("Hello", "Book an appointment"), reply("You're welcome"))
    result = runner_for(bot, database_url, tmp_path, sample_clinic).run(conversation)
    assert not result.passed and result.failure is not None
    assert result.failure.number == 3
    assert "showed a button" in result.failure.problems[0]
    assert len(bot.sent) == 2


def test_an_earlier_button_may_be_clicked_only_with_click_earlier(
    tmp_path: Path, database_url: str, sample_clinic: Clinic
) -> None:
    (conversation,) = write_suite(
        tmp_path,
        "conversations:\n  - id: c\n    turns:\n"
        '      - {user: "hi", must: ["hello"]}\n'
        '      - {user: "thanks", must: ["welcome"]}\n'
        '      - {click_earlier: "Book an appointment", must: ["which"]}\n',
    )
    bot = ScriptedBot(reply("Hello", "Book an appointment"), reply("Welcome"), reply("Which?"))
    assert runner_for(bot, database_url, tmp_path, sample_clinic).run(conversation).passed


def test_the_first_failing_turn_ends_the_conversation_and_is_reported(
    tmp_path: Path, database_url: str, sample_clinic: Clinic
) -> None:
    (conversation,) = write_suite(
        tmp_path,
        "conversations:\n  - id: c\n    turns:\n"
        '      - {user: "book a massage friday 2ish", must: ["name"]}\n'
        '      - {user: "Jo", must: ["phone"]}\n',
    )
    bot = ScriptedBot(reply("Sorry, I didn't quite get that."), reply("phone?"))
    result = runner_for(bot, database_url, tmp_path, sample_clinic).run(conversation)
    assert len(bot.sent) == 1
    text = report([result])
    assert "FAIL booking/c" in text and "turn 1 of 2" in text
    assert "didn't quite get that" in text and 'missing: "name"' in text
    assert "booking    0/1" in text and "overall    0/1" in text


def test_the_reference_the_bot_gave_can_be_typed_back(
    tmp_path: Path, database_url: str, sample_clinic: Clinic
) -> None:
    (conversation,) = write_suite(
        tmp_path,
        "conversations:\n  - id: c\n    turns:\n"
        '      - {user: "yes", must: ["booked"]}\n'
        '      - {user: "cancel {reference} please", must: ["{reference}"]}\n',
    )
    bot = ScriptedBot(reply("You're booked: MB-7K3Q9P."), reply("Cancel MB-7K3Q9P?"))
    assert runner_for(bot, database_url, tmp_path, sample_clinic).run(conversation).passed
    assert bot.sent[1][0] == "cancel MB-7K3Q9P please"


def book_directly(database_url: str, sample_clinic: Clinic, sender: str, start: str) -> str:
    now = local_start(sample_clinic, "2026-03-10T09:30")
    outcome = BookingService(sample_clinic, database_url, clock=lambda: now).create(
        "back-30", local_start(sample_clinic, start), "Siobhan O'Brien", "07400 444555", "", sender
    )
    assert outcome.booking is not None, outcome.message
    return outcome.booking.reference


def test_the_database_checks_find_the_conversations_booking(
    tmp_path: Path, database_url: str, sample_clinic: Clinic
) -> None:
    (conversation,) = write_suite(
        tmp_path,
        "conversations:\n  - id: c\n    turns:\n"
        '      - {user: "yes", must: ["booked"]}\n'
        "    booking: {service: back-30, start: '2026-03-13T14:00', name: \"Siobhan O'Brien\","
        " contact: '+447400444555', note: null}\n",
    )

    def books(text: str, sender: str) -> list[dict[str, Any]]:
        book_directly(database_url, sample_clinic, sender, "2026-03-13T14:00")
        return reply("booked")

    runner = SuiteRunner(books, database_url, tmp_path / "now.txt", sample_clinic, run_tag="t")
    assert runner.run(conversation).passed

    runner.send = lambda text, sender: (
        book_directly(database_url, sample_clinic, sender, "2026-03-13T15:00"),
        reply("booked"),
    )[1]
    result = runner.run(conversation)
    assert result.database_problems == [
        "booking start is '2026-03-13T15:00', expected '2026-03-13T14:00'"
    ]


def test_the_database_checks_what_the_booking_shows_staff(
    tmp_path: Path, database_url: str, sample_clinic: Clinic
) -> None:
    (conversation,) = write_suite(
        tmp_path,
        "conversations:\n  - id: c\n    turns:\n"
        '      - {user: "yes", must: ["booked"]}\n'
        "    booking: {service: back-30, mentioned: [pregnancy]}\n",
    )

    def books(text: str, sender: str) -> list[dict[str, Any]]:
        book_directly(database_url, sample_clinic, sender, "2026-03-13T14:00")
        return reply("booked")

    runner = SuiteRunner(books, database_url, tmp_path / "now.txt", sample_clinic, run_tag="t")
    assert runner.run(conversation).database_problems == [
        "booking shows staff [], expected ['pregnancy']"
    ]


def test_no_booking_fails_when_one_was_made_and_the_diary_starts_empty(
    tmp_path: Path, database_url: str, sample_clinic: Clinic
) -> None:
    (conversation,) = write_suite(
        tmp_path,
        "conversations:\n  - id: c\n    turns:\n"
        '      - {user: "I have chest pain", must: ["999"]}\n'
        "    no_booking: true\n"
        "    given:\n      bookings:\n"
        "        - {service: back-60, start: '2026-03-13T11:00', reference: MB-K7Q2XT}\n",
    )
    runner = SuiteRunner(
        ScriptedBot(reply("Call 999")), database_url, tmp_path / "n", sample_clinic
    )
    assert runner.run(conversation).passed
    runner.send = lambda text, sender: (
        book_directly(database_url, sample_clinic, sender, "2026-03-13T14:00"),
        reply("Call 999"),
    )[1]
    result = runner.run(conversation)
    assert result.database_problems and "no booking expected" in result.database_problems[0]
    with session_scope(database_url) as session:  # the given booking was made afresh each time
        references = session.execute(select(Booking.reference)).scalars().all()
    assert "MB-K7Q2XT" in references and len(references) == 2
