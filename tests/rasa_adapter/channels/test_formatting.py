"""Replies fitted to each channel: limits, buttons vs numbered options, markup, choices."""

from __future__ import annotations

import pytest

from bot.rasa_adapter.channels.formatting import (
    PROFILES,
    Button,
    format_reply,
    numbered_options,
    render_markup,
    resolve_reply,
    split_text,
    utf16_len,
)

BUTTONS = [
    {"title": "Benefits of massage", "payload": "/ask_benefits"},
    {"title": "Book an appointment", "payload": "/schedule_appointment"},
]


def test_short_text_is_one_chunk() -> None:
    assert split_text("  Hello there.  ", 100) == ["Hello there."]


def test_empty_text_has_no_chunks() -> None:
    assert split_text("   ", 10) == []


@pytest.mark.parametrize("limit", [50, 160, 1600, 4096])
def test_chunks_never_exceed_the_limit_and_keep_every_word(limit: int) -> None:
    text = " ".join(f"word{i}." if i % 7 == 0 else f"word{i}" for i in range(2000))
    chunks = split_text(text, limit)
    assert all(utf16_len(chunk) <= limit for chunk in chunks)
    assert " ".join(chunks).split() == text.split()


def test_split_prefers_paragraphs_then_sentences() -> None:
    first = "First paragraph is here. " * 3
    second = "Second one follows."
    chunks = split_text(f"{first.strip()}\n\n{second}", len(first) + 5)
    assert chunks == [first.strip(), second]
    sentences = "One sentence here. Another sentence there. A third one ends it."
    assert split_text(sentences, 45) == [
        "One sentence here. Another sentence there.",
        "A third one ends it.",
    ]


def test_unbroken_run_is_cut_hard() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_emoji_count_as_two_units() -> None:
    chunks = split_text("😀" * 10, 8)
    assert chunks == ["😀" * 4, "😀" * 4, "😀" * 2]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_text("x", 0)


def test_sms_gets_numbered_options_after_the_text() -> None:
    [message] = format_reply("What would you like to know?", BUTTONS, "sms")
    assert message.buttons == ()
    assert message.text == (
        "What would you like to know?\n\n1. Benefits of massage\n2. Book an appointment\n"
        "Reply with the number of your choice."
    )


def test_whatsapp_numbers_options_and_keeps_bold() -> None:
    [message] = format_reply("**Massage** helps.", BUTTONS, "whatsapp")
    assert message.text.startswith("*Massage* helps.")
    assert "2. Book an appointment" in message.text


def test_native_buttons_ride_on_the_last_chunk_only() -> None:
    long = "A sentence about massage. " * 300  # ~7800 characters
    messages = format_reply(long, BUTTONS, "telegram")
    assert len(messages) == 2
    assert all(utf16_len(m.text) <= 4096 for m in messages)
    assert messages[0].buttons == ()
    assert [b.payload for b in messages[-1].buttons] == ["/ask_benefits", "/schedule_appointment"]


def test_long_sms_is_split_at_1600() -> None:
    messages = format_reply("Word " * 1000, BUTTONS, "sms")
    assert len(messages) == 4
    assert all(len(m.text) <= 1600 for m in messages)
    assert messages[-1].text.endswith("Reply with the number of your choice.")


def test_facebook_titles_are_cut_to_twenty_characters_but_payload_kept() -> None:
    buttons = [
        {"title": "Book a deep tissue massage for Friday", "payload": "/schedule_appointment"}
    ]
    [message] = format_reply("When?", buttons, "facebook")
    assert len(message.buttons[0].title) <= 20
    assert message.buttons[0].title.endswith("…")
    assert message.buttons[0].payload == "/schedule_appointment"


def test_too_many_buttons_fall_back_to_numbers() -> None:
    buttons = [{"title": f"Option {i}", "payload": f"/choose{i}"} for i in range(14)]
    [message] = format_reply("Pick one", buttons, PROFILES["facebook"])
    assert message.buttons == ()
    assert "14. Option 13" in message.text


def test_buttons_without_text_still_get_a_message() -> None:
    [message] = format_reply("", BUTTONS, "telegram")
    assert message.text and len(message.buttons) == 2
    [sms] = format_reply("", BUTTONS, "sms")
    assert sms.text.startswith("1. Benefits of massage")


def test_slack_markup_escapes_and_links() -> None:
    text = "**Bold** & <b>not html</b> see [our site](https://example.org)\n- item"
    assert render_markup(text, "slack") == (
        "*Bold* &amp; &lt;b&gt;not html&lt;/b&gt; see <https://example.org|our site>\n• item"
    )


def test_plain_markup_spells_links_out() -> None:
    text = "**Bold** see [our site](https://example.org) or [https://x.org](https://x.org)\n* item"
    assert render_markup(text, "plain") == (
        "Bold see our site (https://example.org) or https://x.org\n• item"
    )
    assert render_markup(text, "markdown") == text


def test_numbered_options_without_hint() -> None:
    assert numbered_options([Button("Yes", "/affirm"), Button("No", "/deny")], hint="") == (
        "1. Yes\n2. No"
    )


@pytest.mark.parametrize(
    ("answer", "payload"),
    [
        ("1", "/ask_benefits"),
        (" 2 ", "/schedule_appointment"),
        ("2.", "/schedule_appointment"),
        ("#1", "/ask_benefits"),
        ("option 2", "/schedule_appointment"),
        ("book an APPOINTMENT", "/schedule_appointment"),
        ("3", None),
        ("0", None),
        ("I have 2 questions", None),
        ("", None),
    ],
)
def test_resolve_reply(answer: str, payload: str | None) -> None:
    assert resolve_reply(answer, BUTTONS) == payload


def test_resolve_reply_without_options() -> None:
    assert resolve_reply("1", []) is None


def test_italic_underscores() -> None:
    text = "_Not medical advice._ Keep snake_case and __dunder__ as they are."
    assert render_markup(text, "plain") == (
        "Not medical advice. Keep snake_case and __dunder__ as they are."
    )
    assert render_markup(text, "whatsapp") == text
    assert render_markup(text, "slack") == text  # Slack mrkdwn has the same _italic_
