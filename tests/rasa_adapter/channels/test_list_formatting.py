"""Lists in FAQ answers (opening hours, prices) show as lists on every channel."""

from __future__ import annotations

import pytest

from bot.clinic import faq
from bot.clinic.facts import Clinic
from bot.clinic.questions import questions_asked
from bot.rasa_adapter.channels.formatting import PROFILES, format_reply, render_markup


@pytest.fixture()
def hours_answer(faq_database: str, clinic: Clinic) -> faq.Answer:
    [answer] = faq.answers_for(
        faq_database, questions_asked("ask_clinic_info", {}, "opening hours?"), clinic
    )
    return answer


@pytest.mark.parametrize("channel", ["telegram", "slack", "facebook", "sms", "whatsapp"])
def test_opening_hours_are_a_bulleted_list(channel: str, hours_answer: faq.Answer) -> None:
    [message] = format_reply(hours_answer.text, (), PROFILES[channel])
    lines = message.text.splitlines()
    assert lines[0] == "Our opening hours are:"
    assert lines[1:4] == ["• Monday to Friday: 9am–6pm", "• Saturday: 9am–1pm", "• Sunday: closed"]


def test_the_widget_gets_markdown_list_lines(hours_answer: faq.Answer) -> None:
    """The widget (socket.io) receives the text as written; widget.js renders `- ` lines as <ul>."""
    text = render_markup(hours_answer.text, "markdown")
    assert "\n- Monday to Friday: 9am–6pm\n- Saturday: 9am–1pm\n- Sunday: closed" in text


@pytest.mark.parametrize("channel", ["telegram", "slack", "facebook", "sms", "whatsapp"])
def test_prices_are_a_list_with_buttons_where_the_channel_has_them(
    channel: str, faq_database: str, clinic: Clinic
) -> None:
    [answer] = faq.answers_for(
        faq_database, questions_asked("ask_clinic_info", {}, "prices"), clinic
    )
    buttons = [{"title": b.title, "payload": b.payload} for b in answer.buttons]
    messages = format_reply(answer.text, buttons, PROFILES[channel])
    text = "\n".join(m.text for m in messages)
    items = [line for line in text.splitlines() if line.startswith("• ")]
    assert items[0] == "• Back massage (30 minutes): £35"
    assert len(items) == len(clinic.services)
    if PROFILES[channel].native_buttons:
        assert messages[-1].buttons
    else:
        assert "1. Book an appointment" in text
