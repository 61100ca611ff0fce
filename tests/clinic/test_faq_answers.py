"""FAQ answers for the questions a message asks: one per entry, lists on their own lines."""

from __future__ import annotations

import re

import pytest

from bot.clinic import faq
from bot.clinic.facts import Clinic
from bot.clinic.questions import Question, questions_asked
from tests.conftest import ROOT

ENTRY = """version: 1
entries:
  - id: clinic-hours
    intent: ask_clinic_info
    entity: {entity}
    value: "{value}"
    title: "Opening hours"
    answer: |
      {answer}
    follow_ups: [clinic-hours-b]
    source: clinic
    health_advice: false
  - id: clinic-hours-b
    intent: ask_clinic_info
    title: "About"
    answer: "Hello"
    follow_ups: [clinic-hours]
    source: clinic
    health_advice: false
"""


def _parse(answer: str, entity: str = "info_type", value: str = "hours") -> list[faq.FaqItem]:
    return faq.parse_faq(ENTRY.format(entity=entity, value=value, answer=answer))


def test_a_list_placeholder_inside_a_sentence_is_refused() -> None:
    with pytest.raises(faq.FaqImportError, match="is a list"):
        _parse("We're open {opening_hours}.")
    assert _parse("We're open:\n      {opening_hours}")


def test_day_hours_only_in_an_entry_for_any_weekday() -> None:
    with pytest.raises(faq.FaqImportError, match="day_hours"):
        _parse("{day_hours}")
    assert _parse("{day_hours}", entity="weekday", value="*")
    with pytest.raises(faq.FaqImportError, match="only for massage_type, weekday"):
        _parse("Hello", entity="info_type", value="*")


def test_no_list_sits_inside_a_sentence_in_any_answer(faq_database: str, clinic: Clinic) -> None:
    items = faq.load_faq_file(ROOT / "data" / "faq.yml")
    for item in items:
        value = "monday" if item.value == "*" else item.value
        answer = faq.answers_for(
            faq_database,
            [Question(item.intent, {item.entity: (value,)} if item.entity else {})],
            clinic,
        )[0]
        assert not re.search(
            r"\w[^\n]*(Monday|Back massage \()[^\n]*:", answer.text.split("\n")[0]
        ), item.id
        assert not re.search(r"\d+ minutes, \d+ minutes", answer.text), item.id


@pytest.mark.parametrize(
    ("intent", "text", "entry_ids"),
    [
        ("ask_clinic_info", "how much is it?", ["clinic-price"]),
        ("ask_clinic_info", "do you take card", ["clinic-payment"]),
        ("ask_clinic_info", "is it wheelchair accessible", ["clinic-access"]),
        ("ask_clinic_info", "how long is a session", ["clinic-duration"]),
        ("ask_what_to_expect", "how long does a session last", ["session-length"]),
        (
            "ask_clinic_info",
            "are you open at the weekend",
            ["clinic-hours-day", "clinic-hours-day"],
        ),
        (
            "ask_back_pain",
            "does it help with sciatica and how much is it",
            ["back-pain", "clinic-price"],
        ),
        ("ask_massage_types", "which parts of the back do you work on", ["back-regions"]),
        ("ask_back_pain", "what are the three sections of the back?", ["back-regions"]),
        ("ask_treatment_plan", "how long is each session?", ["clinic-duration"]),
        ("ask_treatment_plan", "how long is a session?", ["clinic-duration"]),
        ("ask_clinic_info", "do you have a website?", ["clinic-website"]),
    ],
)
def test_each_question_gets_its_own_entry(
    faq_database: str, clinic: Clinic, intent: str, text: str, entry_ids: list[str]
) -> None:
    answers = faq.answers_for(faq_database, questions_asked(intent, {}, text), clinic)
    assert [a.entry_id for a in answers] == entry_ids


def test_a_weekday_answer_names_that_day(faq_database: str, clinic: Clinic) -> None:
    [sunday] = faq.answers_for(
        faq_database, questions_asked("follow_up", {}, "what about sunday"), clinic
    )
    assert sunday.text.startswith("Sorry, we're closed on Sundays.")
    assert "Our opening hours are:\n- Monday to Friday: 9am–6pm" in sunday.text
    assert (sunday.entity, sunday.value) == ("weekday", "sunday")


def test_price_answer_is_a_list_after_a_sentence(faq_database: str, clinic: Clinic) -> None:
    [answer] = faq.answers_for(
        faq_database, questions_asked("ask_clinic_info", {}, "prices?"), clinic
    )
    lines = answer.text.splitlines()
    assert lines[0] == "Here are our prices:"
    assert lines[1] == "- Back massage (30 minutes): £35"
    assert "Sessions last 30 or 60 minutes." in answer.text


def test_different_specific_questions_get_different_answers(
    faq_database: str, clinic: Clinic
) -> None:
    """The same long answer must not stand in for several specific questions."""
    items = faq.load_faq_file(ROOT / "data" / "faq.yml")
    specific = [i for i in items if i.entity]
    texts: dict[str, str] = {}
    for item in specific:
        value = "monday" if item.value == "*" else item.value
        [answer] = faq.answers_for(
            faq_database, [Question(item.intent, {item.entity: (value,)})], clinic
        )
        assert answer.text not in texts.values() or item.id in (
            "clinic-duration",
            "session-length",
        ), item.id
        texts[item.id] = answer.text


def test_no_answer_for_an_unknown_intent(faq_database: str, clinic: Clinic) -> None:
    assert faq.answers_for(faq_database, [Question("no_such_intent")], clinic) == []


def test_at_most_three_answers(faq_database: str, clinic: Clinic) -> None:
    text = "prices, parking, address, phone number and do you take card"
    answers = faq.answers_for(faq_database, questions_asked("ask_clinic_info", {}, text), clinic)
    assert len(answers) == 3


def test_the_price_of_one_kind_of_treatment(faq_database: str, sample_clinic: Clinic) -> None:
    def answer(kind: str) -> str:
        question = Question("ask_clinic_info", {"massage_type": (kind,)})
        [found] = faq.answers_for(faq_database, [question], sample_clinic)
        assert found.entry_id == "clinic-price-treatment"
        return found.text

    assert answer("sports").startswith("Our sports massage (60 minutes) is £60.")
    assert answer("swedish").startswith("Our Swedish massage (60 minutes) is £55.")
    assert answer("back").startswith("A back massage is £35 for 30 minutes and £55 for 60 minutes.")
    hot_stone = answer("hot_stone")
    assert hot_stone.startswith("Sorry, we don't offer hot stone massage at the moment.")
    assert "\n- Back massage (30 minutes): £35" in hot_stone


def test_service_prices_only_in_an_entry_for_any_massage_type() -> None:
    with pytest.raises(faq.FaqImportError, match="service_prices"):
        _parse("{service_prices}")
    assert _parse("{service_prices}", entity="massage_type", value="*")
