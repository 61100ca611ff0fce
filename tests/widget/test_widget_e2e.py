"""The widget against the trained bot (Rasa + action server from tests/conftest.py).

The stub-bot tests next to this file pin the widget's behaviour exactly; these check that it
holds with the real answers: an FAQ question, a follow-up quick reply, a reload, a booking.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.browser import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

BOT = ".mb-msg.mb-bot"


def settle(page: Any, before: int, timeout: float = 60.0, quiet: float = 2.5) -> None:
    """Wait until the bot has answered (more bot messages than `before`) and gone quiet:
    Rasa sends a turn's messages one by one with no end marker."""
    deadline = time.monotonic() + timeout
    last_count, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = page.locator(BOT).count()
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        elif count > before and time.monotonic() - last_change >= quiet:
            return
        time.sleep(0.2)
    raise AssertionError(f"the bot did not answer (bot messages: {last_count}, before: {before})")


def say(page: Any, text: str) -> None:
    before = page.locator(BOT).count()
    page.get_by_label("Your message").fill(text)
    page.keyboard.press("Enter")
    settle(page, before)


def click(page: Any, button: Any) -> None:
    before = page.locator(BOT).count()
    button.click()
    settle(page, before)


def open_chat(page: Any, url: str) -> None:
    page.goto(url + "/webchat/")
    page.get_by_role("button", name="Chat with us").click()
    settle(page, 0)  # the greeting
    expect(page.get_by_role("status").first).to_have_text("Connected")


def test_faq_quick_reply_and_reload(page: Any, bot_server: Any) -> None:
    open_chat(page, bot_server.url)
    say(page, "does back massage help with blood circulation?")
    log = page.get_by_role("log")
    expect(log).to_contain_text(re.compile("circulation|blood", re.I))
    disclaimer = log.locator(f"{BOT} em").filter(has_text=re.compile("not medical advice", re.I))
    expect(disclaimer.last).to_be_visible()  # _italic_ rendered, no stray underscores

    follow_up = log.locator(".mb-choice:enabled").last
    title = follow_up.inner_text().strip()
    click(page, follow_up)
    chosen = log.locator(".mb-choice.mb-chosen").last
    expect(chosen).to_have_attribute("aria-pressed", "true")
    expect(chosen).to_contain_text(title)
    expect(log.locator(".mb-user").last).to_have_text(f"You said:{title}")
    screenshot(page, "e2e-widget-faq")

    count = log.locator(".mb-msg").count()
    page.reload()
    log = page.get_by_role("log")
    expect(log.locator(".mb-msg")).to_have_count(count)
    expect(log.locator(".mb-choice.mb-chosen").last).to_contain_text(title)
    expect(page.get_by_role("status").first).to_have_text("Connected")
    say(page, "thank you")
    assert log.locator(".mb-msg").count() > count + 1


def test_complete_a_booking(page: Any, bot_server: Any) -> None:
    open_chat(page, bot_server.url)
    say(page, "I'd like to book a back massage")
    log = page.get_by_role("log")
    for _ in range(12):
        turn_text = log.locator(BOT).last.inner_text().lower()
        if "reference is" in turn_text:
            break
        buttons = log.locator(BOT).last.locator(".mb-choice:enabled")
        titles = [t.strip().lower() for t in buttons.all_inner_texts()]
        if "shall i book" in turn_text and "yes" in titles:
            click(page, buttons.nth(titles.index("yes")))
        elif "booking under" in turn_text:
            say(page, "Sarah Jones")
        elif "phone number or e-mail" in turn_text:
            say(page, "07911 123456")
        elif "therapist should know" in turn_text:
            if "nothing to add" in titles:
                click(page, buttons.nth(titles.index("nothing to add")))
            else:
                say(page, "nothing to add")
        elif titles:
            usable = [i for i, t in enumerate(titles) if "person" not in t]
            click(page, buttons.nth(usable[0] if usable else 0))
        else:
            say(page, "next Wednesday at 11am")
    expect(log.locator(BOT).last).to_contain_text("reference is")
    screenshot(page, "e2e-widget-booking")
